#!/usr/bin/python3
"""tasks_bench.py — issue 4's benchmark: 100,000 tasks that each sleep 20 ms and return a value,
all waited for (programs/tasks_100k.cfp): wall time and peak memory of the whole `cfmc run`
process under /usr/bin/time -v, median of RUNS, under both engines, interleaved with CPython's
asyncio doing the same (programs/tasks_100k_asyncio.py, issue 18: goal 5x faster in at most its
memory); then the cost of one task start + wait, from the
language (programs/task_start_wait.cfp, a million `wait(async f(i))`, minus the same loop with a
plain call) and from the scheduler's micro-benchmarks (cfm-sched-bench, Google Benchmark).

usage: /usr/bin/python3 bench/tasks_bench.py [RUNS]     (after scripts/build.sh)
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, 'build', 'bin')
CFMC = os.path.join(BIN, 'cfmc')
P = os.path.join(ROOT, 'bench', 'programs')
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v: (wall seconds, peak RSS in MiB, stdout)."""
    r = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)} failed:\n{r.stderr}')
    wall = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)', r.stderr).group(1)
    parts = [float(x) for x in wall.split(':')]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    rss = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', r.stderr).group(1)) / 1024
    return secs, rss, r.stdout


def main():
    if not os.path.exists(CFMC):
        sys.exit('build first: scripts/build.sh')
    print(f'100,000 tasks x sleep(20ms), whole process, median of {RUNS} interleaved runs')
    prog = os.path.join(P, 'tasks_100k.cfp')
    own = dict(os.environ, CFM_TASK_STACKS='own')  # a stack per task, as before copied stacks
    runs = {
        'cfmc interp': ([CFMC, 'run', '--engine', 'interp', prog], None),
        'cfmc jit': ([CFMC, 'run', '--engine', 'jit', prog], None),
        'cfmc interp, CFM_TASK_STACKS=own': ([CFMC, 'run', '--engine', 'interp', prog], own),
        'asyncio': (['/usr/bin/python3', os.path.join(P, 'tasks_100k_asyncio.py')], None),
    }
    got = {k: ([], []) for k in runs}
    for _ in range(RUNS):
        for k, (cmd, env) in runs.items():
            w, m, out = timed(cmd, env)
            if out.strip() != '450000':
                sys.exit(f'{k}: wrong output: {out!r}')
            got[k][0].append(w)
            got[k][1].append(m)
    med = {k: (statistics.median(w), statistics.median(m)) for k, (w, m) in got.items()}
    aw, am = med['asyncio']
    for k, (w, m) in med.items():
        line = f'  {k}: wall {w:.3f} s (min {min(got[k][0]):.3f}, max {max(got[k][0]):.3f}), peak RSS {m:.0f} MiB'
        if k != 'asyncio':
            line += f'; asyncio/this time {aw / w:.1f} (goal >= 5), memory {m / am:.2f} of asyncio\'s (goal <= 1)'
        print(line)

    # The language-level cost: a million wait(async one(i)) against a million one(i).
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, 'plain.cfp')
        with open(os.path.join(P, 'task_start_wait.cfp')) as f:
            src = f.read()
        with open(plain, 'w') as f:
            f.write(src.replace('wait(async one(i))', 'one(i)'))
        tw, tp = [], []
        for _ in range(RUNS):
            tw.append(timed([CFMC, 'run', os.path.join(P, 'task_start_wait.cfp')])[0])
            tp.append(timed([CFMC, 'run', plain])[0])
        per = (statistics.median(tw) - statistics.median(tp)) / 1e6 * 1e9
        print(f'task start + wait from the language: {per:.0f} ns '
              f'(1,000,000 x wait(async one(i)) {statistics.median(tw):.3f} s, plain calls {statistics.median(tp):.3f} s)')

    bench = os.path.join(BIN, 'cfm-sched-bench')
    if not os.path.exists(bench):
        print('cfm-sched-bench not built (libbenchmark-dev missing?)')
        return
    r = subprocess.run([bench, '--benchmark_format=json', f'--benchmark_repetitions={RUNS}',
                        '--benchmark_report_aggregates_only=true'], capture_output=True, text=True)
    data = json.loads(r.stdout)
    print(f'scheduler micro-benchmarks (cfm-sched-bench, median of {RUNS} repetitions):')
    for b in data['benchmarks']:
        if b.get('aggregate_name') != 'median':
            continue
        name = b['run_name']
        ns = b['real_time'] if b['time_unit'] == 'ns' else b['real_time'] * 1000
        if 'Thousand' in name:
            print(f'  {name}: {ns / 1000:.0f} ns per task')
        else:
            print(f'  {name}: {ns:.0f} ns')


if __name__ == '__main__':
    main()
