#!/usr/bin/python3
# hadoop_e2e_test.py — the Hadoop sample end to end on a real local federation (issue 16): two
# clouds with an instance quota of 4 each, hadoop imported into manager a and replicated to b,
# the standing `peer` procedure on b; `start` on a (master and 2 workers, every file rendered,
# put on its VM and checked as XML with xmllint there), then `scale_out` by 3: one worker fits in
# a, two start in b, and the master's workers file lists all five; the files on the VMs' roots
# are read back here. Hadoop itself is not on this machine: the procedure must say so.
#   hadoop_e2e_test.py CFMC SOURCE_DIR
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from federation_lib import Federation  # noqa: E402

CFMC, SRC = sys.argv[1], sys.argv[2]
SAMPLE = os.path.join(SRC, "samples", "hadoop")
CFP = os.path.join(SAMPLE, "hadoop.cfp")

fed = Federation(CFMC, clouds=2, instances="4")
check = fed.check
try:
    fed.import_sample(os.path.join(SAMPLE, "hadoop.ovf"), "hadoop")
    check(True, "hadoop imported into a reaches b")
    fed.cfmc("run", "--manager", "b", "--detach", CFP, "--proc", "peer", "--arg", "sys=hadoop")
    t0 = time.time()
    start = fed.run("a", CFP, "start", "sys=hadoop")
    check(start.returncode == 0, "start on a (%.1f s)" % (time.time() - t0))
    check("files, XML checked" in start.stdout and "workers file on the master: 2 workers" in start.stdout,
          "master and 2 workers configured, XML checked on the VMs")
    has_hadoop = "Hadoop daemons started" in start.stdout
    check(has_hadoop or "Hadoop is not installed on these VMs" in start.stdout,
          "the daemons started, or the procedure says plainly that Hadoop is not there")
    again = fed.run("a", CFP, "start", "sys=hadoop")
    check(again.returncode == 1 and "already runs" in again.stderr, "a second start is refused")

    so = fed.run("a", CFP, "scale_out", "sys=hadoop", "count=3")
    check(so.returncode == 0 and "1 here, 2 in the peer" in so.stdout, "scale_out by 3: one in a, two in b")
    check("workers file on the master: 5 workers" in so.stdout, "the master's workers file lists 5 workers")

    # The files as the VMs have them (each VM's root is a folder of its cloud's state).
    workers_files = glob.glob(os.path.join(fed.dir, "a", "**", "etc", "hadoop", "workers"), recursive=True)
    check(len(workers_files) == 1, "one workers file, on the master (%s)" % workers_files)
    if workers_files:
        with open(workers_files[0]) as f:
            listed = [l.strip() for l in f if l.strip()]
        check(len(listed) == 5 and sum(a.startswith("127.2.") for a in listed) == 2,
              "the workers file: 5 addresses, 2 of them in cloud b (%s)" % listed)
    peer_sites = glob.glob(os.path.join(fed.dir, "b", "**", "etc", "hadoop", "core-site.xml"), recursive=True)
    check(len(peer_sites) == 2, "two workers in cloud b have core-site.xml")
    for p in peer_sites:
        with open(p) as f:
            text = f.read()
        check("<value>hdfs://127.1." in text, "a worker in b points at the master in a (%s)" % p)
except Exception as e:  # noqa: BLE001 - any failure is reported with the managers' logs
    check(False, "unexpected: %s" % e)
    fed.show_logs()
finally:
    fed.down()
