#!/usr/bin/python3
"""agent_bench.py — issue 14's agent benchmarks, against OpenSSH and Ansible:

  rtt    one `run_agent_command(vm, "true")` round trip against `ssh 127.0.0.1 true` (OpenSSH,
         key authentication, an sshd of this script's own). Measured three ways: the whole
         `cfmc run --manager a agent_bench_rtt.cfp` process doing one call against a VM that
         already runs, the whole `ssh ... true` process, and the per-call time inside a
         procedure (CALLS calls one after another, timed in batches; median over batches).
         Goal: at most 0.2x ssh's time.
  fanout `uname -a` on N VMs (default 50) with `async run_agent_command` in one procedure
         (agent_bench_uname.cfp; whole `cfmc run --manager` process, and the time inside the
         procedure) against Ansible's ad-hoc `ansible all -m command -a 'uname -a'` on N SSH
         hosts (N loopback addresses 127.77.0.x served by the same sshd) with forks 5 and 50.
         Goal: at most 0.1x Ansible's wall time at forks 50.

Runs are interleaved (ROUNDS of each, after one warm-up run of each that is not counted); medians
and ratios are printed. Everything runs on 127.0.0.0/8. What it starts (`cfmc local up --clouds 1`
in a temporary directory, the sshd, Ansible's ssh control masters) is stopped at the end, also on
failure or SIGINT/SIGTERM.

Needs openssh-server, openssh-client and ansible-core: `scripts/bootstrap.sh --bench` installs them.

usage: /usr/bin/python3 bench/agent/agent_bench.py [--build DIR] [--rounds 7] [--n 50]
                                                    [--calls 200] [--only rtt|fanout] [--nodelay-shim]
--nodelay-shim is a diagnostic (bench/README.md, "Agents"): CFM's processes with TCP_NODELAY.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SSHD = "/usr/sbin/sshd"
HOST_NET = "127.77.0."          # the Ansible hosts: 127.77.0.1 .. 127.77.0.N (cloud a uses 127.1.x.y)


def die(msg):
    sys.exit(f"agent_bench: {msg}")


def check_tools():
    missing = [p for p in (SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/ansible")
               if not os.access(p, os.X_OK)]
    if missing:
        die("missing " + ", ".join(missing) + ": run `scripts/bootstrap.sh --bench` (as root) "
            "to install openssh-server, openssh-client and ansible-core")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(cmd, env=None, check_out=None):
    """Wall time of one whole process; its stdout is checked with the regex check_out."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0 or (check_out and not re.search(check_out, p.stdout)):
        die(f"{cmd[0]} failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return wall, p.stdout


class Sshd:
    """An sshd of our own: its host key, client key and authorized_keys in a temporary dir,
    listening on 127.0.0.1 and on n further loopback addresses, all on one free port.
    stop() stops what start() started, whatever it reached."""
    procs, logs = [], []

    def start(self, tmp, n):
        self.dir = os.path.join(tmp, "ssh")
        os.makedirs(self.dir, mode=0o700)
        self.port = free_port()
        self.key = os.path.join(self.dir, "client_key")
        host_key = os.path.join(self.dir, "host_key")
        for k in (self.key, host_key):
            subprocess.run(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
            os.chmod(k, 0o600)
        auth = os.path.join(self.dir, "authorized_keys")
        shutil.copy(self.key + ".pub", auth)
        os.chmod(auth, 0o600)
        self.hosts = [f"{HOST_NET}{i}" for i in range(1, n + 1)]
        os.makedirs("/run/sshd", exist_ok=True)
        # OpenSSH listens on at most 16 addresses (MAX_LISTEN_SOCKS): one sshd per 16 of them,
        # all with the same keys and port
        addrs = ["127.0.0.1"] + self.hosts
        self.procs, self.logs = [], []   # filled as each starts
        for k in range(0, len(addrs), 16):
            conf = os.path.join(self.dir, f"sshd_config.{k // 16}")
            with open(conf, "w") as f:
                f.write("# agent_bench.py's own sshd\n")
                f.write(f"Port {self.port}\n")
                for a in addrs[k:k + 16]:
                    f.write(f"ListenAddress {a}:{self.port}\n")
                f.write(f"HostKey {host_key}\nAuthorizedKeysFile {auth}\nPidFile none\n"
                        "UsePAM no\nStrictModes no\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
                        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n"
                        "PrintMotd no\nPrintLastLog no\nLogLevel ERROR\n"
                        # Ansible at forks 50 opens many connections at once: sshd's default
                        # (10:30:100) would drop some of them
                        "MaxStartups 200\nMaxSessions 100\n"
                        # sshd runs a command through the user's shell; Debian's bash then reads
                        # ~/.bashrc when SSH_CLIENT is set and SHLVL < 2 (SSH_SOURCE_BASHRC): on
                        # this machine root's .bashrc (pyenv init) takes a second, which would be
                        # measured as ssh's. SHLVL=1 skips it, as a stock Debian .bashrc costs
                        # next to nothing
                        "SetEnv SHLVL=1\n")
            log = open(os.path.join(self.dir, f"sshd.{k // 16}.log"), "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen([SSHD, "-D", "-f", conf, "-e"], stdin=subprocess.DEVNULL,
                                               stdout=log, stderr=subprocess.STDOUT))
            self.wait_listening(self.procs[-1], log, addrs[min(k + 15, len(addrs) - 1)])

    def wait_listening(self, proc, log, addr):
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                die(f"sshd exited ({proc.returncode}): " + open(log.name).read()[-2000:])
            try:
                socket.create_connection((addr, self.port), 0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    die("sshd does not answer")
                time.sleep(0.05)

    def ssh_cmd(self, host="127.0.0.1"):
        return ["/usr/bin/ssh", "-F", "/dev/null", "-i", self.key, "-p", str(self.port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-l", "root", host]

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()           # by its PID (Popen), never by name
        for proc, log in zip(self.procs, self.logs):
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


class Ansible:
    """Ansible's ad-hoc command on the sshd's hosts, with its own config, inventory and temp dirs;
    ssh settings as Ansible's defaults (ControlPersist 60s) with the control sockets in our dir."""
    cp = None

    def start(self, tmp, sshd):
        self.dir = os.path.join(tmp, "ansible")
        os.makedirs(self.dir)
        self.cp = os.path.join(self.dir, "cp")
        os.makedirs(self.cp)
        self.inventory = os.path.join(self.dir, "hosts.ini")
        with open(self.inventory, "w") as f:
            f.write("[bench]\n")
            for i, h in enumerate(sshd.hosts):
                f.write(f"h{i + 1} ansible_host={h} ansible_port={sshd.port}\n")
        cfg = os.path.join(self.dir, "ansible.cfg")
        with open(cfg, "w") as f:
            f.write("# agent_bench.py's Ansible configuration\n[defaults]\n")
        self.env = dict(os.environ,
                        ANSIBLE_CONFIG=cfg,
                        ANSIBLE_HOST_KEY_CHECKING="False",
                        ANSIBLE_PIPELINING="True",
                        ANSIBLE_REMOTE_USER="root",
                        ANSIBLE_PRIVATE_KEY_FILE=sshd.key,
                        ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
                        ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, "tmp"),
                        ANSIBLE_REMOTE_TEMP=os.path.join(self.dir, "remote"),
                        ANSIBLE_HOME=os.path.join(self.dir, "home"),
                        ANSIBLE_SSH_CONTROL_PATH_DIR=self.cp,
                        ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s "
                                         "-o UserKnownHostsFile=/dev/null -F /dev/null",
                        ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOAD_CALLBACK_PLUGINS="0",
                        ANSIBLE_RETRY_FILES_ENABLED="False")
        self.n = len(sshd.hosts)

    def run(self, forks):
        wall, out = timed(["/usr/bin/ansible", "all", "-i", self.inventory, "-m", "command",
                           "-a", "uname -a", "-f", str(forks), "-o"], env=self.env)
        ok = len(re.findall(r"\| CHANGED \| rc=0 \| \(stdout\) Linux", out))
        if ok != self.n:
            die(f"ansible: {ok}/{self.n} hosts answered\n{out[-2000:]}")
        return wall

    def stop(self):
        if self.cp is None:
            return
        # the control masters Ansible's ssh left behind (ControlPersist): ask each to exit
        for sock in glob.glob(os.path.join(self.cp, "*")):
            subprocess.run(["/usr/bin/ssh", "-F", "/dev/null", "-o", f"ControlPath={sock}", "-O", "exit", "x"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Cfm:
    """`cfmc local up --clouds 1` (cloud a, the broker, manager a's cfmd), web3 imported, N VMs."""
    up = False

    def start(self, tmp, build, n, engine, preload=None):
        self.cfmc = os.path.join(build, "bin", "cfmc")
        if not os.access(self.cfmc, os.X_OK):
            die(f"no {self.cfmc}: build first (scripts/build.sh release) or give --build DIR")
        self.dir = os.path.join(tmp, "cfm")
        self.engine = engine
        self.up = True   # `local down` also cleans up after a failed `up`
        up_env = dict(os.environ, LD_PRELOAD=preload) if preload else None
        subprocess.run([self.cfmc, "local", "up", "--clouds", "1", "--dir", self.dir,
                        "--instances", str(n + 10), "--vcpus", str(4 * n + 40), "--rate", "1000"],
                       check=True, stdout=subprocess.DEVNULL, env=up_env)
        self.env = dict(os.environ, CFM_CONTEXT=os.path.join(self.dir, "context.json"),
                        CFM_CACHE_DIR=os.path.join(tmp, "jit-cache"))
        subprocess.run([self.cfmc, "ovf", "import", os.path.join(ROOT, "samples/web3/web3.ovf"),
                        "--manager", "a"], check=True, env=self.env, stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        _, out = timed(self.run_cmd("agent_bench_vms.cfp", n=n), env=self.env, check_out=rf"started {n}\b")
        print(f"cfm: {n} VMs started with their agents in {time.monotonic() - t0:.1f} s")

    def run_cmd(self, file, **args):
        cmd = [self.cfmc, "run", "--engine", self.engine, "--manager", "a", os.path.join(HERE, file),
               "--arg", "sys=web3"]
        for k, v in args.items():
            cmd += ["--arg", f"{k}={v}"]
        return cmd

    def rtt_process(self):
        return timed(self.run_cmd("agent_bench_rtt.cfp", calls=1, batch=1), env=self.env,
                     check_out=r"batch_us")[0]

    def rtt_in_procedure(self, calls, batch):
        _, out = timed(self.run_cmd("agent_bench_rtt.cfp", calls=calls, batch=batch), env=self.env)
        return [(int(a) / 1e6, int(b) / 1e6) for a, b in re.findall(r"batch_us (\d+) exec_us (\d+)", out)]

    def fanout(self, n):
        wall, out = timed(self.run_cmd("agent_bench_uname.cfp"), env=self.env, check_out=rf"uname {n}/{n} ")
        return wall, int(re.search(r"uname \d+/\d+ (\d+) ms", out).group(1)) / 1000

    def stop(self):
        if self.up:
            subprocess.run([self.cfmc, "local", "down", "--dir", self.dir], stdout=subprocess.DEVNULL)
            self.up = False


def ms(x):
    return f"{x * 1000:8.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default: build)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=50, help="VMs and SSH hosts of the fan-out (default 50)")
    ap.add_argument("--calls", type=int, default=200, help="calls of the in-procedure round trip")
    ap.add_argument("--batch", type=int, default=10, help="calls per timed batch in the procedure")
    ap.add_argument("--engine", default="jit", choices=["jit", "interp"])
    ap.add_argument("--only", choices=["rtt", "fanout"])
    ap.add_argument("--nodelay-shim", action="store_true",
                    help="diagnostic: preload tcp_nodelay_shim.c (built with gcc) into the cloud, broker, "
                         "cfmd and agents, to see the round trip with TCP_NODELAY on every MQTT socket")
    a = ap.parse_args()
    check_tools()

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    tmp = tempfile.mkdtemp(prefix="cfm-agent-bench-")
    sshd = ansible = cfm = None
    try:
        sshd, ansible, cfm = Sshd(), Ansible(), Cfm()
        sshd.start(tmp, a.n)
        ansible.start(tmp, sshd)
        preload = None
        if a.nodelay_shim:
            preload = os.path.join(tmp, "tcp_nodelay_shim.so")
            subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", preload,
                            os.path.join(HERE, "tcp_nodelay_shim.c"), "-ldl"], check=True)
            print("diagnostic: TCP_NODELAY preloaded into cfmc local up's processes")
        cfm.start(tmp, os.path.abspath(a.build), a.n, a.engine, preload)
        ssh_true = sshd.ssh_cmd() + ["true"]
        print(f"sshd on 127.0.0.1 and {HOST_NET}1..{a.n} port {sshd.port}; {a.rounds} rounds, interleaved, "
              f"after one warm-up of each; engine {a.engine}")

        if a.only in (None, "rtt"):
            timed(ssh_true), cfm.rtt_process(), cfm.rtt_in_procedure(a.batch, a.batch)   # warm-up
            ssh_t, cfm_t, per_call, exec_t = [], [], [], []
            for _ in range(a.rounds):
                ssh_t.append(timed(ssh_true)[0])
                cfm_t.append(cfm.rtt_process())
                for call, ex in cfm.rtt_in_procedure(a.calls, a.batch):
                    per_call.append(call)
                    exec_t.append(ex)
            s, c, p = statistics.median(ssh_t), statistics.median(cfm_t), statistics.median(per_call)
            print("\n== one round trip: run_agent_command(vm, \"true\") against `ssh 127.0.0.1 true` "
                  "(goal: cfm/ssh <= 0.2)")
            print(f"  ssh 127.0.0.1 true, whole process        {ms(s)}")
            print(f"  cfmc run --manager a, one call, process  {ms(c)}   cfm/ssh {c / s:.3f}")
            print(f"  in the procedure, per call               {ms(p)}   cfm/ssh {p / s:.3f}"
                  f"   (median of {len(per_call)} batches of {a.batch}; min {ms(min(per_call)).strip()},"
                  f" max {ms(max(per_call)).strip()})")
            print(f"    of which the agent ran the command     {ms(statistics.median(exec_t))}   (the results' duration)")

        if a.only in (None, "fanout"):
            ansible.run(50), ansible.run(5), cfm.fanout(a.n)   # warm-up
            f5, f50, cw, ci = [], [], [], []
            for _ in range(a.rounds):
                f5.append(ansible.run(5))
                w, i = cfm.fanout(a.n)
                cw.append(w)
                ci.append(i)
                f50.append(ansible.run(50))
            m5, m50, mw, mi = (statistics.median(x) for x in (f5, f50, cw, ci))
            print(f"\n== `uname -a` on {a.n} VMs (async) against Ansible's ad-hoc command on {a.n} SSH hosts "
                  "(goal: cfm/ansible -f 50 <= 0.1)")
            print(f"  ansible -f 5,  whole process             {ms(m5)}")
            print(f"  ansible -f 50, whole process             {ms(m50)}")
            print(f"  cfmc run --manager a, whole process      {ms(mw)}   cfm/ansible-f50 {mw / m50:.3f}"
                  f"   cfm/ansible-f5 {mw / m5:.3f}")
            print(f"  in the procedure                         {ms(mi)}   cfm/ansible-f50 {mi / m50:.3f}")
    except KeyboardInterrupt as e:
        print(f"agent_bench: interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for part in (cfm, ansible, sshd):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:   # keep stopping the others
                    print(f"agent_bench: stopping {type(part).__name__}: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
