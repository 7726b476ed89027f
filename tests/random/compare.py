#!/usr/bin/python3
"""compare.py — differential testing: random programs (gen_program.py) run by two engines, whose
outputs (stdout, then stderr, then the exit status) must be identical.

    compare.py [--count N] [--seed S] [--keep DIR] [--jobs J] [--skip-unsupported] [--api] ENGINE_A ENGINE_B

An ENGINE is `cfmc:PATH:NAME` (`PATH run --engine NAME FILE`) or `refcfp:PATH` (the reference
interpreter, `/usr/bin/python3 PATH run FILE`; its output is normalised for the messages where
CFM's documented choices add detail: `integer overflow: a * b`, `index 5 out of range (length 1)`,
see docs/language.md). Programs are seeds S, S+1, ... S+N-1. Every divergence is written to DIR
(default: a temporary folder that is printed) as the program and both outputs, to become a
conformance test; the exit status is 1 when there was one. With --skip-unsupported, a program that
an engine declines (exit status 3: it uses what that engine does not run yet) is counted and
skipped rather than a divergence.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_program  # noqa: E402


def normalise(text):
    text = re.sub(r'integer overflow: [^\n"]*', 'integer overflow', text)
    return re.sub(r'(index -?\d+ out of range) \(length \d+\)', r'\1', text)


def run(engine, path):
    kind, _, rest = engine.partition(':')
    if kind == 'cfmc':
        exe, _, name = rest.rpartition(':')
        cmd = [exe, 'run', '--engine', name, path]
    elif kind == 'refcfp':
        cmd = ['/usr/bin/python3', rest, 'run', path]
    else:
        sys.exit(f'unknown engine {engine!r}')
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        out = f'--- stdout\n{r.stdout}--- stderr\n{r.stderr}--- exit {r.returncode}\n'
    except subprocess.TimeoutExpired:
        out = '--- timed out\n'
    return out


def one(seed, a, b, workdir, skip_unsupported=False, api=False):
    path = os.path.join(workdir, f'random_{seed}.cfp')
    with open(path, 'w') as f:
        f.write(gen_program.Gen(seed, api=api).program())
    oa, ob = run(a, path), run(b, path)
    if a.startswith('refcfp:') or b.startswith('refcfp:'):
        oa, ob = normalise(oa), normalise(ob)
    declined = oa.endswith('--- exit 3\n') or ob.endswith('--- exit 3\n')
    if oa == ob or (skip_unsupported and declined):
        os.remove(path)
        return ('skipped', seed) if oa != ob else None
    return seed, path, oa, ob


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--count', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--keep', default=None)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--skip-unsupported', action='store_true')
    ap.add_argument('--api', action='store_true', help='programs also call the procedure API (gen_program.py --api)')
    ap.add_argument('a')
    ap.add_argument('b')
    args = ap.parse_args()
    for e in (args.a, args.b):
        if e.startswith('refcfp:') and not os.path.exists(e[len('refcfp:'):]):
            print(f'SKIP: {e[len("refcfp:"):]} is absent (../shared is not beside the project)')
            return 0
    workdir = args.keep or tempfile.mkdtemp(prefix='cfm-random-')
    os.makedirs(workdir, exist_ok=True)
    seeds = range(args.seed, args.seed + args.count)
    bad = []
    skipped = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(lambda s: one(s, args.a, args.b, workdir, args.skip_unsupported, args.api), seeds):
            if res and res[0] == 'skipped':
                skipped += 1
            elif res:
                seed, path, oa, ob = res
                bad.append(seed)
                with open(path + '.a.txt', 'w') as f:
                    f.write(oa)
                with open(path + '.b.txt', 'w') as f:
                    f.write(ob)
                print(f'DIVERGES seed {seed}: {path} (outputs in {path}.a.txt and .b.txt)')
    ran = args.count - skipped
    print(f'{ran - len(bad)} of {ran} random programs agree ({args.a} vs {args.b})'
          + (f'; {skipped} skipped (exit status 3: not run by an engine yet)' if skipped else ''))
    if bad:
        print(f'kept in {workdir}')
        return 1
    if not args.keep:
        os.rmdir(workdir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
