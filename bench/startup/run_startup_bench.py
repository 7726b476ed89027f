#!/usr/bin/env python3
"""run_startup_bench.py — start-up of whole `cfmc` processes (issue 18): `cfmc --version`,
`cfmc check` of a 10-line file, `cfmc run --engine interp` and `cfmc run` (the JIT, object
cache warm) of a hello-world, against `lua5.4 -e 'print(1)'`. Every command runs RUNS times,
interleaved with the others (machine noise hits all alike); the script prints the median wall
time and the
median peak RSS (GNU time's %M, in separate runs) of each, and the ratios to Lua. Goal: the interpreter's hello-world at most 2x Lua's wall time.

  /usr/bin/python3 bench/startup/run_startup_bench.py [RUNS] [LABEL=CFMC[:ENGINE] ...]

RUNS defaults to 15; with no LABEL=CFMC the binary is build/bin/cfmc (or $CFMC). Several
binaries (e.g. `main=/path/old/cfmc new=build/bin/cfmc`) are measured side by side in the same
interleaved rounds; `:ENGINE` runs that binary with CFM_JIT_ENGINE=ENGINE (another build of
libcfm_jit_engine.so). Exit status 1 when a command fails or a binary misses the 2x goal."""
import os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
args = sys.argv[1:]
RUNS = int(args.pop(0)) if args and args[0].isdigit() else 15
BINARIES = [a.split('=', 1) for a in args] or [
    ['cfmc', os.environ.get('CFMC', os.path.join(ROOT, 'build', 'bin', 'cfmc'))]]
LUA = shutil.which('lua5.4')
if not LUA:
    sys.exit('lua5.4 is not installed')

CHECK_SRC = '''// ten lines for `cfmc check`
fn square(n: int) -> int {
  return n * n;
}
procedure main() {
  let xs = [1, 2, 3];
  for x in xs {
    print("${x}: ${square(x)}");
  }
}
'''
HELLO_SRC = 'procedure main() { print("hello"); }\n'


def run_one(cmd, env):
    """Wall seconds of one whole process (spawned directly, output discarded); exits on failure."""
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)} failed with status {r.returncode}: {r.stderr.decode()[:500]}')
    return dt


def peak_rss(cmd, env):
    """Peak RSS (MiB) of one whole process, from GNU time (its own fork: Python's spawn would
    lend the child the interpreter's pages before exec, and ru_maxrss keeps them)."""
    r = subprocess.run(['/usr/bin/time', '-f', '%M', *cmd], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, text=True)
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)} failed with status {r.returncode}: {r.stderr[:500]}')
    return int(r.stderr.strip().splitlines()[-1]) / 1024.0  # KiB


def main():
    tmp = tempfile.mkdtemp(prefix='cfm-startup-')
    try:
        check_file = os.path.join(tmp, 'ten.cfp')
        hello = os.path.join(tmp, 'hello.cfp')
        with open(check_file, 'w') as f:
            f.write(CHECK_SRC)
        with open(hello, 'w') as f:
            f.write(HELLO_SRC)
        env = dict(os.environ, CFM_CACHE_DIR=os.path.join(tmp, 'jit-cache'))
        cmds = [('lua', 'lua5.4 -e print(1)', [LUA, '-e', 'print(1)'])]
        envs = [env]
        for label, spec in BINARIES:
            cfmc, _, engine = spec.partition(':')
            cfmc = os.path.abspath(cfmc)
            e = len(envs)
            envs.append(dict(env, CFM_JIT_ENGINE=os.path.abspath(engine)) if engine else env)
            cmds += [(label, '--version', [cfmc, '--version'], e),
                     (label, 'check (10 lines)', [cfmc, 'check', check_file], e),
                     (label, 'run --engine interp hello', [cfmc, 'run', '--engine', 'interp', hello], e),
                     (label, 'run (JIT, cache warm) hello', [cfmc, 'run', hello], e)]
        cmds[0] += (0,)
        for _, _, cmd, e in cmds:  # warm the page cache and the JIT's object cache
            run_one(cmd, envs[e])
        walls = {i: [] for i in range(len(cmds))}
        rss = {i: [] for i in range(len(cmds))}
        for _ in range(RUNS):
            for i, (_, _, cmd, e) in enumerate(cmds):
                walls[i].append(run_one(cmd, envs[e]))
                rss[i].append(peak_rss(cmd, envs[e]))
        lua_wall = statistics.median(walls[0])
        print(f'start-up, medians of {RUNS} interleaved whole-process runs')
        print(f'{"binary":<10} {"command":<30} {"wall ms":>8} {"max RSS MiB":>12} {"/lua":>6}')
        failed = False
        for i, (label, name, _, _) in enumerate(cmds):
            w = statistics.median(walls[i])
            ratio = w / lua_wall
            print(f'{label:<10} {name:<30} {w * 1000:8.1f} {statistics.median(rss[i]):12.1f} {ratio:6.2f}')
            if name.startswith('run --engine interp') and ratio > 2:
                failed = True
        print('goal: run --engine interp hello / lua <= 2:', 'missed' if failed else 'met')
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
