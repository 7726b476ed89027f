#!/usr/bin/env python3
"""compare_builds.py — two builds of cfmc side by side on the benchmark programs, under both
engines: interleaved runs, medians and the ratio new/old (this machine is noisy: read ratios, not
single times). Outputs must agree, so a refactoring that changes behaviour shows up here too.

  /usr/bin/python3 bench/compare_builds.py OLD_CFMC NEW_CFMC [RUNS]

Used for issue 11 ("nothing changes for users"): the cfmc of the commit before against the one
after."""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
P = os.path.join(ROOT, 'bench', 'programs')
PROGRAMS = ['fib', 'loop', 'strings', 'maps', 'template', 'task_start_wait']


def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)} failed: {r.stderr[:500]}')
    return dt, r.stdout


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    old, new = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(f'median of {runs} interleaved runs (s), whole processes; ratio new/old (< 1: new is faster)')
    print(f'{"program":18} {"engine":7} {"old":>8} {"new":>8} {"new/old":>8}')
    for prog in PROGRAMS:
        path = os.path.join(P, prog + '.cfp')
        for engine in ['interp', 'jit']:
            extra = ['--no-cache'] if engine == 'jit' else []
            times = {'old': [], 'new': []}
            outs = {}
            for _ in range(runs):
                for name, exe in (('old', old), ('new', new)):
                    dt, out = timed([exe, 'run', '--engine', engine] + extra + [path])
                    times[name].append(dt)
                    outs[name] = out
            if outs['old'] != outs['new']:
                sys.exit(f'{prog} ({engine}): the outputs differ')
            mo, mn = statistics.median(times['old']), statistics.median(times['new'])
            print(f'{prog:18} {engine:7} {mo:8.3f} {mn:8.3f} {mn / mo:8.2f}')


if __name__ == '__main__':
    main()
