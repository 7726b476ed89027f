#!/usr/bin/python3
"""gen_program.py — random, typed, terminating procedure programs for differential testing.

Every program checks clean and ends: loops are bounded ranges or counted `while`s, recursion is
bounded by a decreasing argument, and nothing waits for anything external. The programs cover
ints (with overflow and division errors), floats, bools, durations, strings (ASCII, methods,
interpolation), lists and maps (with index and key errors), records, json, functions with
defaults, if/while/for, break/continue, templates, try/catch/throw/fail and tasks (async, wait,
sleep of a few milliseconds). Runtime errors are mostly caught and printed (`err.kind`,
`err.message`, `err.code`), sometimes left to end the program.

    gen_program.py [--api] SEED            prints the program for SEED
    gen_program.py [--api] SEED OUT.cfp    writes it

With --api the programs also call the procedure API (API.md "Cloud"; no manager, so each call
raises the "cloud" error `no_manager`, caught and printed with its code); the reference
interpreter does not know the API, so only engine-against-engine runs use it.

The same seed gives the same program on every machine (random.Random(seed), no set order).
"""
import random
import sys

INT, FLOAT, BOOL, STR, DUR = 'int', 'float', 'bool', 'string', 'duration'
LINT, LSTR, MSI, JSON = 'list<int>', 'list<string>', 'map<string, int>', 'json'
WORDS = ['alpha', 'beta', 'gamma', 'delta', 'web', 'db', 'app', 'lb', 'x', 'node-1', 'A b', '']


SYS_LIT = ('BusinessSystem { name: "shop", id: "", description: "", elements: [], vm_classes: [], '
           'templates: [], properties: {}, element_instances: [], vm_instances: [] }')
VM_LIT = ('VMInstance { id: "i-1", vm_class: "c", cloud: "a", state: "running", private_address: "", '
          'public_address: "", volumes: [] }')


