#!/usr/bin/python3
# cloud_botocore_test.py — cfm-cloud driven by botocore (Debian's python3-botocore) as a second,
# independent client: run/describe/terminate with a waiter, presigned (query-string) requests,
# hostile requests (malformed query, unknown Action or Version, a body over 1 MiB, invalid UTF-8,
# ten thousand parameters, no signature, an expired one) that must each get an EC2 error
# document, throttling (RequestLimitExceeded, HTTP 503), the vCPU quota, and a cfm-cloud killed
# with SIGKILL and restarted on the same state directory: the instance still running is adopted,
# the one killed meanwhile is terminated; an image running cfm-vm-idle (the process that only
# waits) through stop, start and terminate. Usage: cloud_botocore_test.py CFM_CLOUD_BINARY
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_lib import KEY_ID, SECRET, Cloud, check, finish, wait_for  # noqa: E402

BINARY = sys.argv[1]


def client(cloud, key=KEY_ID, secret=SECRET):
    s = botocore.session.get_session()
    return s.create_client("ec2", region_name=cloud.region, endpoint_url=cloud.endpoint, aws_access_key_id=key,
                           aws_secret_access_key=secret,
                           config=Config(retries={"max_attempts": 0}))


def code_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
        return None
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def raw(cloud, body, sign=True, headers=None, when=None):
    """Sends `body` (bytes) as a POST, signed with botocore's SigV4 signer; returns (status, code)."""
    req = AWSRequest(method="POST", url=cloud.endpoint, data=body,
                     headers=dict({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                                  **(headers or {})))
    if sign:
        auth = SigV4Auth(Credentials(KEY_ID, SECRET), "ec2", cloud.region)
        if when is not None:
            import datetime
            import unittest.mock
            with unittest.mock.patch("botocore.auth.datetime") as dt:
                dt.datetime.utcnow.return_value = when
                dt.datetime.now.return_value = when
                dt.timezone = datetime.timezone
                auth.add_auth(req)
        else:
            auth.add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    return send(r)


def send(r):
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, None
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            root = ET.fromstring(text)
            code = root.find("./Errors/Error/Code")
            return e.code, code.text if code is not None else "not an EC2 error document: " + text[:80].decode()
        except ET.ParseError:
            return e.code, "not XML: " + text[:80].decode("latin-1")


def basics(cloud):
    ec2 = client(cloud)
    r = ec2.run_instances(ImageId="ami-cfm-default", InstanceType="c1.small", MinCount=2, MaxCount=2,
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}])
    ids = [i["InstanceId"] for i in r["Instances"]]
    check("botocore run_instances", len(ids) == 2 and r["Instances"][0]["State"]["Name"] == "pending")
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    check("waiter instance_running", True)
    d = ec2.describe_instances(Filters=[{"Name": "tag:k", "Values": ["v"]}])
    check("describe by tag", sorted(i["InstanceId"] for res in d["Reservations"] for i in res["Instances"]) ==
          sorted(ids))
    # An instance-id filter without wildcards names its candidates (cfm-cloud looks them up
    # instead of matching every instance); the other filters still apply to them, unknown ids
    # match nothing, and a value with a wildcard still matches against every instance.
    def by_filters(*filters):
        d = ec2.describe_instances(Filters=[{"Name": n, "Values": v} for n, v in filters])
        return sorted(i["InstanceId"] for res in d["Reservations"] for i in res["Instances"])
    check("filter instance-id, exact", by_filters(("instance-id", [ids[1], "i-0123456789abcdef0", ids[0]])) ==
          sorted(ids))
    check("filter instance-id and a state they are in", by_filters(
        ("instance-id", ids), ("instance-state-name", ["running", "stopped"])) == sorted(ids))
    check("filter instance-id and a state they are not in", by_filters(
        ("instance-id", ids), ("instance-state-name", ["stopped", "terminated"])) == [])
    check("filter instance-id, wildcard", by_filters(("instance-id", [ids[0][:-3] + "*"])) ==
          sorted(i for i in ids if i.startswith(ids[0][:-3])))
    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    check("paginator", sum(len(res["Instances"]) for p in pages for res in p["Reservations"]) == 2)

    # A presigned GET (the query-string form of SigV4).
    req = AWSRequest(method="GET", url=cloud.endpoint + "?Action=DescribeInstances&Version=2016-11-15")
    SigV4QueryAuth(Credentials(KEY_ID, SECRET), "ec2", cloud.region, expires=300).add_auth(req)
    status, code = send(urllib.request.Request(req.prepare().url))
    check("presigned query", status == 200, (status, code))

    c = code_of(ec2.run_instances, ImageId="ami-cfm-default", InstanceType="c1.xlarge", MinCount=1, MaxCount=1)
    check("vCPU quota", c == ("InsufficientInstanceCapacity", 500), c)
    c = code_of(client(cloud, secret="wrong").describe_instances)
    check("wrong secret", c == ("SignatureDoesNotMatch", 403), c)
    c = code_of(client(cloud, key="AKIDNOBODY0000000000").describe_instances)
    check("unknown key", c == ("AuthFailure", 401), c)
    c = code_of(ec2.attach_volume, VolumeId="vol-0123456789abcdef0", InstanceId=ids[0], Device="/dev/sdf")
    check("unknown volume", c == ("InvalidVolume.NotFound", 400), c)
    c = code_of(ec2.associate_address, AllocationId="eipalloc-0123456789abcdef0", InstanceId=ids[0])
    check("unknown allocation", c == ("InvalidAllocationID.NotFound", 400), c)
    t = ec2.terminate_instances(InstanceIds=ids)
    check("terminate", all(x["CurrentState"]["Name"] == "shutting-down" for x in t["TerminatingInstances"]))
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    check("waiter instance_terminated", True)


