# federation_lib.py — what the samples' end-to-end tests share (imported, not run): a local
# federation brought up with `cfmc local up` in a temp folder and always taken down by PID
# (`cfmc local down`), cfmc calls, a sample imported into manager a and awaited on b, the cfmd
# logs shown on failure, the VMs' sessions read from each cloud's pgids file and checked empty
# at the end, and pass/fail counting.
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def http_request(url, method, path, body=None, timeout=5):
    """One HTTP request to URL's host (`http://HOST:PORT/`): (status, headers with lower-case
    names, body text), or (None, None, the error's text) when it could not be made."""
    host = url.split("//", 1)[1].rstrip("/")
    h, _, port = host.partition(":")
    try:
        c = http.client.HTTPConnection(h, int(port or 80), timeout=timeout)
        c.request(method, path, body=body, headers={"Content-Type": "text/plain"} if body is not None else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data.decode()
    except (OSError, http.client.HTTPException) as e:
        return None, None, str(e)


def session_members(sids):
    """The live processes whose session or process group is one of `sids` (the VMs')."""
    left = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if rest[0] != "Z" and (int(rest[3]) in sids or int(rest[2]) in sids):
            left.append(int(name))
    return left


def federation_processes(d):
    """What a local federation in folder `d` recorded: (pids of its broker, clouds and managers,
    session ids of its VMs)."""
    pids, sids = [], set()
    try:
        with open(os.path.join(d, "context.json")) as f:
            c = json.load(f)
        pids = [c["broker"]["pid"]] if c.get("broker") else []
        pids += [k["pid"] for k in c["clouds"].values()] + [m.get("pid", 0) for m in c["managers"].values()]
        for k in c["clouds"]:
            try:
                with open(os.path.join(d, k, "state", "pgids")) as f:
                    sids.update(int(x) for x in f.read().split() if x.strip())
            except OSError:
                pass
    except (OSError, ValueError, KeyError):
        pass
    return [p for p in pids if p], sids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Federation:
    def __init__(self, cfmc, clouds=2, instances="7", verbose=True):
        self.cfmc_path = cfmc
        self.verbose = verbose
        self.tmp = tempfile.mkdtemp(prefix="cfm-e2e-")
        os.chmod(self.tmp, 0o755)
        self.dir = os.path.join(self.tmp, "cfm")
        self.env = dict(os.environ, CFM_CONTEXT=os.path.join(self.dir, "context.json"))
        self.clouds = [chr(ord("a") + i) for i in range(clouds)]
        self.failures = []
        self.sids = set()
        self.cfmc("local", "up", "--clouds", str(clouds), "--dir", self.dir, "--instances", instances,
                  "--boot-delay", "50ms", timeout=120)

    def log(self, msg, always=False):
        if self.verbose or always:
            print(msg, flush=True)

    def check(self, cond, what):
        self.log(("PASS " if cond else "FAIL ") + what, always=not cond)
        if not cond:
            self.failures.append(what)
        return cond

    def cfmc(self, *args, timeout=300, ok=True):
        p = subprocess.run([self.cfmc_path, *args], capture_output=True, text=True, timeout=timeout, env=self.env)
        if ok and p.returncode != 0:
            raise RuntimeError("cfmc %s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def run(self, manager, file, proc, *args, timeout=600):
        """`cfmc run --manager M FILE --proc P --arg ...`, its output printed."""
        argv = ["run", "--manager", manager, file, "--proc", proc]
        for a in args:
            argv += ["--arg", a]
        p = self.cfmc(*argv, timeout=timeout, ok=False)
        self.log(p.stdout + p.stderr)
        return p

    def import_sample(self, ovf, system):
        """Imports into manager a and waits (30 s at most) until every manager has it."""
        self.cfmc("ovf", "import", ovf, "--manager", "a")
        deadline = time.time() + 30
        for m in self.clouds[1:]:
            while self.cfmc("ovf", "show", system, "--manager", m, ok=False).returncode != 0:
                if time.time() > deadline:
                    raise RuntimeError("%s did not reach manager %s within 30 s" % (system, m))
                time.sleep(0.2)

    def events(self, manager, system, name):
        p = self.cfmc("events", system, "--manager", manager, "--json", "--name", name, ok=False)
        return [json.loads(l) for l in p.stdout.splitlines() if l.strip().startswith("{")]

    def read_sessions(self):
        self.sids.update(federation_processes(self.dir)[1])

    def show_logs(self):
        for c in self.clouds:
            path = os.path.join(self.dir, c, "cfmd.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    self.log("--- %s (last lines)\n%s" % (path, "".join(f.readlines()[-30:])), always=True)

    def session_members(self):
        return session_members(self.sids)

    def down(self):
        """Stops everything; checks that no process of any VM is left; exits 1 on failures."""
        self.read_sessions()
        d = subprocess.run([self.cfmc_path, "local", "down", "--dir", self.dir], capture_output=True, text=True,
                           timeout=120, env=self.env)
        self.check(d.returncode == 0, "local down")
        left = self.session_members()
        self.check(not left, "no process of any VM left (%s)" % left)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.failures:
            self.log("%d check(s) failed" % len(self.failures), always=True)
            sys.exit(1)
        self.log("all checks passed")
