#!/usr/bin/python3
# botocore_bench.py — the same work as cfm-cloud-bench from Python botocore (issue 13's
# comparison): N RunInstances, each followed by botocore's instance_running waiter (polling
# every second), on a 16-thread pool; then N TerminateInstances + instance_terminated waiters.
#   botocore_bench.py ENDPOINT REGION ACCESS_KEY SECRET [N]
import concurrent.futures
import resource
import sys
import threading
import time

import botocore.session
from botocore.config import Config


def main():
    endpoint, region, key, secret = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    session = botocore.session.get_session()
    client = session.create_client(
        "ec2", region_name=region, endpoint_url=endpoint, aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(max_pool_connections=16, retries={"mode": "standard", "max_attempts": 10}))
    peak_threads = [threading.active_count()]

    def run(_):
        r = client.run_instances(ImageId="ami-cfm-default", InstanceType="c1.micro", MinCount=1, MaxCount=1)
        iid = r["Instances"][0]["InstanceId"]
        client.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 600})
        peak_threads[0] = max(peak_threads[0], threading.active_count())
        return iid

    def terminate(iid):
        client.terminate_instances(InstanceIds=[iid])
        client.get_waiter("instance_terminated").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 600})

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        t0 = time.monotonic()
        ids = list(pool.map(run, range(n)))
        t1 = time.monotonic()
        list(pool.map(terminate, ids))
        t2 = time.monotonic()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"vms {n}\nrun (all running) {t1 - t0:.3f} s\nterminate (all terminated) {t2 - t1:.3f} s")
    print(f"peak RSS {rss:.1f} MiB\nthreads (peak) {peak_threads[0]}")


if __name__ == "__main__":
    main()