def listen_backlog(cloud):
    # httplib's own backlog is 5: dozens of connections opened at once had SYNs dropped and
    # retried seconds later. ss shows a listening socket's backlog as its Send-Q.
    port = cloud.endpoint.rstrip("/").rsplit(":", 1)[1]
    if not shutil.which("ss"):
        print("skip: listen backlog (no `ss` on this machine)")
        return
    out = subprocess.run(["ss", "-ltnH", "sport = :" + port], capture_output=True, text=True).stdout.split()
    check("listen backlog", len(out) >= 3 and out[0] == "LISTEN" and int(out[2]) >= 1024, out)


def hostile(cloud):
    ok = b"Action=DescribeInstances&Version=2016-11-15"
    check("signed raw request", raw(cloud, ok) == (200, None))
    cases = [
        ("malformed query", b"Action=DescribeInstances&Version=2016-11-15&x=%zz", "MalformedQueryString", 400),
        ("unknown Action", b"Action=LaunchMissiles&Version=2016-11-15", "InvalidAction", 400),
        ("unknown Version", b"Action=DescribeInstances&Version=2099-01-01", "InvalidAction", 400),
        ("no Action", b"Version=2016-11-15", "MissingAction", 400),
        ("invalid UTF-8", b"Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=%ff%fe", "MalformedQueryString",
         400),
        ("ten thousand parameters", ok + b"".join(b"&p%d=1" % i for i in range(10000)), "MalformedQueryString", 400),
        ("body over 1 MiB", ok + b"&UserData=" + b"A" * (1 << 20), "MalformedQueryString", 400),
        ("a parameter twice", ok + b"&MaxResults=5&MaxResults=6", "InvalidParameterValue", 400),
        ("bad list index", ok + b"&InstanceId.01=i-0123456789abcdef0", "InvalidParameterValue", 400),
    ]
    for name, body, code, status in cases:
        got = raw(cloud, body)
        check(name, got == (status, code), got)
    got = raw(cloud, ok, sign=False)
    check("no signature", got == (403, "MissingAuthenticationToken"), got)
    import datetime
    old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    got = raw(cloud, ok, when=old)
    check("signed 20 minutes ago", got == (400, "RequestExpired"), got)
    # A body far larger than any request: refused by the HTTP layer, still an EC2 document.
    got = raw(cloud, ok + b"&UserData=" + b"A" * (80 << 20), sign=False)
    check("80 MiB body", got[0] == 400 and got[1] == "MalformedQueryString", got)
    check("still serving", raw(cloud, ok) == (200, None))


