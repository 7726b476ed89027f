#!/usr/bin/env python3
"""interp_compare.py — the interpreter against Lua 5.4 and CPython 3 on the same programs, and
template rendering against Jinja2. Runs every program RUNS times side by side (interleaved, so
that machine noise hits all of them alike), prints the median wall time of each and the ratios.

  /usr/bin/python3 bench/interp_compare.py [RUNS]     (default 5; run from the project root)

Goals (issue 3): the interpreter at least as fast as Lua 5.4 on every program (ratio cfmc/lua
<= 1.0), template rendering at least 3x Jinja2 (ratio jinja2/cfmc >= 3)."""
import os, shutil, statistics, subprocess, sys, time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P = os.path.join(ROOT, 'bench', 'programs')
CFMC = os.environ.get('CFMC', os.path.join(ROOT, 'build', 'bin', 'cfmc'))
LUA = shutil.which('lua5.4') or shutil.which('lua')
PY = '/usr/bin/python3'

def cmd_cfmc(name): return [CFMC, 'run', '--engine', 'interp', os.path.join(P, name + '.cfp')]

CASES = [
    ('fib(35)', 'fib', [('cfmc', cmd_cfmc('fib')), ('lua', [LUA, os.path.join(P, 'fib.lua')]), ('cpython', [PY, os.path.join(P, 'fib.py')])]),
    ('integer loop', 'loop', [('cfmc', cmd_cfmc('loop')), ('lua', [LUA, os.path.join(P, 'loop.lua')]), ('cpython', [PY, os.path.join(P, 'loop.py')])]),
    ('string building', 'strings', [('cfmc', cmd_cfmc('strings')), ('lua', [LUA, os.path.join(P, 'strings.lua')]), ('cpython', [PY, os.path.join(P, 'strings.py')])]),
    ('map updates', 'maps', [('cfmc', cmd_cfmc('maps')), ('lua', [LUA, os.path.join(P, 'maps.lua')]), ('cpython', [PY, os.path.join(P, 'maps.py')])]),
    ('template x300', 'template', [('cfmc', cmd_cfmc('template')), ('jinja2', [PY, os.path.join(P, 'template_jinja.py')])]),
]

def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f'{cmd} failed: {r.stderr[:500]}')
    return dt, r.stdout

def main():
    if not os.path.exists(CFMC):
        sys.exit('build cfmc first (scripts/build.sh)')
    if not LUA:
        sys.exit('lua5.4 is missing (scripts/bootstrap.sh installs it)')
    print(f'median of {RUNS} runs (s); ratios < 1 mean cfmc is faster')
    for title, _, impls in CASES:
        times = {n: [] for n, _ in impls}
        outs = {}
        for _ in range(RUNS):
            for n, c in impls:
                dt, out = timed(c)
                times[n].append(dt)
                outs[n] = out.strip()
        if len(set(outs.values())) != 1:
            sys.exit(f'{title}: outputs differ: {outs}')
        med = {n: statistics.median(v) for n, v in times.items()}
        cells = '  '.join(f'{n} {med[n]:.3f}' for n in med)
        ratios = '  '.join(f'cfmc/{n} {med["cfmc"] / med[n]:.2f}' for n in med if n != 'cfmc')
        print(f'{title:16} {cells}   {ratios}')

if __name__ == '__main__':
    main()
