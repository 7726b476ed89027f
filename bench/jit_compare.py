#!/usr/bin/env python3
"""jit_compare.py — the JIT (`cfmc run --engine jit`) on the interpreter benchmarks' programs
(fib(35), the 20-million-step integer loop, maps, strings, a template with a 1,000-entry loop)
and fib(42), against C (gcc -O2, and clang -O2 when installed), the interpreter, Lua 5.4,
LuaJIT and Jinja2; then the JIT's compile latency at --opt 0/1/2 (`cfmc run --time`) on those
programs and a 1,000-line file. Whole processes (the C programs are compiled once, into a
temporary directory, before timing). Every program runs RUNS times side by side (interleaved,
so that machine noise hits all of them alike); medians and ratios are printed, and the outputs
must agree. `jit` rows pass --no-cache (compile included), `jit+cache` rows run with the object
cache warm; the last section measures the cache: fib.cfp and a 1,000-line file
(bench/gen_program.py) with a cold cache (emptied before each run) against a warm one.

  /usr/bin/python3 bench/jit_compare.py [RUNS]     (default 5; run from the project root)

Goals (issue 5): JIT at most 1.5x the time of the C version on fib(42) and the loop (jit/c <=
1.5), template rendering at least 20x Jinja2, compile latency of 1,000 lines under 100 ms at
the default level."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P = os.path.join(ROOT, 'bench', 'programs')
CFMC = os.environ.get('CFMC', os.path.join(ROOT, 'build', 'bin', 'cfmc'))
LUA = shutil.which('lua5.4')
LUAJIT = shutil.which('luajit')
GCC = shutil.which('gcc')
CLANG = shutil.which('clang')  # optional: LLVM's own code for the same C, a second native baseline
PY = '/usr/bin/python3'        # Debian's python3, where python3-jinja2 is installed


def timed(cmd, env=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f'{cmd} failed: {r.stderr[:500]}')
    return dt, r


def cache_rows(tmp):
    """Whole-process time of `cfmc run --engine jit` with a cold object cache (emptied before each
    run: lower, optimise, codegen, store), a warm one (cfmc runs the cached object itself, the
    engine and LLVM not loaded) and a warm one through the engine (CFM_JIT_LIGHT=0: load the
    engine, lower, then link the cached object)."""
    big = os.path.join(tmp, 'big.cfp')  # written by main's latency section
    cache = os.path.join(tmp, 'cache')
    env = dict(os.environ, CFM_CACHE_DIR=cache)
    print('\nobject cache (s, medians, whole processes at --opt 2): cold = cache emptied before each run, '
          'warm = the object cached (run without loading the engine), warm-engine = the same through the '
          'engine (CFM_JIT_LIGHT=0); --no-cache for reference')
    for title, path in (('fib.cfp', os.path.join(P, 'fib.cfp')), ('1,000 lines', big)):
        times = {'cold': [], 'warm': [], 'warm-engine': [], 'no-cache': []}
        outs = set()
        for _ in range(RUNS):
            for kind in times:
                if kind == 'cold':
                    shutil.rmtree(cache, ignore_errors=True)
                extra = ['--no-cache'] if kind == 'no-cache' else []
                t = time.perf_counter()
                r = subprocess.run([CFMC, 'run', '--engine', 'jit', '--time', *extra, path], capture_output=True,
                                   text=True, env=dict(env, CFM_JIT_LIGHT='0') if kind == 'warm-engine' else env)
                dt = time.perf_counter() - t
                if r.returncode != 0:
                    sys.exit(f'{path} failed: {r.stderr[:500]}')
                hit = 'object cache hit' in r.stderr
                light = 'LLVM not loaded' in r.stderr
                if hit != kind.startswith('warm') or light != (kind == 'warm'):
                    sys.exit(f'{title} {kind}: cache hit {hit}, engine not loaded {light}')
                times[kind].append(dt)
                outs.add(r.stdout)
        if len(outs) != 1:
            sys.exit(f'{title}: outputs differ between cold and warm runs')
        m = {k: statistics.median(v) for k, v in times.items()}
        print(f'  {title:12} cold {m["cold"]:.3f}  warm {m["warm"]:.3f}  warm-engine {m["warm-engine"]:.3f}  '
              f'no-cache {m["no-cache"]:.3f}   warm/cold {m["warm"] / m["cold"]:.2f}  '
              f'saved {1000 * (m["cold"] - m["warm"]):.1f} ms (through the engine '
              f'{1000 * (m["cold"] - m["warm-engine"]):.1f} ms)')


def variant(tmp, name, ext, old, new):
    """A copy of bench/programs/NAME.EXT in tmp with `old` replaced by `new` (fib(35) -> fib(42))."""
    with open(os.path.join(P, name + ext)) as f:
        text = f.read()
    assert old in text
    path = os.path.join(tmp, name + '42' + ext)
    with open(path, 'w') as f:
        f.write(text.replace(old, new))
    return path


def main():
    if not os.path.exists(CFMC):
        sys.exit(f'build cfmc first ({CFMC}; set CFMC=... for another build)')
    if not GCC or not LUA:
        sys.exit('gcc and lua5.4 are needed (scripts/bootstrap.sh installs them)')
    with tempfile.TemporaryDirectory() as tmp:
        warm_env = dict(os.environ, CFM_CACHE_DIR=os.path.join(tmp, 'warm-cache'))
        src = {'fib': os.path.join(P, 'fib'), 'loop': os.path.join(P, 'loop'),
               'fib42': os.path.join(tmp, 'fib42')}
        variant(tmp, 'fib', '.cfp', 'fib(35)', 'fib(42)')
        variant(tmp, 'fib', '.c', 'fib(35)', 'fib(42)')
        variant(tmp, 'fib', '.lua', 'fib(35)', 'fib(42)')
        binaries = {}
        for name in ('fib', 'loop', 'fib42'):
            for cc in ('gcc', 'clang'):
                exe = os.path.join(tmp, f'{name}-{cc}')
                if cc == 'gcc' or CLANG:
                    subprocess.run([GCC if cc == 'gcc' else CLANG, '-O2', '-o', exe, src[name] + '.c'], check=True)
                    binaries[(name, cc)] = exe

        def jit_rows(path):
            # compile included (--no-cache), and with the object cache warm (filled by a first run)
            subprocess.run([CFMC, 'run', path], env=warm_env, capture_output=True, check=True)
            return [('jit', [CFMC, 'run', '--engine', 'jit', '--no-cache', path], None),
                    ('jit+cache', [CFMC, 'run', '--engine', 'jit', path], warm_env)]

        def native(name):
            rows = [('c', [binaries[(name, 'gcc')]], None)]
            if CLANG:
                rows.append(('clang', [binaries[(name, 'clang')]], None))
            return rows

        def luas(path, plain=True):
            rows = [('lua5.4', [LUA, path], None)] if plain else []
            if LUAJIT:
                rows.append(('luajit', [LUAJIT, path], None))
            return rows

        interp = lambda path: [('interp', [CFMC, 'run', '--engine', 'interp', path], None)]
        cases = [
            ('fib(35)', jit_rows(src['fib'] + '.cfp') + native('fib') + interp(src['fib'] + '.cfp') +
             luas(src['fib'] + '.lua')),
            # the goal case; the interpreter and Lua 5.4 take half a minute a run here
            ('fib(42)', jit_rows(src['fib42'] + '.cfp') + native('fib42') + luas(src['fib42'] + '.lua', False)),
            ('integer loop', jit_rows(src['loop'] + '.cfp') + native('loop') + interp(src['loop'] + '.cfp') +
             luas(src['loop'] + '.lua')),
        ]
        for name in ('maps', 'strings'):
            path = os.path.join(P, name)
            cases.append((name, jit_rows(path + '.cfp') + interp(path + '.cfp') + luas(path + '.lua')))
        tpl = os.path.join(P, 'template')
        cases.append(('template x300', jit_rows(tpl + '.cfp') + interp(tpl + '.cfp') +
                      [('jinja2', [PY, os.path.join(P, 'template_jinja.py')], None)]))

        print(f'median of {RUNS} interleaved runs (s), whole processes; jit = compile included (--no-cache), '
              'jit+cache = the object cache warm; ratios < 1 mean the JIT is faster')
        for title, impls in cases:
            times = {n: [] for n, _, _ in impls}
            outs = {}
            for _ in range(RUNS):
                for n, c, env in impls:
                    dt, r = timed(c, env)
                    times[n].append(dt)
                    outs[n] = r.stdout.strip()
            if len(set(outs.values())) != 1:
                sys.exit(f'{title}: outputs differ: {outs}')
            med = {n: statistics.median(v) for n, v in times.items()}
            cells = '  '.join(f'{n} {med[n]:.3f}' for n in med)
            ratios = '  '.join(f'jit/{n} {med["jit"] / med[n]:.2f}' for n in med if n != 'jit')
            print(f'{title:14} {cells}\n{"":14} {ratios}')
        print('goals (issue 5): jit/c <= 1.5 on fib(42) and the integer loop; jit/jinja2 <= 0.05 (20x)')

        # Compile latency: what `cfmc run --time` reports for lowering, optimising and codegen,
        # and the whole process against the interpreter's on a trivial program.
        print('\nJIT compile latency (ms, medians, --no-cache): front end + lower + optimize + codegen = total '
              '(linking the object is part of the run); startup = whole process of a hello-world, jit vs interp')
        hello = os.path.join(tmp, 'hello.cfp')
        with open(hello, 'w') as f:
            f.write('procedure main() { print("hello"); }\n')
        big = os.path.join(tmp, 'big.cfp')
        with open(big, 'w') as f:
            subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'gen_program.py'), '1000'], stdout=f,
                           check=True)
        latency = [(n + '.cfp', os.path.join(P, n + '.cfp')) for n in ('fib', 'loop', 'template')]
        for title, path in latency + [('1,000 lines', big)]:
            for level in ('0', '1', '2'):
                parts = {'front end': [], 'lower': [], 'optimize': [], 'codegen': []}
                for _ in range(RUNS):
                    _, r = timed([CFMC, 'run', '--engine', 'jit', '--no-cache', '--opt', level, '--time', path])
                    fe = re.search(r'lex ([0-9.]+)s, parse ([0-9.]+)s, build ([0-9.]+)s, check ([0-9.]+)s', r.stderr)
                    parts['front end'].append(1000 * sum(float(x) for x in fe.groups()))
                    for k in ('lower', 'optimize', 'codegen'):
                        parts[k].append(float(re.search(k + r' ([0-9.]+)ms', r.stderr).group(1)))
                m = {k: statistics.median(v) for k, v in parts.items()}
                print(f'  {title:12} --opt {level}: front end {m["front end"]:.2f} + lower {m["lower"]:.2f} + '
                      f'optimize {m["optimize"]:.2f} + codegen {m["codegen"]:.2f} = {sum(m.values()):.2f}')
        start = {'jit': [], 'interp': []}
        for _ in range(RUNS):
            for engine in start:
                dt, _ = timed([CFMC, 'run', '--engine', engine, *(['--no-cache'] if engine == 'jit' else []), hello])
                start[engine].append(dt * 1000)
        print(f'  startup: jit {statistics.median(start["jit"]):.1f}  interp {statistics.median(start["interp"]):.1f}')
        cache_rows(tmp)


if __name__ == '__main__':
    main()