def throttle(tmp):
    cloud = Cloud(BINARY, tmp, name="thr", index=11, extra="[throttle]\nrate = 0.001\nburst = 3\n").start()
    try:
        ec2 = client(cloud)
        for _ in range(3):
            ec2.describe_availability_zones()
        c = code_of(ec2.describe_availability_zones)
        check("token bucket empty: RequestLimitExceeded", c == ("RequestLimitExceeded", 503), c)
    finally:
        cloud.close()


def restart(tmp):
    cloud = Cloud(BINARY, tmp, name="rs", index=12).start()
    try:
        ec2 = client(cloud)
        ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-cfm-default", MinCount=2,
                                                            MaxCount=2)["Instances"]]
        ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        pgids = sorted(cloud.read_pgids())
        check("two process groups", len(pgids) == 2, pgids)
        # A disaster: cfm-cloud dies, then one instance's process group.
        cloud.stop(signal.SIGKILL)
        victim = ids[1]
        with open(os.path.join(cloud.state, "instances", victim, "pid"), "w"):
            pass  # the root is the instance's: it stays after the restart
        victim_pgid = None
        for g in pgids:
            cwd = os.readlink("/proc/%d/cwd" % g)
            if cwd.endswith(victim):
                victim_pgid = g
        os.killpg(victim_pgid, signal.SIGKILL)
        wait_for("the killed group to go", lambda: not os.path.exists("/proc/%d/cwd" % victim_pgid) or
                 open("/proc/%d/stat" % victim_pgid).read().split()[2] == "Z")
        cloud.start()
        ec2 = client(cloud)
        states = {i["InstanceId"]: i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                  for i in r["Instances"]}
        check("adopted after restart", states[ids[0]]["State"]["Name"] == "running", states[ids[0]]["State"])
        check("dead instance terminated", states[victim]["State"]["Name"] == "terminated" and
              states[victim].get("StateReason", {}).get("Code") == "Server.InternalError", states[victim])
        check("pgids after restart", cloud.read_pgids() == {pgids[0]} or cloud.read_pgids() == set(pgids) - {
            victim_pgid}, cloud.read_pgids())
        ec2.terminate_instances(InstanceIds=[ids[0]])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[ids[0]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        check("adopted instance terminates", True)
    finally:
        cloud.close()


def idle_image(tmp):
    """An instance of cfm-vm-idle (built beside cfm-cloud): its process runs in the instance's
    root, and stop, start and terminate end and restart it as they do any image's."""
    idle = os.path.join(os.path.dirname(os.path.abspath(BINARY)), "cfm-vm-idle")
    cloud = Cloud(BINARY, tmp, name="idle", index=13,
                  extra='[[images]]\nid = "ami-idle"\ncommand = ["%s"]\n' % idle).start()
    try:
        ec2 = client(cloud)
        iid = ec2.run_instances(ImageId="ami-idle", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        [pgid] = wait_for("the idle instance's group", cloud.read_pgids)
        check("idle instance runs cfm-vm-idle in its root",
              os.readlink("/proc/%d/exe" % pgid) == idle and os.readlink("/proc/%d/cwd" % pgid).endswith(iid),
              (os.readlink("/proc/%d/exe" % pgid), os.readlink("/proc/%d/cwd" % pgid)))

        def gone(g):
            try:
                return open("/proc/%d/stat" % g).read().split()[2] == "Z"
            except OSError:
                return True
        ec2.stop_instances(InstanceIds=[iid])
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        check("stopping ends the idle process", wait_for("the idle process to end", lambda: gone(pgid)))
        ec2.start_instances(InstanceIds=[iid])
        ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        again = wait_for("a new process group", lambda: cloud.read_pgids() - {pgid})
        check("started again: a new idle process", len(again) == 1, again)
        ec2.terminate_instances(InstanceIds=[iid])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        check("terminating ends it", wait_for("the idle process to end", lambda: gone(min(again))))
    finally:
        cloud.close()


with tempfile.TemporaryDirectory() as tmp:
    cloud = Cloud(BINARY, tmp, name="bc", index=10, extra="[quotas]\nvcpus = 6\n").start()
    try:
        basics(cloud)
        listen_backlog(cloud)
        hostile(cloud)
    finally:
        cloud.close()
    throttle(tmp)
    restart(tmp)
    idle_image(tmp)
finish()
