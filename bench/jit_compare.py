#!/usr/bin/env python3
"""jit_compare.py — the JIT (`cfmc run --engine jit`) against C (gcc -O2), the interpreter, Lua 5.4
and LuaJIT (when `luajit` is installed) on fib(35) and the 20-million-step integer loop; then the
JIT's compile latency at --opt 0/1/2 (`cfmc run --time`). Whole processes, compile included (the
C programs are compiled once, into a temporary directory, before timing). Every program runs
RUNS times side by side (interleaved, so that machine noise hits all of them alike); medians and
ratios are printed, and the outputs must agree. These runs pass --no-cache (compile included);
the last section measures the persistent object cache: fib.cfp and a 1,000-line file
(bench/gen_program.py) with a cold cache (emptied before each run) against a warm one.

  /usr/bin/python3 bench/jit_compare.py [RUNS]     (default 5; run from the project root)

Goal (issue 5): JIT at most 1.5x the time of the C version (ratio jit/c <= 1.5)."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P = os.path.join(ROOT, 'bench', 'programs')
CFMC = os.environ.get('CFMC', os.path.join(ROOT, 'build', 'bin', 'cfmc'))
LUA = shutil.which('lua5.4')
LUAJIT = shutil.which('luajit')
GCC = shutil.which('gcc')


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f'{cmd} failed: {r.stderr[:500]}')
    return dt, r


def cfmc(engine, name, *extra):
    cache = ['--no-cache'] if engine == 'jit' else []
    return [CFMC, 'run', '--engine', engine, *cache, *extra, os.path.join(P, name + '.cfp')]


def cache_rows(tmp):
    """Whole-process time of `cfmc run --engine jit` with a cold object cache (emptied before each
    run: lower, optimise, codegen, store) and a warm one (lower, then link the cached object)."""
    big = os.path.join(tmp, 'big.cfp')
    with open(big, 'w') as f:
        subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'gen_program.py'), '1000'], stdout=f, check=True)
    cache = os.path.join(tmp, 'cache')
    env = dict(os.environ, CFM_CACHE_DIR=cache)
    print('\nobject cache (s, medians, whole processes at --opt 2): cold = cache emptied before each run, '
          'warm = the object cached; --no-cache for reference')
    for title, path in (('fib.cfp', os.path.join(P, 'fib.cfp')), ('1,000 lines', big)):
        times = {'cold': [], 'warm': [], 'no-cache': []}
        outs = set()
        for _ in range(RUNS):
            for kind in times:
                if kind == 'cold':
                    shutil.rmtree(cache, ignore_errors=True)
                extra = ['--no-cache'] if kind == 'no-cache' else []
                t = time.perf_counter()
                r = subprocess.run([CFMC, 'run', '--engine', 'jit', '--time', *extra, path], capture_output=True,
                                   text=True, env=env)
                dt = time.perf_counter() - t
                if r.returncode != 0:
                    sys.exit(f'{path} failed: {r.stderr[:500]}')
                hit = '(object cache hit)' in r.stderr
                if hit != (kind == 'warm'):
                    sys.exit(f'{title} {kind}: cache hit {hit}')
                times[kind].append(dt)
                outs.add(r.stdout)
        if len(outs) != 1:
            sys.exit(f'{title}: outputs differ between cold and warm runs')
        m = {k: statistics.median(v) for k, v in times.items()}
        print(f'  {title:12} cold {m["cold"]:.3f}  warm {m["warm"]:.3f}  no-cache {m["no-cache"]:.3f}   '
              f'warm/cold {m["warm"] / m["cold"]:.2f}  saved {1000 * (m["cold"] - m["warm"]):.1f} ms')


def main():
    if not os.path.exists(CFMC):
        sys.exit(f'build cfmc first ({CFMC}; set CFMC=... for another build)')
    if not GCC or not LUA:
        sys.exit('gcc and lua5.4 are needed (scripts/bootstrap.sh installs them)')
    with tempfile.TemporaryDirectory() as tmp:
        binaries = {}
        for name in ('fib', 'loop'):
            exe = os.path.join(tmp, name)
            subprocess.run([GCC, '-O2', '-o', exe, os.path.join(P, name + '.c')], check=True)
            binaries[name] = exe
        cases = []
        for title, name in (('fib(35)', 'fib'), ('integer loop', 'loop')):
            impls = [('jit', cfmc('jit', name)), ('c', [binaries[name]]), ('interp', cfmc('interp', name)),
                     ('lua5.4', [LUA, os.path.join(P, name + '.lua')])]
            if LUAJIT:
                impls.append(('luajit', [LUAJIT, os.path.join(P, name + '.lua')]))
            cases.append((title, impls))
        print(f'median of {RUNS} interleaved runs (s), whole processes; ratios < 1 mean the JIT is faster')
        for title, impls in cases:
            times = {n: [] for n, _ in impls}
            outs = {}
            for _ in range(RUNS):
                for n, c in impls:
                    dt, r = timed(c)
                    times[n].append(dt)
                    outs[n] = r.stdout.strip()
            if len(set(outs.values())) != 1:
                sys.exit(f'{title}: outputs differ: {outs}')
            med = {n: statistics.median(v) for n, v in times.items()}
            cells = '  '.join(f'{n} {med[n]:.3f}' for n in med)
            ratios = '  '.join(f'jit/{n} {med["jit"] / med[n]:.2f}' for n in med if n != 'jit')
            print(f'{title:14} {cells}   {ratios}')

        # Compile latency: what `cfmc run --time` reports for lowering, optimising and codegen,
        # and the whole process against the interpreter's on a trivial program.
        print('\nJIT compile latency (ms, medians): lower + optimize + codegen = total; startup = whole '
              'process of a hello-world, jit vs interp')
        hello = os.path.join(tmp, 'hello.cfp')
        with open(hello, 'w') as f:
            f.write('procedure main() { print("hello"); }\n')
        for name in ('fib', 'loop'):
            for level in ('0', '1', '2'):
                parts = {'lower': [], 'optimize': [], 'codegen': []}
                for _ in range(RUNS):
                    _, r = timed(cfmc('jit', name, '--opt', level, '--time'))
                    for k in parts:
                        parts[k].append(float(re.search(k + r' ([0-9.]+)ms', r.stderr).group(1)))
                m = {k: statistics.median(v) for k, v in parts.items()}
                print(f'  {name + ".cfp":9} --opt {level}: lower {m["lower"]:.2f} + optimize {m["optimize"]:.2f} + '
                      f'codegen {m["codegen"]:.2f} = {sum(m.values()):.2f}')
        start = {'jit': [], 'interp': []}
        for _ in range(RUNS):
            for engine in start:
                dt, _ = timed([CFMC, 'run', '--engine', engine, *(['--no-cache'] if engine == 'jit' else []), hello])
                start[engine].append(dt * 1000)
        print(f'  startup: jit {statistics.median(start["jit"]):.1f}  interp {statistics.median(start["interp"]):.1f}')
        cache_rows(tmp)


if __name__ == '__main__':
    main()
