#!/usr/bin/python3
# web3_dr_bench.py — the web3 scenario's figures (issue 16): over RUNS runs (default 5), each on
# a fresh local federation of two clouds (instance quota 6 each, so cloud a is full once web3
# runs): the time `start` takes; the scale-out time, from asking a full cloud a for 2 more web
# servers to the first request answered by a web server in cloud b; the RTO, from `cfmc local
# kill a` to the first good answer of the system recovered in b; and the RPO, the acknowledged
# writes missing after recovery — while a writer thread keeps writing rows through the load
# balancer the whole time. Prints each run and the median and worst of each figure.
#   web3_dr_bench.py CFMC [RUNS]        (from a build: bench/scenarios/web3_dr_bench.py build/bin/cfmc 5)
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "cli"))
from federation_lib import Federation, http_request as request  # noqa: E402

CFP = os.path.join(SRC, "samples", "web3", "web3.cfp")


class Writer(threading.Thread):
    """Writes rows through the current endpoint; records acknowledged ids and who served."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.acked, self.errors, self.stop = url, {}, 0, False
        self.first_b = None
        self.n = 0

    def run(self):
        while not self.stop:
            self.n += 1
            value = "w%d" % self.n
            st, hd, body = request(self.url, "POST", "/rows", value)
            if st == 201:
                self.acked[json.loads(body)["id"]] = value
                if hd.get("x-cloud") == "b" and self.first_b is None:
                    self.first_b = time.time()
            else:
                self.errors += 1
                time.sleep(0.01)


def one_run(cfmc):
    fed = Federation(cfmc, clouds=2, instances="6", verbose=False)
    out = {}
    try:
        fed.import_sample(os.path.join(SRC, "samples", "web3", "web3.ovf"), "web3")
        fed.cfmc("run", "--manager", "b", "--detach", CFP, "--proc", "peer", "--arg", "sys=web3")
        t0 = time.time()
        p = fed.run("a", CFP, "start", "sys=web3")
        if p.returncode != 0:
            raise RuntimeError("start failed:\n" + p.stdout + p.stderr)
        out["start_s"] = time.time() - t0
        url = fed.events("a", "web3", "endpoint")[-1]["data"]["url"]
        w = Writer(url)
        w.start()
        time.sleep(0.5)
        t0 = time.time()
        p = fed.run("a", CFP, "scale_out", "sys=web3", "count=2")
        if p.returncode != 0 or "0 here, 2 in the peer" not in p.stdout:
            raise RuntimeError("scale_out did not go to the peer")
        while w.first_b is None and time.time() - t0 < 60:
            time.sleep(0.01)
        out["scale_out_s"] = (w.first_b or float("nan")) - t0
        time.sleep(0.5)
        fed.read_sessions()
        out["errors_before_kill"] = w.errors
        kill = time.time()
        fed.cfmc("local", "kill", "a")
        w.stop = True
        w.join()
        new = None
        while time.time() - kill < 60:
            eps = [e for e in fed.events("b", "web3", "endpoint") if e["data"]["cloud"] == "b"]
            if eps:
                new = eps[-1]["data"]["url"]
                st, _, _ = request(new, "GET", "/health", timeout=1)
                if st == 200:
                    out["rto_s"] = time.time() - kill
                    break
            time.sleep(0.02)
        if new is None or "rto_s" not in out:
            raise RuntimeError("no recovery within 60 s")
        missing = 0
        for row_id, value in w.acked.items():
            st, _, body = request(new, "GET", "/rows/%d" % row_id)
            if not (st == 200 and json.loads(body)["value"] == value):
                missing += 1
        out["rpo_writes"] = missing
        out["acked"] = len(w.acked)
        out["write_errors"] = w.errors
    finally:
        try:
            fed.down()
        except SystemExit:
            pass
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__ or "usage: web3_dr_bench.py CFMC [RUNS]", file=sys.stderr)
        sys.exit(2)
    cfmc, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results = []
    for i in range(runs):
        r = one_run(cfmc)
        results.append(r)
        print("run %d: start %.2f s, scale-out %.2f s, RTO %.2f s, RPO %d of %d acknowledged writes "
              "(failed requests: %d before the kill, %d while a was killed)" %
              (i + 1, r["start_s"], r["scale_out_s"], r["rto_s"], r["rpo_writes"], r["acked"], r["errors_before_kill"],
               r["write_errors"] - r["errors_before_kill"]), flush=True)
    for key, label, goal in (("start_s", "start", None), ("scale_out_s", "scale-out into the peer", 5.0),
                             ("rto_s", "RTO", 5.0), ("rpo_writes", "RPO (writes)", 0)):
        xs = [r[key] for r in results]
        med, worst = statistics.median(xs), max(xs)
        note = "" if goal is None else ("  goal <= %s: %s" % (goal, "met" if worst <= goal else "NOT met"))
        print("%-24s median %8.2f  worst %8.2f%s" % (label, med, worst, note))


if __name__ == "__main__":
    main()