class Gen:
    def __init__(self, seed, api=False):
        self.r = random.Random(seed)
        self.api = api      # also calls of the procedure API (no manager: "cloud" errors)
        self.lines = []
        self.indent = 0
        self.counter = 0
        self.fns = []       # (name, params [(name, type, default)], ret)
        self.readonly = set()  # parameters and loop variables: read, never assigned
        self.records = []   # (name, [(field, type)])
        self.templates = []  # (name, params)

    # ---- helpers ----
    def emit(self, s):
        self.lines.append('  ' * self.indent + s)

    def fresh(self, prefix='v'):
        self.counter += 1
        return f'{prefix}{self.counter}'

    def chance(self, p):
        return self.r.random() < p

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    # ---- expressions by type; `scope` maps names to types ----
    def vars_of(self, scope, t):
        return [n for n, ty in scope.items() if ty == t]

    def int_lit(self):
        return str(self.pick([0, 1, 2, 3, 5, 7, 10, 42, 100, 1000, -1, -7, 2**31, 9223372036854775807]))

    def expr(self, t, scope, depth=0):
        vs = self.vars_of(scope, t)
        if vs and self.chance(0.4):
            return self.pick(vs)
        leaf = depth >= 3 or self.chance(0.3)
        r = self.r
        if t == INT:
            if leaf:
                return self.int_lit()
            k = r.randrange(9)
            a, b = self.expr(INT, scope, depth + 1), self.expr(INT, scope, depth + 1)
            if k < 4:
                return f'({a} {self.pick(["+", "-", "*", "+"])} {b})'
            if k == 4:
                return f'({a} {self.pick(["/", "%"])} {b})'
            if k == 5:
                return f'len({self.expr(self.pick([STR, LINT, LSTR, MSI]), scope, depth + 1)})'
            if k == 6 and self.fns:
                cands = [f for f in self.fns if f[2] == INT]
                if cands:
                    return self.call(self.pick(cands), scope, depth)
            if k == 7:
                return f'{self.expr(LINT, scope, depth + 1)}[{self.expr(INT, scope, depth + 1)} % 4]'
            if k == 8:
                return f'int({self.expr(FLOAT, scope, depth + 1)})'
            return f'(-{a})'
        if t == FLOAT:
            if leaf:
                return self.pick(['0.5', '1.25', '3.0', '-2.5', '1e3', '0.1'])
            a, b = self.expr(FLOAT, scope, depth + 1), self.expr(FLOAT, scope, depth + 1)
            return self.pick([f'({a} + {b})', f'({a} * {b})', f'({a} - {b})', f'float({self.expr(INT, scope, depth + 1)})'])
        if t == BOOL:
            if leaf:
                return self.pick(['true', 'false'])
            k = r.randrange(6)
            if k == 0:
                return f'({self.expr(INT, scope, depth + 1)} {self.pick(["<", "<=", "==", "!=", ">", ">="])} {self.expr(INT, scope, depth + 1)})'
            if k == 1:
                return f'({self.expr(BOOL, scope, depth + 1)} {self.pick(["&&", "||"])} {self.expr(BOOL, scope, depth + 1)})'
            if k == 2:
                return f'!{self.expr(BOOL, scope, depth + 1)}'
            if k == 3:
                return f'{self.expr(STR, scope, depth + 1)}.contains({self.expr(STR, scope, depth + 1)})'
            if k == 4:
                return f'{self.expr(MSI, scope, depth + 1)}.has({self.expr(STR, scope, depth + 1)})'
            return f'({self.expr(STR, scope, depth + 1)} == {self.expr(STR, scope, depth + 1)})'
        if t == DUR:
            if leaf:
                return self.pick(['1ms', '250ms', '2s', '1m', '-5s', '0ms'])
            return self.pick([f'({self.expr(DUR, scope, depth + 1)} + {self.expr(DUR, scope, depth + 1)})',
                              f'({self.expr(INT, scope, depth + 1)} * 1s)'])
        if t == STR:
            if leaf:
                return '"' + self.pick(WORDS) + '"'
            k = r.randrange(7)
            if k == 0:
                return f'({self.expr(STR, scope, depth + 1)} + {self.expr(STR, scope, depth + 1)})'
            if k == 1:
                return f'"{self.pick(WORDS)}-${{{self.expr(self.pick([INT, STR, BOOL, LINT, FLOAT, DUR]), scope, depth + 1)}}}"'
            if k == 2:
                return f'str({self.expr(self.pick([INT, FLOAT, BOOL, DUR, LINT, LSTR, MSI]), scope, depth + 1)})'
            if k == 3:
                return f'{self.expr(STR, scope, depth + 1)}.{self.pick(["upper()", "lower()", "trim()"])}'
            if k == 4:
                return f'{self.expr(LSTR, scope, depth + 1)}.join("{self.pick([",", "-", ""])}")'
            if k == 5 and self.templates:
                name, params = self.pick(self.templates)
                return f'{name}({self.expr(STR, scope, depth + 1)}, {self.expr(LSTR, scope, depth + 1)}, ({self.expr(INT, scope, depth + 1)}) % 5)'
            return f'{self.expr(STR, scope, depth + 1)}.replace("{self.pick(["a", "e", "-"])}", "{self.pick(["_", "", "AA"])}")'
        if t == LINT:
            if leaf:
                return '[' + ', '.join(self.int_lit() for _ in range(r.randrange(1, 5))) + ']'
            return self.pick([f'({self.expr(LINT, scope, depth + 1)} + {self.expr(LINT, scope, depth + 1)})',
                              '[' + ', '.join(self.expr(INT, scope, depth + 1) for _ in range(r.randrange(1, 4))) + ']',
                              f'{self.expr(MSI, scope, depth + 1)}.values()'])
        if t == LSTR:
            if leaf:
                return '[' + ', '.join('"' + self.pick(WORDS) + '"' for _ in range(r.randrange(1, 4))) + ']'
            return self.pick([f'{self.expr(STR, scope, depth + 1)}.split("{self.pick(["-", " ", "a"])}")',
                              f'{self.expr(MSI, scope, depth + 1)}.keys()',
                              '[' + ', '.join(self.expr(STR, scope, depth + 1) for _ in range(r.randrange(1, 3))) + ']'])
        if t == MSI:
            keys = r.sample(WORDS, r.randrange(1, 4))
            return '{' + ', '.join(f'"{k}": {self.expr(INT, scope, depth + 1)}' for k in keys) + '}'
        if t == JSON:
            if leaf:
                # json literals need a json context; parse_json gives one anywhere
                return 'parse_json("' + self.pick(['null', '1', '\\"s\\"', '[1, \\"two\\", true]',
                                                   '{\\"a\\": 1, \\"b\\": [2, 3]}']) + '")'
            return self.pick(['parse_json("[1, {\\"k\\": 2}]")',
                              f'to_json({self.expr(self.pick([INT, STR, LINT, MSI]), scope, depth + 1)})'])
        if t.startswith('rec:'):
            name = t[4:]
            fields = dict(self.records)[name]
            return f'{name} {{ ' + ', '.join(f'{f}: {self.expr(ft, scope, depth + 1)}' for f, ft in fields) + ' }'
        raise ValueError(t)

    def call(self, fn, scope, depth):
        """Required parameters by position; each defaulted one left out or given by name."""
        name, params, _ = fn
        args = []
        for pn, pt, default in params:
            if default is None:
                args.append(self.expr(pt, scope, depth + 1))
            elif self.chance(0.5):
                args.append(f'{pn}: {self.expr(pt, scope, depth + 1)}')
        return f'{name}(' + ', '.join(args) + ')'

    # ---- statements ----
    def block(self, scope, depth, ret, n=None, in_loop=False):
        scope = dict(scope)
        for _ in range(n if n is not None else self.r.randrange(1, 5)):
            self.stmt(scope, depth, ret, in_loop)
        return scope

    def stmt(self, scope, depth, ret, in_loop):
        r = self.r
        k = r.randrange(14)
        if k <= 2 or depth >= 3:
            t = self.pick([INT, STR, LINT, MSI, BOOL, FLOAT, DUR, LSTR] + [f'rec:{n}' for n, _ in self.records])
            name = self.fresh()
            self.emit(f'var {name}: {t[4:] if t.startswith("rec:") else t} = {self.expr(t, scope)};')
            scope[name] = t
            return
        if k == 3:
            t = self.pick([INT, STR, BOOL, LINT, MSI, FLOAT, DUR, JSON] + [f'rec:{n}' for n, _ in self.records])
            self.emit(f'print({self.expr(t, scope)});')
            return
        if k == 4:
            ints = [v for v in self.vars_of(scope, INT) if v not in self.readonly]
            if ints:
                self.emit(f'{self.pick(ints)} {self.pick(["=", "+=", "-=", "*="])} {self.expr(INT, scope)};')
                return
        if k == 5:
            ls = [v for v in self.vars_of(scope, LINT) if v not in self.readonly]
            if ls:
                l = self.pick(ls)
                self.emit(self.pick([f'{l}.push({self.expr(INT, scope)});',
                                     f'{l}[{self.expr(INT, scope)} % 3] = {self.expr(INT, scope)};',
                                     f'print({l}.pop());']))
                return
        if k == 6:
            ms = [v for v in self.vars_of(scope, MSI) if v not in self.readonly]
            if ms:
                m = self.pick(ms)
                self.emit(self.pick([f'{m}[{self.expr(STR, scope)}] = {self.expr(INT, scope)};',
                                     f'{m}[{self.expr(STR, scope)}] += 1;',
                                     f'{m}.remove({self.expr(STR, scope)});',
                                     f'print({m}[{self.expr(STR, scope)}]);']))
                return
        if k == 7:
            self.emit(f'if {self.expr(BOOL, scope)} {{')
            self.indent += 1
            self.block(scope, depth + 1, ret, in_loop=in_loop)
            self.indent -= 1
            if self.chance(0.5):
                self.emit('} else {')
                self.indent += 1
                self.block(scope, depth + 1, ret, in_loop=in_loop)
                self.indent -= 1
            self.emit('}')
            return
        if k == 8:
            i = self.fresh('i')
            self.emit(f'for {i} in {self.pick(["0", "1", "-2"])}..{r.randrange(0, 6)} {{')
            self.indent += 1
            s2 = dict(scope)
            s2[i] = INT
            self.readonly.add(i)
            self.block_loop(s2, i, depth, ret)
            self.indent -= 1
            self.emit('}')
            return
        if k == 9:
            l = self.fresh('x')
            src = self.pick([LSTR, LINT])
            self.emit(f'for {l} in {self.expr(src, scope)} {{')
            self.indent += 1
            s2 = dict(scope)
            s2[l] = STR if src == LSTR else INT
            self.readonly.add(l)
            self.block_loop(s2, l, depth, ret)
            self.indent -= 1
            self.emit('}')
            return
        if k == 10:
            c = self.fresh('n')
            self.emit(f'var {c} = 0;')
            self.emit(f'while {c} < {r.randrange(1, 5)} {{')
            self.indent += 1
            self.emit(f'{c} += 1;')
            s2 = dict(scope)
            s2[c] = 'counter'
            self.block(s2, depth + 1, ret, n=r.randrange(1, 3), in_loop=True)
            self.indent -= 1
            self.emit('}')
            return
        if k == 11:
            e = self.fresh('e')
            self.emit('try {')
            self.indent += 1
            self.block(scope, depth + 1, ret, in_loop=in_loop)
            if self.chance(0.3):
                self.emit(self.pick([f'throw {self.expr(STR, scope)};', f'fail({self.expr(STR, scope)});']))
            if self.api and self.chance(0.5):
                self.emit(self.api_call(scope))
            self.indent -= 1
            self.emit(f'}} catch {e} {{')
            self.indent += 1
            # err.code is "" for every error these programs raise (API.md "Errors"); printed so
            # that both engines and the reference agree on it.
            self.emit(f'print("caught " + {e}.kind + " [" + {e}.code + "]: " + {e}.message);')
            self.indent -= 1
            self.emit('}')
            return
        if k == 12 and in_loop:
            self.emit(f'if {self.expr(BOOL, scope)} {{ {self.pick(["break", "continue"])}; }}')
            return
        if k == 13 and depth == 0:
            # a task: an async call of a function or a block, waited for
            t = self.fresh('t')
            if self.fns and self.chance(0.5):
                fn = self.pick(self.fns)
                self.emit(f'let {t} = async {self.call(fn, scope, 1)};')
                if fn[2] == 'void':
                    self.emit(f'wait({t});')
                else:
                    self.emit(f'print(wait({t}));')
            else:
                self.emit(f'let {t} = async {{')
                self.indent += 1
                self.emit(f'sleep({r.randrange(0, 4)}ms);')
                self.emit(f'print({self.expr(self.pick([INT, STR, LINT]), scope)});')
                self.indent -= 1
                self.emit('};')
                self.emit(f'wait({t});')
            return
        self.emit(f'print({self.expr(STR, scope)});')

    def block_loop(self, scope, var, depth, ret):
        self.block(scope, depth + 1, ret, n=self.r.randrange(1, 4), in_loop=True)

    # ---- declarations ----
    def record(self):
        name = 'R' + str(len(self.records) + 1)
        fields = [(f'f{i}', self.pick([INT, STR, LINT, BOOL])) for i in range(self.r.randrange(1, 4))]
        self.records.append((name, fields))
        self.emit(f'record {name} {{ ' + ', '.join(f'{f}: {t}' for f, t in fields) + ' }')

    def template(self):
        name = f'tpl{len(self.templates) + 1}'
        params = [('name', STR), ('items', LSTR), ('n', INT)]
        self.emit(f'template {name}(name: string, items: list<string>, n: int) """')
        body = self.pick([
            '<{{ name }}>{% for s in items %}[{{ s }}]{% end %}',
            '{% if n > 2 %}big {{ n }}{% else if n < 0 %}negative{% else %}small{% end %} {{ name.upper() }}',
            '{% for i in 0..n %}{{ i }},{% end %}|{{ len(items) }}',
        ])
        self.lines.append(body + '"""')
        self.templates.append((name, params))

    def function(self):
        name = f'f{len(self.fns) + 1}'
        ret = self.pick([INT, STR, 'void'])
        params = []
        for i in range(self.r.randrange(0, 3)):
            pt = self.pick([INT, STR, LINT])
            # defaults may not call functions or templates: literals only
            lit = {INT: self.int_lit, STR: lambda: '"' + self.pick(WORDS) + '"', LINT: lambda: '[1, 2]'}[pt]
            default = lit() if self.chance(0.3) else None
            if params and params[-1][2] is not None and default is None:
                default = lit()
            params.append((f'p{i}', pt, default))
        sig = ', '.join(f'{p}: {t}' + (f' = {d}' if d is not None else '') for p, t, d in params)
        self.emit(f'fn {name}({sig})' + ('' if ret == 'void' else f' -> {ret}') + ' {')
        self.indent += 1
        scope = {p: t for p, t, _ in params}
        self.readonly.update(scope)
        self.block(scope, 1, ret, n=self.r.randrange(1, 3))
        if ret != 'void':
            self.emit(f'return {self.expr(ret, scope)};')
        self.indent -= 1
        self.emit('}')
        self.fns.append((name, params, ret))

    def api_call(self, scope):
        """A statement calling an API function (API.md "Cloud"), with defaults or named
        arguments; run without a manager it raises the "cloud" error with code no_manager."""
        return self.pick([
            f'print(run_vm({SYS_LIT}, {self.expr(STR, scope)}));',
            f'print(run_vm(timeout: {self.expr(DUR, scope)}, sys: {SYS_LIT}, element: "web"));',
            f'terminate_vm({VM_LIT}, timeout: {self.expr(DUR, scope)});',
            f'print(attach_volume({VM_LIT}, {self.expr(INT, scope)}));',
            f'print(attach_volume({VM_LIT}, 1, volume: {self.expr(STR, scope)}));',
            f'print(associate_address({VM_LIT}));',
            f'print(reload({SYS_LIT}));',
            f'print(set_property({SYS_LIT}, {self.expr(STR, scope)}, {self.expr(self.pick([INT, LSTR, JSON]), scope)}));',
            'print(this_manager());',
            'print(this_cloud());',
        ])

    def program(self):
        self.emit(f'// generated by tests/random/gen_program.py')
        for _ in range(self.r.randrange(0, 3)):
            self.record()
        for _ in range(self.r.randrange(0, 2)):
            self.template()
        for _ in range(self.r.randrange(1, 4)):
            self.function()
        self.emit('procedure main() {')
        self.indent += 1
        self.block({}, 0, 'void', n=self.r.randrange(4, 12))
        self.indent -= 1
        self.emit('}')
        return '\n'.join(self.lines) + '\n'


def main():
    args = sys.argv[1:]
    api = '--api' in args
    args = [a for a in args if a != '--api']
    if not args:
        sys.exit(__doc__)
    text = Gen(int(args[0]), api=api).program()
    if len(args) > 1:
        with open(args[1], 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
