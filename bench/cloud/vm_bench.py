#!/usr/bin/python3
"""vm_bench.py — issue 13's cloud benchmark: N VMs started and waited for, then terminated,
against a local cfm-cloud (started here with `cfmc local up`, stopped at the end):

  cfm      `cfmc run --manager a vms_1000.cfp`: N `async run_vm(...)` in one procedure, one
           process; wall time of the start phase and of the terminate phase (printed by the
           procedure), peak RSS (/usr/bin/time -v) and the most threads seen (/proc sampling).
  botocore Python botocore with a 16-thread pool: N RunInstances (a ClientToken each), each
           followed by DescribeInstances polls until `running` (the same backoff as CFM's
           waiter: BOTO_POLL_FIRST doubling to BOTO_POLL_MAX), then TerminateInstances in
           batches and polls until terminated.

Both phases are run ROUNDS times, interleaved, on fresh clouds; medians and the ratio
botocore/cfm are printed. The goal (issue 13): cfm at least 5x faster, no RequestLimitExceeded
reaching the procedure, one HTTP thread.

usage: /usr/bin/python3 bench/cloud/vm_bench.py [--n 1000] [--rounds 3] [--build build]
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOTO_POLL_FIRST = 0.1
BOTO_POLL_MAX = 1.0
# the cloud's request rate: high enough that the cloud, not its throttle, is measured (the
# driver absorbs throttling either way; tests/unit/cloud_manager_test.cpp shows it)
RATE = 5000


def local_up(cfmc, d, n):
    # quotas raised so that N VMs of 2 vCPUs fit; a small boot delay as in the tests; no broker,
    # so that run_vm waits for `running` only, as botocore's waiter does (with a broker it also
    # waits for each VM's agent to answer: bench/agent measures agents)
    subprocess.run([cfmc, "local", "up", "--clouds", "1", "--dir", d, "--instances", str(n + 10),
                    "--vcpus", str(4 * n + 40), "--rate", str(RATE), "--no-broker"], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "context.json")) as f:
        return json.load(f)


def local_down(cfmc, d):
    subprocess.run([cfmc, "local", "down", "--dir", d], stdout=subprocess.DEVNULL)


def sample_threads(pid, stop, out):
    """The most threads /proc shows for pid while it runs."""
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        out[0] = max(out[0], int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)


def run_cfm(cfmc, n, engine):
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "cfm")
        local_up(cfmc, d, n)
        try:
            env = dict(os.environ, CFM_CONTEXT=os.path.join(d, "context.json"))
            subprocess.run([cfmc, "ovf", "import", os.path.join(ROOT, "samples/web3/web3.ovf"),
                            "--manager", "a"], check=True, env=env, stdout=subprocess.DEVNULL)
            cmd = ["/usr/bin/time", "-v", cfmc, "run", "--engine", engine, "--manager", "a",
                   os.path.join(HERE, "vms_1000.cfp"), "--arg", "sys=web3", "--arg", f"n={n}"]
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            peak = [0]
            stop = threading.Event()
            # /usr/bin/time's child is cfmc: sample it
            child = None
            for _ in range(200):
                try:
                    with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                        kids = f.read().split()
                    if kids:
                        child = int(kids[0])
                        break
                except OSError:
                    pass
                time.sleep(0.005)
            th = threading.Thread(target=sample_threads, args=(child or p.pid, stop, peak))
            th.start()
            out, err = p.communicate()
            wall = time.monotonic() - t0
            stop.set()
            th.join()
            if p.returncode != 0:
                sys.exit(f"cfmc failed ({p.returncode}):\n{out}\n{err[-3000:]}")
            m = re.search(r"started (\d+) (\d+) ms; terminated (\d+) ms", out)
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
            throttled = err.count("RequestLimitExceeded")
            return {"start": int(m.group(2)) / 1000, "terminate": int(m.group(3)) / 1000, "wall": wall,
                    "rss_mib": rss / 1024, "threads": peak[0], "throttled": throttled}
        finally:
            local_down(cfmc, d)


def run_boto(cfmc, n, workers):
    import botocore.session
    import botocore.config
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "cfm")
        ctx = local_up(cfmc, d, n)
        try:
            cloud = ctx["clouds"]["a"]
            s = botocore.session.Session()
            s.set_config_variable("credentials_file", os.path.join(d, "aws", "credentials"))
            s.set_config_variable("config_file", os.path.join(d, "aws", "config"))
            s.set_config_variable("profile", "cfm-a")
            cfg = botocore.config.Config(max_pool_connections=workers, retries={"max_attempts": 10, "mode": "standard"})
            ec2 = s.create_client("ec2", region_name=cloud["region"], endpoint_url=cloud["endpoint"], config=cfg)

            def poll(iid, want):
                delay = BOTO_POLL_FIRST
                while True:
                    r = ec2.describe_instances(InstanceIds=[iid])
                    if r["Reservations"][0]["Instances"][0]["State"]["Name"] == want:
                        return
                    time.sleep(delay)
                    delay = min(delay * 2, BOTO_POLL_MAX)

            def start_one(_):
                r = ec2.run_instances(ImageId="ami-cfm-default", InstanceType="c1.medium", MinCount=1, MaxCount=1,
                                      ClientToken=str(uuid.uuid4()))
                iid = r["Instances"][0]["InstanceId"]
                poll(iid, "running")
                return iid

            def stop_one(iid):
                ec2.terminate_instances(InstanceIds=[iid])
                poll(iid, "terminated")

            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                ids = list(pool.map(start_one, range(n)))
            t1 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(stop_one, ids))
            t2 = time.monotonic()
            return {"start": t1 - t0, "terminate": t2 - t1, "wall": t2 - t0}
        finally:
            local_down(cfmc, d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--engine", default="jit")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    cfmc = os.path.join(a.build, "bin", "cfmc")
    cfm, boto = [], []
    for r in range(a.rounds):
        cfm.append(run_cfm(cfmc, a.n, a.engine))
        print(f"round {r + 1} cfm:      {cfm[-1]}", flush=True)
        boto.append(run_boto(cfmc, a.n, a.workers))
        print(f"round {r + 1} botocore: {boto[-1]}", flush=True)

    def med(rows, k):
        return statistics.median(x[k] for x in rows)

    print(f"\n{a.n} VMs, {a.rounds} rounds, medians (botocore: {a.workers} threads)")
    print(f"{'phase':<12}{'cfm':>10}{'botocore':>10}{'boto/cfm':>10}")
    for k in ("start", "terminate", "wall"):
        print(f"{k:<12}{med(cfm, k):>9.2f}s{med(boto, k):>9.2f}s{med(boto, k) / med(cfm, k):>10.1f}")
    print(f"cfm peak RSS {med(cfm, 'rss_mib'):.0f} MiB, threads at most {max(x['threads'] for x in cfm)}, "
          f"RequestLimitExceeded in cfm's output: {sum(x['throttled'] for x in cfm)}")


if __name__ == "__main__":
    main()
