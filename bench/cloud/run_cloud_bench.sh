#!/bin/sh
# run_cloud_bench.sh — issue 13's benchmark: starts a cfm-cloud (quotas and throttle raised so
# that the cloud is not the limit) in a temporary directory, runs cfm-cloud-bench (N VMs through
# the EC2 driver from one scheduler thread) and botocore_bench.py (the same from botocore with 16
# threads) against it, prints both, and stops the cloud by its PID and its instances by their
# process groups.
#   bench/cloud/run_cloud_bench.sh BUILD_DIR [N]
set -eu
build=$(cd "$1" && pwd)
n=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/cfm-cloud-bench-XXXXXX)
cloud_pid=
cleanup() {
  if [ -n "$cloud_pid" ]; then kill -TERM "$cloud_pid" 2>/dev/null || true; wait "$cloud_pid" 2>/dev/null || true; fi
  if [ -f "$dir/state/pgids" ]; then while read -r pg; do kill -KILL -- "-$pg" 2>/dev/null || true; done < "$dir/state/pgids"; fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
cat > "$dir/cloud.toml" <<TOML
[cloud]
name = "bench"
index = 77
listen = "127.0.0.1:0"
region = "local-bench"
state_dir = "state"
boot_delay_ms = 200
stop_delay_ms = 100
[[access_keys]]
id = "AKIDBENCH00000000001"
secret = "bench-secret"
[quotas]
instances = $((n * 3))
vcpus = $((n * 3))
addresses = 5
[throttle]
rate = 5000.0
burst = 5000
[[images]]
id = "ami-cfm-default"
name = "cfm-default"
command = ["/bin/sleep", "infinity"]
TOML
printf '[bench]\naws_access_key_id = AKIDBENCH00000000001\naws_secret_access_key = bench-secret\n' > "$dir/credentials"
"$build/bin/cfm-cloud" --config "$dir/cloud.toml" 2> "$dir/cloud.log" &
cloud_pid=$!
i=0
until [ -f "$dir/state/cfm-cloud.json" ]; do
  i=$((i + 1)); [ $i -lt 500 ] || { echo "cfm-cloud did not start:"; cat "$dir/cloud.log"; exit 1; }
  sleep 0.02
done
endpoint=$(sed -n 's/.*"endpoint" *: *"\([^"]*\)".*/\1/p' "$dir/state/cfm-cloud.json")
cat > "$dir/manager.toml" <<TOML
[manager]
name = "bench"
store = "store.db"
[cloud]
name = "bench"
endpoint = "$endpoint"
region = "local-bench"
credentials = "credentials"
profile = "bench"
[mapping]
default_image = "ami-cfm-default"
instance_types = [ { name = "c1.micro", vcpus = 1, memory_mib = 512 } ]
TOML
echo "== CFM (cfm-cloud-bench, one scheduler thread, one HTTP thread)"
/usr/bin/time -f "wall %e s, max RSS %M KiB (whole process)" "$build/bin/cfm-cloud-bench" --config "$dir/manager.toml" --vms "$n"
echo "== botocore (16 threads)"
/usr/bin/time -f "wall %e s, max RSS %M KiB (whole process)" /usr/bin/python3 "$here/botocore_bench.py" "$endpoint" local-bench AKIDBENCH00000000001 bench-secret "$n"
