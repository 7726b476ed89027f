#!/usr/bin/python3
# demo_test.py — `cfmc demo` (issue 16, docs/demo.md) as a user runs it: usage errors and help;
# a whole run with --json (every step ok, a request served in cloud b after the scale-out, the
# system recovered with RPO 0 and an RTO, exit status 0) that leaves no process of the
# federation or its VMs; and a run interrupted with SIGINT during `start`, which still stops
# everything and exits 1.
#   demo_test.py CFMC
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from federation_lib import alive, federation_processes, session_members  # noqa: E402

CFMC = sys.argv[1]
failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def nothing_left(d, what):
    pids, sids = federation_processes(d)
    check(bool(pids) and not [p for p in pids if alive(p)] and not session_members(sids),
          "%s: no process of the federation (%d) or its VMs (%d sessions) left" % (what, len(pids), len(sids)))


tmp = tempfile.mkdtemp(prefix="cfm-demo-test-")
os.chmod(tmp, 0o755)

p = subprocess.run([CFMC, "demo", "--bogus"], capture_output=True, text=True)
check(p.returncode == 2 and "unknown argument `--bogus`" in p.stderr, "an unknown argument: exit 2")
p = subprocess.run([CFMC, "demo", "--help"], capture_output=True, text=True)
check(p.returncode == 0 and "usage: cfmc demo" in p.stdout and "RTO" in p.stdout, "--help")
p = subprocess.run([CFMC, "demo", "--sample", tmp], capture_output=True, text=True)
check(p.returncode == 2 and "has no web3.cfp" in p.stderr, "--sample without the sample: exit 2")

d = os.path.join(tmp, "whole")
p = subprocess.run([CFMC, "demo", "--json", "--dir", d], capture_output=True, text=True, timeout=400)
lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
summary = [l for l in lines if l.get("event") == "summary"]
steps = {l["step"]: l["status"] for l in lines if l.get("event") == "step" and l["status"] != "started"}
check(p.returncode == 0, "a whole run exits 0")
check(all(steps.get(s) == "ok" for s in ("up", "import", "peer", "start", "scale_out", "served_in_b", "kill",
                                          "recover", "verify", "down")), "every step ok (%s)" % steps)
check(any(l.get("event") == "load" for l in lines), "live load counts as JSON events")
if summary:
    s = summary[0]
    check(s["ok"] is True and s["rpo_writes"] == 0 and s["acked_writes"] > 0, "RPO 0 of %s acknowledged writes" % s["acked_writes"])
    check(isinstance(s["rto_seconds"], (int, float)) and s["rto_seconds"] > 0, "an RTO (%s s)" % s["rto_seconds"])
    check(s["by_cloud"].get("b", 0) > 0 and s["by_cloud"].get("a", 0) > 0, "requests served in both clouds (%s)" % s["by_cloud"])
    check(isinstance(s["scale_out_seconds"], (int, float)), "a scale-out time (%s s)" % s["scale_out_seconds"])
else:
    check(False, "a summary event")
    print(p.stdout[-3000:], p.stderr[-3000:])
nothing_left(d, "after a whole run")

# Ctrl-C during `start`: the demo stops it, runs `cfmc local down`, exits 1.
d = os.path.join(tmp, "interrupted")
proc = subprocess.Popen([CFMC, "demo", "--json", "--dir", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
seen_start = False
deadline = time.time() + 120
for line in proc.stdout:
    if '"step":"start"' in line and '"started"' in line:
        seen_start = True
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        break
    if time.time() > deadline:
        break
out, err = proc.communicate(timeout=180)
check(seen_start, "the interrupted run reached `start`")
check(proc.returncode == 1, "interrupted: exit 1 (%s)" % proc.returncode)
ilines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
check(any(l.get("event") == "step" and l.get("step") == "down" and l.get("status") == "ok" for l in ilines) and
      any(l.get("event") == "summary" and l.get("interrupted") is True and l.get("ok") is False for l in ilines),
      "interrupted: `down` still ran, the summary says interrupted")
nothing_left(d, "after Ctrl-C")

subprocess.run(["rm", "-rf", tmp])
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
