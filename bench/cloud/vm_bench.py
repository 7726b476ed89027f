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


def local_up(cfmc, d, n, image):
    # quotas raised so that N VMs of 2 vCPUs fit; a small boot delay as in the tests; no broker,
    # so that run_vm waits for `running` only, as botocore's waiter does (with a broker it also
    # waits for each VM's agent to answer: bench/agent measures agents). With image `idle` (the
    # default) the cloud's default image is cfm-vm-idle, an instance that only waits (0.8 ms of
    # CPU to start), with `sleep` `/bin/sleep infinity` (4.3 ms), so that what an instance's
    # process costs to start (cfm-agent's, some 15 ms of CPU each) does not bound both clients
    # alike: on 2 cores the thousand processes' start competes with the client for the CPU.
    cmd = [cfmc, "local", "up", "--clouds", "1", "--dir", d, "--instances", str(n + 10),
           "--vcpus", str(4 * n + 40), "--rate", str(RATE), "--no-broker"]
    if image in ("idle", "sleep"):
        command = ([os.path.join(os.path.dirname(cfmc), "cfm-vm-idle")] if image == "idle"
                   else ["/bin/sleep", "infinity"])
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "bench-cloud.toml")
        with open(conf, "w") as f:
            f.write('# vm_bench.py: a light default image\n[[images]]\nid = "ami-cfm-default"\n'
                    f'name = "{image}"\ncommand = {json.dumps(command)}\n')
        cmd += ["--cloud-config", conf]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "context.json")) as f:
        return json.load(f)


def local_down(cfmc, d):
    subprocess.run([cfmc, "local", "down", "--dir", d], stdout=subprocess.DEVNULL)


def count_threads(pid):
    """(threads of pid, of them named cfm-http: the HTTP client's, which net/http.cpp names)."""
    names = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return len(names), names.count("cfm-http")


def sample_threads(pid, stop, out):
    """The most threads of pid (out[0]) and of HTTP threads (out[1]) until stop is set."""
    while not stop.is_set():
        try:
            total, http = count_threads(pid)
            out[0], out[1] = max(out[0], total), max(out[1], http)
        except OSError:
            pass
        time.sleep(0.02)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def run_cfm(cfmc, n, engine, image):
    """The procedure runs in manager a's daemon (cfmd, as `cfmc run --manager` does whenever the
    daemon answers): its threads and peak RSS are cfmd's."""
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "cfm")
        ctx = local_up(cfmc, d, n, image)
        try:
            env = dict(os.environ, CFM_CONTEXT=os.path.join(d, "context.json"))
            subprocess.run([cfmc, "ovf", "import", os.path.join(ROOT, "samples/web3/web3.ovf"),
                            "--manager", "a"], check=True, env=env, stdout=subprocess.DEVNULL)
            daemon = ctx["managers"]["a"]["pid"]
            idle = count_threads(daemon)
            cmd = [cfmc, "run", "--engine", engine, "--manager", "a",
                   os.path.join(HERE, "vms_1000.cfp"), "--arg", "sys=web3", "--arg", f"n={n}"]
            t0 = time.monotonic()
            peak = [0, 0]
            stop = threading.Event()
            th = threading.Thread(target=sample_threads, args=(daemon, stop, peak))
            th.start()
            p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wall = time.monotonic() - t0
            stop.set()
            th.join()
            if p.returncode != 0:
                sys.exit(f"cfmc failed ({p.returncode}):\n{p.stdout}\n{p.stderr[-3000:]}")
            m = re.search(r"started (\d+) (\d+) ms; terminated (\d+) ms", p.stdout)
            throttled = p.stderr.count("RequestLimitExceeded")
            return {"start": int(m.group(2)) / 1000, "terminate": int(m.group(3)) / 1000, "wall": wall,
                    "rss_mib": peak_rss_mib(daemon), "threads": peak[0], "idle_threads": idle[0],
                    "http_threads": peak[1], "throttled": throttled}
        finally:
            local_down(cfmc, d)


def run_boto(cfmc, n, workers, image):
    import botocore.session
    import botocore.config
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "cfm")
        ctx = local_up(cfmc, d, n, image)
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
    ap.add_argument("--image", choices=["idle", "sleep", "agent"], default="idle",
                    help="the instances' command: cfm-vm-idle (default), /bin/sleep or cfm-agent "
                         "(the local cloud's default image)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    cfmc = os.path.join(a.build, "bin", "cfmc")
    cfm, boto = [], []
    for r in range(a.rounds):
        cfm.append(run_cfm(cfmc, a.n, a.engine, a.image))
        print(f"round {r + 1} cfm:      {cfm[-1]}", flush=True)
        boto.append(run_boto(cfmc, a.n, a.workers, a.image))
        print(f"round {r + 1} botocore: {boto[-1]}", flush=True)

    def med(rows, k):
        return statistics.median(x[k] for x in rows)

    print(f"\n{a.n} VMs, {a.rounds} rounds, medians (botocore: {a.workers} threads; image {a.image})")
    print(f"{'phase':<12}{'cfm':>10}{'botocore':>10}{'boto/cfm':>10}")
    for k in ("start", "terminate", "wall"):
        print(f"{k:<12}{med(cfm, k):>9.2f}s{med(boto, k):>9.2f}s{med(boto, k) / med(cfm, k):>10.1f}")
    print(f"cfmd (runs the procedure): peak RSS {med(cfm, 'rss_mib'):.0f} MiB, threads at most "
          f"{max(x['threads'] for x in cfm)} ({max(x['idle_threads'] for x in cfm)} when idle), HTTP threads at most "
          f"{max(x['http_threads'] for x in cfm)}; RequestLimitExceeded reaching the procedure: "
          f"{sum(x['throttled'] for x in cfm)}")


if __name__ == "__main__":
    main()
