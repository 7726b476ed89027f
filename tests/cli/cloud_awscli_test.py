#!/usr/bin/python3
# cloud_awscli_test.py — cfm-cloud driven by Debian's awscli (/usr/bin/aws): idempotent
# run-instances, describe-instances with filters and pagination, stop/start/terminate, volumes as
# symlinked directories, elastic addresses (TCP forwarded to an instance's web server), a wrong
# secret, an unknown key and the instance quota. Usage: cloud_awscli_test.py CFM_CLOUD_BINARY
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_lib import KEY_ID, SECRET, Cloud, check, finish, wait_for  # noqa: E402

BINARY = sys.argv[1]
WEB = ('[[images]]\nid = "ami-cfm-default"\nname = "cfm-default"\ncommand = ["/bin/sleep", "infinity"]\n\n'
       '[[images]]\nid = "ami-web"\nname = "web"\ncommand = ["/bin/sh", "-c", '
       '"exec /usr/bin/python3 -m http.server --bind $CFM_PRIVATE_ADDRESS 8080"]\n\n'
       '[[images]]\nid = "ami-broken"\nname = "broken"\ncommand = ["/nonexistent/cfm-test-command"]\n\n'
       '[cloud.extra]\n')


def main(tmp):
    extra = ('[quotas]\ninstances = 8\naddresses = 2\n\n' + WEB.replace('[cloud.extra]\n', ''))
    cloud = Cloud(BINARY, tmp, name="aws", index=9, extra=extra)
    # forward only 8080 (the instance's web server)
    with open(cloud.config) as f:
        text = f.read()
    with open(cloud.config, "w") as f:
        f.write(text.replace('stop_delay_ms = 20\n', 'stop_delay_ms = 20\nforward_ports = [8080]\n'))
    cloud.start()
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=cloud.region,
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="",
               AWS_MAX_ATTEMPTS="1")
    try:
        run(cloud, env)
    finally:
        cloud.close()
    check("cfm-cloud exits 0 on SIGTERM", cloud.proc.returncode == 0, cloud.proc.returncode)


def aws(cloud, env, *args, secret=None, key=None):
    e = dict(env)
    if secret:
        e["AWS_SECRET_ACCESS_KEY"] = secret
    if key:
        e["AWS_ACCESS_KEY_ID"] = key
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", cloud.endpoint, "--output", "json", "ec2"] + list(args),
                       env=e, capture_output=True, text=True)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def instances(cloud, env, *args):
    rc, out, err = aws(cloud, env, "describe-instances", *args)
    if rc != 0:
        raise RuntimeError(err)
    return [i for r in out["Reservations"] for i in r["Instances"]], out


def state_of(cloud, env, iid):
    return instances(cloud, env, "--instance-ids", iid)[0][0]["State"]["Name"]


