#!/usr/bin/python3
# web3_e2e_test.py — the web3 sample end to end on a real local federation (issue 16): two
# clouds (`cfmc local up`, instance quota 7 each), web3 imported into manager a and replicated to
# b, the standing `peer` procedure on b, `start` on a (PostgreSQL primary, app servers, nginx web
# servers and load balancer in a; the streaming-replication standby in b), rows written and read
# through the load balancer; `scale_out` by 3 (one fits in a, two go to b) and a request seen
# served by a web server in cloud b; then `cfmc local kill a`: b recovers, publishes a new
# endpoint, and every acknowledged write is readable there (RPO 0). Prints RTO and scale-out
# times. Everything is stopped by `cfmc local down` (PIDs) whatever happens, and the test checks
# that no process of any VM is left.
#   web3_e2e_test.py CFMC SOURCE_DIR
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from federation_lib import Federation, http_request as request  # noqa: E402

CFMC, SRC = sys.argv[1], sys.argv[2]
SAMPLE = os.path.join(SRC, "samples", "web3")
CFP = os.path.join(SAMPLE, "web3.cfp")


fed = Federation(CFMC, clouds=2, instances="7")
check = fed.check
try:
    fed.import_sample(os.path.join(SAMPLE, "web3.ovf"), "web3")
    check(True, "web3 imported into a reaches b")
    peer = fed.cfmc("run", "--manager", "b", "--detach", CFP, "--proc", "peer", "--arg", "sys=web3")
    check(peer.stdout.strip() != "", "peer standing on b (run %s)" % peer.stdout.strip())

    t0 = time.time()
    start = fed.run("a", CFP, "start", "sys=web3")
    if not check(start.returncode == 0, "start on a (%.1f s)" % (time.time() - t0)):
        raise RuntimeError("start failed")
    check("synchronous" in start.stdout, "the standby in b is synchronous")
    eps = fed.events("a", "web3", "endpoint")
    check(len(eps) == 1 and eps[0]["data"]["cloud"] == "a", "one endpoint event, cloud a")
    url = eps[-1]["data"]["url"]
    acked = {}
    for i in range(20):
        st, hd, body = request(url, "POST", "/rows", "row %d" % i)
        if st == 201:
            acked[json.loads(body)["id"]] = "row %d" % i
    check(len(acked) == 20, "20 rows written through the load balancer (%d acknowledged)" % len(acked))
    good = 0
    for row_id, value in acked.items():
        st, hd, body = request(url, "GET", "/rows/%d" % row_id)
        good += st == 200 and json.loads(body)["value"] == value
    check(good == len(acked), "every row read back")
    st, hd, body = request(url, "GET", "/rows/999999")
    check(st == 404, "a row that is not there: 404")
    st, hd, body = request(url, "GET", "/health")
    check(st == 200 and hd.get("x-cloud") == "a", "health through a web server of cloud a")

    t0 = time.time()
    so = fed.run("a", CFP, "scale_out", "sys=web3", "count=3")
    check(so.returncode == 0 and "1 here, 2 in the peer" in so.stdout, "scale_out by 3: one in a, two in b")
    served_b = None
    for i in range(60):
        st, hd, body = request(url, "POST", "/rows", "scaled %d" % i)
        if st == 201:
            acked[json.loads(body)["id"]] = "scaled %d" % i
            if hd.get("x-cloud") == "b":
                served_b = hd.get("x-served-by")
                break
    check(served_b is not None, "a request served by web server %s in cloud b (%.1f s after scale_out began)" % (served_b, time.time() - t0))

    # scale_in ends the peer's web servers first (the last added): one fewer in b, still served.
    si = fed.run("a", CFP, "scale_in", "sys=web3", "count=1")
    check(si.returncode == 0 and "scaled in by 1: 1 in the peer, 0 here" in si.stdout, "scale_in by 1: a web server in b ended")
    served = set()
    for i in range(40):
        st, hd, body = request(url, "POST", "/rows", "after scale-in %d" % i)
        if st == 201:
            acked[json.loads(body)["id"]] = "after scale-in %d" % i
            served.add(hd.get("x-served-by"))
    check(len(served) == 4 and sum(1 for a in served if a and a.startswith("127.2.")) == 1,
          "after scale_in: 4 web servers answer, 1 of them in b (%s)" % sorted(x for x in served if x))

    # The disaster: cloud a, its manager and every VM at once; writes go on meanwhile.
    for i in range(10):
        st, hd, body = request(url, "POST", "/rows", "last %d" % i)
        if st == 201:
            acked[json.loads(body)["id"]] = "last %d" % i
    fed.read_sessions()
    kill_at = time.time()
    fed.cfmc("local", "kill", "a")
    new_url, rto = None, None
    while time.time() - kill_at < 120:
        eps_b = [e for e in fed.events("b", "web3", "endpoint") if e["data"]["cloud"] == "b"]
        if eps_b:
            new_url = eps_b[-1]["data"]["url"]
            st, hd, body = request(new_url, "GET", "/health", timeout=2)
            if st == 200:
                rto = time.time() - kill_at
                break
        time.sleep(0.05)
    if not check(rto is not None, "b recovered web3 and answers at %s (RTO %s s)" % (new_url, "%.2f" % rto if rto else "-")):
        raise RuntimeError("no recovery")
    missing = []
    for row_id, value in acked.items():
        st, hd, body = request(new_url, "GET", "/rows/%d" % row_id)
        if not (st == 200 and json.loads(body)["value"] == value):
            missing.append(row_id)
    check(not missing, "RPO 0: all %d acknowledged writes are there after recovery (missing: %s)" % (len(acked), missing[:10]))
    st, hd, body = request(new_url, "POST", "/rows", "after")
    check(st == 201 and hd.get("x-cloud") == "b", "the recovered system takes writes in cloud b")
    stop = fed.run("b", CFP, "stop", "sys=web3")
    check(stop.returncode == 0 and "stopped 5 VMs in cloud b" in stop.stdout,
          "stop on b ends its 5 VMs (standby, the web server left, 2 app servers, the load balancer)")
    st, hd, body = request(new_url, "GET", "/health", timeout=2)
    check(st is None, "after stop nothing answers at %s" % new_url)
except Exception as e:  # noqa: BLE001 - any failure is reported with the managers' logs
    check(False, "unexpected: %s" % e)
    fed.show_logs()
finally:
    fed.down()
