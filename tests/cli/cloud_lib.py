# cloud_lib.py — what the cfm-cloud end-to-end tests share (imported, not run): starting a real
# cfm-cloud on a free loopback port in a temp state directory (its port read from
# <state_dir>/cfm-cloud.json), stopping it by PID and killing the process groups of the instances
# it started (read from <state_dir>/pgids), and pass/fail counting.
import json
import os
import signal
import subprocess
import sys
import time

KEY_ID = "AKIDLOCALTEST0000001"
SECRET = "cfm-cloud-test-secret"

fails = 0


def check(name, ok, detail=""):
    global fails
    if ok:
        print("ok   " + name)
    else:
        fails += 1
        print("FAIL " + name + (": " + str(detail)[:600] if detail else ""))


def finish():
    if fails:
        print("%d failure(s)" % fails)
        sys.exit(1)
    print("all passed")


def wait_for(what, predicate, bound=60.0):
    """Polls predicate until it is true (a wait, not a timed assertion: the bound only keeps a
    broken server from hanging the test)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError("gave up waiting for " + what)


class Cloud:
    def __init__(self, binary, tmp, name="t", index=9, extra=""):
        self.binary, self.dir = binary, os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "cloud.toml")
        self.region = "local-" + name
        with open(self.config, "w") as f:
            f.write('[cloud]\nname = "%s"\nindex = %d\nlisten = "127.0.0.1:0"\nstate_dir = "state"\n'
                    'boot_delay_ms = 50\nstop_delay_ms = 20\n\n[[access_keys]]\nid = "%s"\nsecret = "%s"\n\n%s\n'
                    % (name, index, KEY_ID, SECRET, extra))
        self.proc = None
        self.pgids = set()

    def start(self):
        info = os.path.join(self.state, "cfm-cloud.json")
        if os.path.exists(info):
            os.unlink(info)
        self.log = open(os.path.join(self.dir, "cfm-cloud.log"), "a")
        self.proc = subprocess.Popen([self.binary, "--config", self.config], stderr=self.log)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("cfm-cloud exited with %d" % self.proc.returncode)
            try:
                with open(info) as f:
                    j = json.load(f)
                return j if j["pid"] == self.proc.pid else None
            except (OSError, ValueError):
                return None

        self.info = wait_for("cfm-cloud.json", ready)
        self.endpoint = self.info["endpoint"]
        return self

    def read_pgids(self):
        try:
            with open(os.path.join(self.state, "pgids")) as f:
                now = {int(l) for l in f.read().split()}
        except OSError:
            now = set()
        self.pgids |= now
        return now

    def stop(self, sig=signal.SIGTERM):
        """Stops cfm-cloud by its PID; returns its exit status."""
        self.read_pgids()
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill_instances(self):
        self.read_pgids()
        for g in self.pgids:
            try:
                os.killpg(g, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self):
        self.stop()
        self.kill_instances()