def run(cloud, env):
    # Idempotent RunInstances: one client token, one instance.
    rc1, a, err = aws(cloud, env, "run-instances", "--image-id", "ami-cfm-default", "--instance-type", "c1.micro",
                      "--count", "1", "--client-token", "tok-1")
    rc2, b, _ = aws(cloud, env, "run-instances", "--image-id", "ami-cfm-default", "--instance-type", "c1.micro",
                    "--count", "1", "--client-token", "tok-1")
    check("run-instances twice with one token", rc1 == 0 and rc2 == 0, err)
    first = a["Instances"][0]["InstanceId"]
    check("same instance", b["Instances"][0]["InstanceId"] == first and a["ReservationId"] == b["ReservationId"])
    check("private address 127.9.1.1", a["Instances"][0]["PrivateIpAddress"] == "127.9.1.1",
          a["Instances"][0]["PrivateIpAddress"])
    check("one instance", len(instances(cloud, env)[0]) == 1)
    rc, _, err = aws(cloud, env, "run-instances", "--image-id", "ami-cfm-default", "--instance-type", "c1.small",
                     "--count", "1", "--client-token", "tok-1")
    check("same token, other parameters", rc != 0 and "IdempotentParameterMismatch" in err, err)

    # Five more, tagged; then filters and pagination.
    rc, r, err = aws(cloud, env, "run-instances", "--image-id", "ami-cfm-default", "--count", "5",
                     "--tag-specifications", "ResourceType=instance,Tags=[{Key=role,Value=web}]",
                     "--user-data", "hello")
    check("run five tagged", rc == 0 and len(r["Instances"]) == 5, err)
    tagged = [i["InstanceId"] for i in r["Instances"]]
    wait_for("running", lambda: all(i["State"]["Name"] == "running" for i in instances(cloud, env)[0]))
    root = os.path.join(cloud.state, "instances", tagged[0])
    with open(os.path.join(root, "user-data")) as f:
        check("user data in the instance's root", f.read() == "hello")
    check("filter tag:role", sorted(i["InstanceId"] for i in instances(
        cloud, env, "--filters", "Name=tag:role,Values=web")[0]) == sorted(tagged))
    check("filter tag-key", len(instances(cloud, env, "--filters", "Name=tag-key,Values=role")[0]) == 5)
    check("filter instance-state-name", len(instances(
        cloud, env, "--filters", "Name=instance-state-name,Values=running")[0]) == 6)
    check("filter availability-zone", len(instances(
        cloud, env, "--filters", "Name=availability-zone,Values=local-aws-1")[0]) == 6)
    check("filter instance-id", [i["InstanceId"] for i in instances(
        cloud, env, "--filters", "Name=instance-id,Values=" + first)[0]] == [first])
    check("filter wildcard", len(instances(cloud, env, "--filters", "Name=tag:role,Values=w*")[0]) == 5)
    rc, _, err = aws(cloud, env, "describe-instances", "--filters", "Name=no-such-filter,Values=x")
    check("unknown filter", rc != 0 and "InvalidParameterValue" in err, err)
    # awscli pages reservations (5 of the instances share one): --max-items 1 gives the first.
    page, out = instances(cloud, env, "--page-size", "5", "--max-items", "1")
    check("--max-items 1", len(out["Reservations"]) == 1 and "NextToken" in out, out)
    rest, out2 = instances(cloud, env, "--page-size", "5", "--starting-token", out.get("NextToken", ""))
    ids = [i["InstanceId"] for i in page + rest]
    check("--starting-token gives the rest", len(ids) == 6 and len(set(ids)) == 6, out2)
    check("--page-size 5 pages through all", len(instances(cloud, env, "--page-size", "5")[0]) == 6)
    rc, _, err = aws(cloud, env, "describe-instances", "--instance-ids", "i-0123456789abcdef0")
    check("unknown instance", rc != 0 and "InvalidInstanceID.NotFound" in err, err)
    rc, _, err = aws(cloud, env, "describe-instances", "--instance-ids", "nonsense")
    check("malformed instance id", rc != 0 and "InvalidInstanceID.Malformed" in err, err)

    # Stop, start, terminate.
    rc, out, err = aws(cloud, env, "stop-instances", "--instance-ids", first)
    check("stop", rc == 0 and out["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping", err)
    wait_for("stopped", lambda: state_of(cloud, env, first) == "stopped")
    check("stopped", True)
    rc, out, err = aws(cloud, env, "start-instances", "--instance-ids", first)
    check("start", rc == 0 and out["StartingInstances"][0]["PreviousState"]["Name"] == "stopped", err)
    wait_for("running again", lambda: state_of(cloud, env, first) == "running")
    check("running again", True)
    rc, out, err = aws(cloud, env, "terminate-instances", "--instance-ids", tagged[4])
    check("terminate", rc == 0 and out["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down", err)
    wait_for("terminated", lambda: state_of(cloud, env, tagged[4]) == "terminated")
    rc, _, err = aws(cloud, env, "start-instances", "--instance-ids", tagged[4])
    check("start a terminated instance", rc != 0 and "IncorrectInstanceState" in err, err)

    # Volumes.
    rc, v, err = aws(cloud, env, "create-volume", "--availability-zone", "local-aws-1", "--size", "2")
    check("create-volume", rc == 0 and v["Size"] == 2, err)
    vid = v["VolumeId"]
    check("volume directory", os.path.isdir(os.path.join(cloud.state, "volumes", vid)))
    rc, _, err = aws(cloud, env, "attach-volume", "--volume-id", vid, "--instance-id", first, "--device", "/dev/sdf")
    check("attach-volume", rc == 0, err)
    root = os.path.join(cloud.state, "instances", first)
    check("mounted at /mnt/volumes/<id>", os.path.realpath(os.path.join(root, "mnt/volumes", vid)) ==
          os.path.realpath(os.path.join(cloud.state, "volumes", vid)))
    check("device link", os.path.islink(os.path.join(root, "dev/sdf")))
    rc, out, _ = aws(cloud, env, "describe-volumes", "--volume-ids", vid)
    check("describe-volumes in-use", rc == 0 and out["Volumes"][0]["State"] == "in-use" and
          out["Volumes"][0]["Attachments"][0]["InstanceId"] == first, out)
    rc, _, err = aws(cloud, env, "attach-volume", "--volume-id", vid, "--instance-id", tagged[0], "--device", "/dev/sdg")
    check("attach twice", rc != 0 and "VolumeInUse" in err, err)
    rc, _, err = aws(cloud, env, "delete-volume", "--volume-id", vid)
    check("delete attached", rc != 0 and "VolumeInUse" in err, err)
    rc, _, err = aws(cloud, env, "detach-volume", "--volume-id", vid)
    check("detach-volume", rc == 0 and not os.path.lexists(os.path.join(root, "mnt/volumes", vid)), err)
    rc, _, err = aws(cloud, env, "attach-volume", "--volume-id", vid, "--instance-id", tagged[4], "--device", "/dev/sdg")
    check("attach to a terminated instance", rc != 0 and "IncorrectInstanceState" in err, err)
    rc, _, err = aws(cloud, env, "attach-volume", "--volume-id", vid, "--instance-id", first, "--device", "/dev/sdf")
    check("attach again", rc == 0, err)
    rc, _, err = aws(cloud, env, "detach-volume", "--volume-id", vid)
    check("detach-volume", rc == 0 and not os.path.lexists(os.path.join(root, "mnt/volumes", vid)), err)
    rc, _, err = aws(cloud, env, "delete-volume", "--volume-id", vid)
    check("delete-volume", rc == 0, err)
    rc, _, err = aws(cloud, env, "describe-volumes", "--volume-ids", vid)
    check("deleted volume", rc != 0 and "InvalidVolume.NotFound" in err, err)

    # Elastic addresses, forwarded to a web server in an instance.
    rc, w, err = aws(cloud, env, "run-instances", "--image-id", "ami-web", "--count", "1")
    check("web instance", rc == 0, err)
    web = w["Instances"][0]["InstanceId"]
    rc, addr, err = aws(cloud, env, "allocate-address")
    check("allocate-address", rc == 0 and addr["PublicIp"] == "127.9.200.1", err)
    rc, _, err = aws(cloud, env, "associate-address", "--allocation-id", addr["AllocationId"], "--instance-id", web)
    check("associate-address", rc == 0, err)
    url = "http://127.9.200.1:8080/"  # the instance root's listing

    def fetch():
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except OSError:
            return None

    check("TCP forwarded to the instance", b"console.log" in wait_for("the web instance", fetch))
    rc, out, _ = aws(cloud, env, "describe-addresses")
    check("describe-addresses", rc == 0 and out["Addresses"][0]["InstanceId"] == web, out)
    check("instance's public address", instances(cloud, env, "--instance-ids", web)[0][0].get(
        "PublicIpAddress") == "127.9.200.1")
    rc, _, err = aws(cloud, env, "release-address", "--allocation-id", addr["AllocationId"])
    check("release an associated address", rc != 0 and "InvalidIPAddress.InUse" in err, err)
    aws(cloud, env, "allocate-address")
    rc, _, err = aws(cloud, env, "allocate-address")
    check("address quota", rc != 0 and "AddressLimitExceeded" in err, err)
    rc, _, err = aws(cloud, env, "disassociate-address", "--public-ip", "127.9.200.1")
    check("disassociate-address", rc == 0 and fetch() is None, err)
    rc, _, err = aws(cloud, env, "release-address", "--allocation-id", addr["AllocationId"])
    check("release-address", rc == 0, err)
    rc, _, err = aws(cloud, env, "release-address", "--allocation-id", addr["AllocationId"])
    check("released address", rc != 0 and "InvalidAllocationID.NotFound" in err, err)

    # Tags.
    rc, _, err = aws(cloud, env, "create-tags", "--resources", first, "--tags", "Key=env,Value=test")
    check("create-tags", rc == 0 and instances(cloud, env, "--filters", "Name=tag:env,Values=test")[0][0][
        "InstanceId"] == first, err)
    rc, _, err = aws(cloud, env, "delete-tags", "--resources", first, "--tags", "Key=env")
    check("delete-tags", rc == 0 and not instances(cloud, env, "--filters", "Name=tag:env,Values=test")[0], err)

    # Catalogue.
    rc, out, _ = aws(cloud, env, "describe-images")
    check("describe-images", rc == 0 and {i["ImageId"] for i in out["Images"]} == {"ami-cfm-default", "ami-web",
                                                                                   "ami-broken"})
    rc, out, _ = aws(cloud, env, "describe-instance-types", "--instance-types", "c1.medium")
    check("describe-instance-types", rc == 0 and out["InstanceTypes"][0]["VCpuInfo"]["DefaultVCpus"] == 2, out)
    rc, out, _ = aws(cloud, env, "describe-availability-zones")
    check("describe-availability-zones", rc == 0 and out["AvailabilityZones"][0]["ZoneName"] == "local-aws-1", out)

    # Authentication and quota.
    rc, _, err = aws(cloud, env, "describe-instances", secret="not-the-secret")
    check("wrong secret", rc != 0 and "SignatureDoesNotMatch" in err, err)
    rc, _, err = aws(cloud, env, "describe-instances", key="AKIDUNKNOWN000000000")
    check("unknown key", rc != 0 and "AuthFailure" in err, err)
    rc, _, err = aws(cloud, env, "run-instances", "--image-id", "ami-cfm-default", "--count", "5")
    check("instance quota", rc != 0 and "InstanceLimitExceeded" in err, err)
    rc, _, err = aws(cloud, env, "run-instances", "--image-id", "ami-nope", "--count", "1")
    check("unknown image", rc != 0 and "InvalidAMIID.NotFound" in err, err)
    # An image whose command cannot run: the instance ends, and says why.
    rc, out, err = aws(cloud, env, "run-instances", "--image-id", "ami-broken", "--count", "1")
    check("run-instances of a broken image is accepted", rc == 0, err)
    broken = out["Instances"][0]["InstanceId"]
    wait_for("the broken instance to end", lambda: state_of(cloud, env, broken) == "terminated")
    reason = instances(cloud, env, "--instance-ids", broken)[0][0].get("StateReason", {})
    check("a process that cannot start is Server.InternalError",
          reason.get("Code") == "Server.InternalError" and "cannot run" in reason.get("Message", ""), reason)
    live = cloud.read_pgids()
    check("pgids lists the live instances", len(live) == 6, live)


with tempfile.TemporaryDirectory() as tmp:
    main(tmp)
finish()
