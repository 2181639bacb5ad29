"""SFTP speed benchmark: Syncpane against rsync, rclone and OpenSSH's sftp/scp.

    python -m tests.benchmarks.bench_sftp [--files N] [--small N] [--big-mib N]
                                          [--latency-ms 50] [--workdir DIR] [--repeat K]
                                          [--json-out FILE]

Starts a private OpenSSH server on a free 127.0.0.1 port (its own host and
client keys in the workdir, the current user), writes an ssh config, an
rclone config and Syncpane job files that reach it, accepts the host key once
for Syncpane (untimed), then, side by side in one run:

* compare N files (tree A local vs tree B served by sshd):
  ``syncpane compare --json`` with ``remote_commands: auto`` and ``off`` vs
  ``rsync -a --delete -n`` over ssh vs ``rclone sync --dry-run``;
* one big file upload: ``syncpane sync`` vs ``sftp -b`` put vs
  ``scp -c aes128-gcm@openssh.com`` vs ``rclone copy``;
* a content compare (1 GiB of equal bytes, 64 MiB one byte apart):
  ``syncpane compare`` (the server's b3sum/sha256sum, and streamed) vs
  ``rsync -c -n``;
* many small files upload: ``syncpane sync`` (auto and off) vs
  ``rclone copy --transfers 8`` vs ``rsync -a``;
* the same three (smaller sizes) with added round-trip latency: a network
  namespace with ``tc netem`` when this machine allows it, else a delay proxy
  (``sftp_delay_proxy.py``).

Every tool's answer is checked: the compare tools must find exactly the
differences between A and B, and every upload must leave the right files
(names, sizes; a SHA-256 for the big file) on the server side.
See tests/benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.bench_local import (
    BenchError, Expected, Row, RunResult, Snapshot, Tool, _git_head, _need, check_rclone,
    check_rsync_dry, check_syncpane_compare, flush, prepare_trees, row_of, snapshot,
    syncpane_env, timed_run,
    tool_version)
from tests.benchmarks.report import print_missing_and_goals, ratios

REPO = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"
SCP_CIPHER = "aes128-gcm@openssh.com"
SMALL_PER_DIR = 100
# The private link of the namespace route: a /30 that this script creates and removes.
NS_HOST_ADDR, NS_PEER_ADDR = "10.251.77.1", "10.251.77.2"

# Goals from issue 3 ("Speed").
GOAL_SMALL_VS_RSYNC = 1.5


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def slug(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(host: str, port: int, proc: subprocess.Popen, what: str,
                   timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited at once (status {proc.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not start listening on {host}:{port} within {timeout:.0f} s")


# --------------------------------------------------------------- the server side

@dataclass
class Route:
    """One way to reach the server: an ssh Host alias, an rclone remote, a URL prefix."""
    name: str          # "loopback" or "latency"
    alias: str         # ssh Host alias and rclone remote name
    host: str
    port: int
    how: str           # human description

    def url(self, user: str, path: Path | str) -> str:
        return f"sftp://{user}@{self.host}:{self.port}{path}"

    def conn_key(self, user: str) -> str:
        return f"{user}@{self.host}:{self.port}"


@dataclass
class Lab:
    """Processes and namespaces this run started; ``close`` undoes them all."""
    work: Path
    user: str = field(default_factory=lambda: pwd.getpwuid(os.getuid()).pw_name)
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    netns: str | None = None
    veth: str | None = None
    host_key: Path | None = None
    client_key: Path | None = None
    auth_keys: Path | None = None
    routes: dict[str, Route] = field(default_factory=dict)

    # -- sshd
    def start_sshd(self, folder: Path, listen: str, port: int, netns: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)  # privilege-separation dir sshd insists on
        cfg = folder / "sshd_config"
        cfg.write_text(
            f"ListenAddress {listen}\nPort {port}\nHostKey {self.host_key}\n"
            f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {self.auth_keys}\n"
            "StrictModes no\nUsePAM no\nPermitRootLogin yes\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "Subsystem sftp internal-sftp\nLogLevel INFO\nMaxSessions 64\n"
            "MaxStartups 100:30:200\nUseDNS no\n")
        check = subprocess.run([SSHD, "-t", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise BenchError(f"sshd rejected its config: {check.stderr.strip()}")
        cmd = [SSHD, "-D", "-f", str(cfg), "-E", str(folder / "sshd.log")]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd  # ip execs sshd: same PID
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        self.procs.append((f"sshd {listen}:{port}", proc))
        wait_listening(listen, port, proc, "sshd")

    # -- delay proxy (fallback route)
    def start_proxy(self, target_port: int, delay_ms: float) -> int:
        port = free_port()
        ready = self.work / "ssh" / "proxy.ready"
        ready.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "tests.benchmarks.sftp_delay_proxy",
                                 "--listen-port", str(port), "--target-port", str(target_port),
                                 "--delay-ms", str(delay_ms), "--ready-file", str(ready)],
                                cwd=REPO, stdin=subprocess.DEVNULL)
        self.procs.append(("delay proxy", proc))
        deadline = time.monotonic() + 10
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("the delay proxy did not start")
            time.sleep(0.05)
        return port

    # -- network namespace with netem (preferred route)
    def try_netns(self, delay_ms: float) -> str | None:
        """Set up namespace + veth + netem; None when it works, else why not."""
        if os.geteuid() != 0:
            return "not root"
        if shutil.which("ip") is None or shutil.which("tc") is None:
            return "ip/tc missing (apt-get install iproute2)"
        used = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
        if NS_HOST_ADDR in used or NS_PEER_ADDR in used:
            return f"{NS_HOST_ADDR}/{NS_PEER_ADDR} already in use on this machine"
        tag = f"{os.getpid() % 100000}"
        ns, veth, peer = f"spbench{tag}", f"spb{tag}h", f"spb{tag}n"
        half = f"{delay_ms / 2:g}ms"
        steps = [["ip", "netns", "add", ns],
                 ["ip", "link", "add", veth, "type", "veth", "peer", "name", peer],
                 ["ip", "link", "set", peer, "netns", ns],
                 ["ip", "addr", "add", f"{NS_HOST_ADDR}/30", "dev", veth],
                 ["ip", "link", "set", veth, "up"],
                 ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{NS_PEER_ADDR}/30", "dev",
                  peer],
                 ["ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"],
                 ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
                 ["tc", "qdisc", "add", "dev", veth, "root", "netem", "delay", half],
                 ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", peer, "root", "netem",
                  "delay", half]]
        for i, step in enumerate(steps):
            p = subprocess.run(step, capture_output=True, text=True)
            if i == 0 and p.returncode == 0:
                self.netns = ns
            if i == 1 and p.returncode == 0:
                self.veth = veth
            if p.returncode != 0:
                self.remove_netns()
                return f"'{' '.join(step)}' failed: {p.stderr.strip() or p.returncode}"
        return None

    def remove_netns(self) -> None:
        if self.veth:
            subprocess.run(["ip", "link", "del", self.veth], capture_output=True)
            self.veth = None
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
            self.netns = None

    def close(self) -> None:
        for _what, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                except ProcessLookupError:
                    pass
        self.procs.clear()
        self.remove_netns()


def keygen(path: Path) -> None:
    for p in (path, path.with_suffix(".pub")):
        p.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "syncpane-bench",
                    "-f", str(path)], check=True, stdin=subprocess.DEVNULL)


def setup_server(lab: Lab, latency_ms: float, want_latency: bool) -> None:
    d = lab.work / "ssh"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    lab.host_key, lab.client_key = d / "host_ed25519", d / "client_ed25519"
    keygen(lab.host_key)
    keygen(lab.client_key)
    lab.auth_keys = d / "authorized_keys"
    lab.auth_keys.write_text(lab.client_key.with_suffix(".pub").read_text())
    port = free_port()
    lab.start_sshd(d / "sshd-loopback", "127.0.0.1", port)
    lab.routes["loopback"] = Route("loopback", "bench", "127.0.0.1", port,
                                   f"loopback 127.0.0.1:{port}")
    if want_latency:
        why = lab.try_netns(latency_ms)
        if why is None:
            lport = 22
            lab.start_sshd(d / "sshd-netns", NS_PEER_ADDR, lport, netns=lab.netns)
            lab.routes["latency"] = Route(
                "latency", "bench-lat", NS_PEER_ADDR, lport,
                f"network namespace {lab.netns} + veth + tc netem {latency_ms / 2:g} ms each way "
                f"(sshd at {NS_PEER_ADDR}:{lport})")
        else:
            log(f"NOTE: no netns/netem route ({why}); using the delay proxy instead")
            pport = lab.start_proxy(port, latency_ms / 2)
            lab.routes["latency"] = Route(
                "latency", "bench-lat", "127.0.0.1", pport,
                f"asyncio delay proxy 127.0.0.1:{pport} -> sshd, {latency_ms / 2:g} ms each way "
                f"(netns/netem not usable: {why})")
    # Peers: ssh config, known_hosts, rclone config.
    pub = lab.host_key.with_suffix(".pub").read_text().split()
    known = d / "known_hosts"
    known.write_text("".join(f"[{r.host}]:{r.port} {pub[0]} {pub[1]}\n"
                             for r in lab.routes.values()))
    cfg = d / "ssh_config"
    blocks = [f"Host {r.alias}\n  HostName {r.host}\n  Port {r.port}\n"
              for r in lab.routes.values()]
    aliases = " ".join(r.alias for r in lab.routes.values())
    blocks.append(f"Host {aliases}\n  User {lab.user}\n  IdentityFile {lab.client_key}\n"
                  "  IdentitiesOnly yes\n  IdentityAgent none\n"
                  f"  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n"
                  "  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n"
                  "  ControlMaster no\n  ControlPath none\n")
    cfg.write_text("\n".join(blocks))
    rc = lab.work / "rclone.conf"
    rc.write_text("".join(
        f"[{r.alias}]\ntype = sftp\nhost = {r.host}\nport = {r.port}\nuser = {lab.user}\n"
        f"key_file = {lab.client_key}\nknown_hosts_file = {known}\n\n"
        for r in lab.routes.values()))
    for r in lab.routes.values():  # each route answers before anything is timed
        p = subprocess.run(["ssh", "-F", str(cfg), r.alias, "true"], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise BenchError(f"ssh -F {cfg} {r.alias} failed: {p.stderr.strip()}")


# ------------------------------------------------------------------ the data

def find_trees(work: Path, n: int) -> tuple[Path, Path, dict]:
    """Trees A/B of n files: reuse bench_local's cache when it is intact, else build here."""
    other = Path("/tmp/syncpane-bench") / f"trees-{n}" / "meta.json"
    if other.exists() and other.parent.parent != work:
        try:
            meta = json.loads(other.read_text())
            a, b = other.parent / "A", other.parent / "B"
            if meta.get("files") == n and a.is_dir() and b.is_dir():
                log(f"reusing bench_local's trees in {other.parent}")
                return a, b, meta
        except (OSError, ValueError):
            pass
    return prepare_trees(work, n, log)


def make_big(work: Path, mib: int) -> tuple[Path, str]:
    """A folder holding one file of random bytes, written once and kept; its SHA-256."""
    folder = work / "data" / f"big-{mib}MiB"
    f = folder / "big.bin"
    meta = folder.parent / f"big-{mib}MiB.json"
    if f.exists() and meta.exists():
        m = json.loads(meta.read_text())
        if m.get("size") == f.stat().st_size == mib << 20:
            return folder, m["sha256"]
    log(f"writing {mib} MiB of random data to {f} (once) ...")
    folder.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(f, "wb") as out:
        for _ in range(mib):
            block = os.urandom(1 << 20)
            h.update(block)
            out.write(block)
    os.utime(f, (1_700_000_000, 1_700_000_000))
    meta.write_text(json.dumps({"size": mib << 20, "sha256": h.hexdigest()}))
    return folder, h.hexdigest()


def make_small(work: Path, n: int, size: int) -> Path:
    """n files of ``size`` random bytes in folders of SMALL_PER_DIR, written once and kept."""
    folder = work / "data" / f"small-{n}x{size}"
    meta = folder.parent / f"small-{n}x{size}.json"
    if meta.exists() and folder.is_dir():
        return folder
    log(f"writing {n:,} files of {size} bytes to {folder} (once) ...")
    if folder.exists():
        shutil.rmtree(folder)
    for i in range(n):
        p = folder / f"d{i // SMALL_PER_DIR:04d}" / f"f{i:06d}.bin"
        if i % SMALL_PER_DIR == 0:
            p.parent.mkdir(parents=True)
        p.write_bytes(os.urandom(size))
        os.utime(p, (1_700_000_000 + i, 1_700_000_000 + i))
    meta.write_text(json.dumps({"files": n, "size": size}))
    return folder


CONTENT_CHANGED_MIB = 64


def make_content(work: Path, big: Path) -> tuple[Path, Path]:
    """Two folders (local, served) for the content compare, written once and
    kept: ``big.bin`` (the big upload's file) with the same bytes on both
    sides but another time on the server, and ``changed.bin`` with one byte
    different but the same size and time. A content compare must list
    ``changed.bin`` only."""
    base = work / "data" / f"content-{big.stat().st_size >> 20}MiB"
    local, served, meta = base / "local", base / "served", base / "meta.json"
    if meta.exists() and (local / "big.bin").exists() and (served / "big.bin").exists():
        return local, served
    log(f"writing the content-compare folders in {base} (once) ...")
    shutil.rmtree(base, ignore_errors=True)
    local.mkdir(parents=True)
    served.mkdir()
    os.link(big, local / "big.bin")  # (the local side may share the upload's file)
    shutil.copyfile(big, served / "big.bin")
    os.utime(served / "big.bin", (1_700_000_000 + 86_400, 1_700_000_000 + 86_400))
    data = bytearray(os.urandom(CONTENT_CHANGED_MIB << 20))
    (local / "changed.bin").write_bytes(data)
    data[len(data) // 2] ^= 0xFF
    (served / "changed.bin").write_bytes(data)
    for f in (local / "changed.bin", served / "changed.bin"):
        os.utime(f, (1_700_000_000, 1_700_000_000))
    meta.write_text(json.dumps({"big": str(big)}))
    return local, served


def check_content_compare(tool: str):
    def check(r: RunResult) -> None:
        doc = json.loads(r.stdout)
        _need(not doc.get("errors"), tool, f"errors {doc.get('errors')}")
        listed = sorted(i["path"] for p in doc["pairs"] for i in p["items"])
        _need(listed == ["changed.bin"], tool, f"listed {listed}, expected ['changed.bin']")
    return check


def check_rsync_content(r: RunResult) -> None:
    """rsync -c -n -i: only changed.bin would get new bytes (big.bin, its time)."""
    sent = sorted(line.split(" ", 1)[1] for line in r.stdout.splitlines()
                  if line.startswith(("<f", ">f")) and "c" in line.split(" ", 1)[0][2:])
    _need(sent == ["changed.bin"], "rsync", f"would send {sent}, expected ['changed.bin']")


def content_tools(ctx: Ctx, local: Path, served: Path) -> list[Tool]:
    tools = []
    tool_there = "b3sum" if shutil.which("b3sum") else "sha256sum"
    for rc in ("auto", "off"):
        job = ctx.job(f"content-{rc}", local, served, rc, sync=False)
        doc = json.loads(job.read_text())
        doc["compare"] = {"method": "content"}
        job.write_text(json.dumps(doc, indent=1))
        name = ("syncpane compare (fast path, " + tool_there + ")" if rc == "auto"
                else "syncpane compare (pure SFTP, streamed)")
        tools.append(Tool(name, ctx.syncpane("compare", job), check_content_compare(name),
                          env=ctx.env_sp))
    if "rsync" not in ctx.missing:
        tools.append(Tool("rsync -a -c -n -i", [
            "rsync", "-a", "-c", "-n", "-i", "-e", ctx.ssh_cmd, f"{local}/",
            ctx.remote(f"{served}/")], check_rsync_content))
    return tools


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def reset_dir(path: Path) -> None:
    """``path`` becomes an empty folder (untimed)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


# ------------------------------------------------------------------ the tools

@dataclass
class Ctx:
    lab: Lab
    route: Route
    work: Path
    parallel: int
    env_sp: dict[str, str]
    missing: dict[str, str]
    rclone_hashcheck: bool = False

    @property
    def rclone_flags(self) -> list[str]:
        """rclone's sftp backend checks every upload by running md5sum on the server, one
        exec session per file (~0.5 s per 4 KiB file here); off unless asked for: Syncpane
        checks sizes only, and a faster peer makes the goal harder, not easier."""
        return [] if self.rclone_hashcheck else ["--sftp-disable-hashcheck"]

    @property
    def rclone_label(self) -> str:
        return "" if self.rclone_hashcheck else " (no hashcheck)"

    @property
    def ssh_cfg(self) -> Path:
        return self.work / "ssh" / "ssh_config"

    @property
    def rclone_cfg(self) -> Path:
        return self.work / "rclone.conf"

    @property
    def ssh_cmd(self) -> str:
        return f"ssh -F {shlex.quote(str(self.ssh_cfg))}"

    def remote(self, path: Path | str) -> str:
        return f"{self.route.alias}:{path}"

    def job(self, name: str, left: Path, right: Path, remote_commands: str, sync: bool) -> Path:
        doc = {"syncpane_job": 1,
               "pairs": [{"left": str(left), "right": self.route.url(self.lab.user, right)}],
               "filter": {"exclude": []},
               "connections": {self.route.conn_key(self.lab.user): {
                   "auth": "key", "key_file": str(self.lab.client_key),
                   "parallel": self.parallel, "remote_commands": remote_commands}}}
        if sync:
            doc["sync"] = {"variant": "mirror", "deletion": "permanent",
                           "max_delete_percent": 100}
        path = self.work / "jobs" / f"{self.route.name}-{name}.syncjob"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1))
        return path

    def syncpane(self, command: str, job: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "app", command, str(job), "--json", *extra]


def accept_host_key(ctx: Ctx) -> None:
    """Syncpane meets the server's key once, untimed, and records it in SYNCPANE_HOME."""
    empty_l, empty_r = ctx.work / "empty-left", ctx.work / "server" / "empty-right"
    empty_l.mkdir(parents=True, exist_ok=True)
    empty_r.mkdir(parents=True, exist_ok=True)
    job = ctx.job("accept", empty_l, empty_r, "auto", sync=False)
    p = subprocess.run(ctx.syncpane("compare", job, "--accept-new-host-key"), env=ctx.env_sp,
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise BenchError(f"syncpane could not reach {ctx.route.how} "
                         f"(exit {p.returncode}): {(p.stderr or p.stdout)[-800:]}")


def check_sync_summary(want_copies: int):
    def check(r: RunResult) -> None:
        try:
            doc = json.loads(r.stdout)
        except json.JSONDecodeError as exc:
            raise BenchError(f"syncpane sync: stdout is not JSON ({exc})") from None
        s = doc["summary"]
        _need(s["copy_to_right"] == want_copies and not s["failed"] and not doc["errors"],
              "syncpane sync", f"summary {s}, errors {doc['errors'][:3]}")
    return check


def compare_tools(ctx: Ctx, a: Path, b: Path, exp: Expected) -> list[Tool]:
    tools = []
    for rc in ("auto", "off"):
        job = ctx.job(f"compare-{rc}", a, b, rc, sync=False)
        tools.append(Tool(f"syncpane compare ({'fast path' if rc == 'auto' else 'pure SFTP'})",
                          ctx.syncpane("compare", job), check_syncpane_compare(exp),
                          env=ctx.env_sp))
    if "rsync" not in ctx.missing:
        tools.append(Tool("rsync -a --delete -n", [
            "rsync", "-a", "--delete", "-n", "--stats", "-e", ctx.ssh_cmd, f"{a}/",
            ctx.remote(f"{b}/")], check_rsync_dry(exp)))
    if "rclone" not in ctx.missing:
        tools.append(Tool("rclone sync --dry-run", [
            "rclone", "sync", "--dry-run", str(a), ctx.remote(b), "--config", str(ctx.rclone_cfg),
            "--log-level", "ERROR", "--stats-log-level", "ERROR"], check_rclone(exp)))
    return tools


def verify_big(target: Path, size: int, digest: str, tool: str):
    def check(r: RunResult) -> None:
        f = target / "big.bin"
        names = sorted(os.listdir(target)) if target.is_dir() else []
        _need(names == ["big.bin"], tool, f"server folder holds {names[:5]}")
        _need(f.stat().st_size == size, tool, f"size {f.stat().st_size}, expected {size}")
        _need(sha256_file(f) == digest, tool, "SHA-256 of the uploaded file differs")
    return check


def big_tools(ctx: Ctx, src: Path, digest: str, tag: str) -> list[Tool]:
    size = (src / "big.bin").stat().st_size
    srv = ctx.work / "server" / f"{ctx.route.name}-{tag}"
    tools = []

    def add(name: str, cmd: list[str], target: Path, extra_check=None) -> None:
        verify = verify_big(target, size, digest, name)

        def check(r: RunResult) -> None:
            if extra_check:
                extra_check(r)
            verify(r)
        tools.append(Tool(name, cmd, check, env=ctx.env_sp if name.startswith("syncpane") else None,
                          prepare=lambda: reset_dir(target)))

    t = srv / "syncpane"
    add("syncpane sync (mirror)", ctx.syncpane("sync", ctx.job(f"{tag}-sync", src, t, "auto", True),
                                               "--force"), t, check_sync_summary(1))
    if "sftp" not in ctx.missing:
        t = srv / "sftp"
        batch = ctx.work / "jobs" / f"{ctx.route.name}-{tag}-sftp.batch"
        batch.write_text(f"put {shlex.quote(str(src / 'big.bin'))} "
                         f"{shlex.quote(str(t / 'big.bin'))}\n")
        add("OpenSSH sftp put (-b)", ["sftp", "-q", "-F", str(ctx.ssh_cfg), "-b", str(batch),
                                      ctx.route.alias], t)
    if "scp" not in ctx.missing:
        t = srv / "scp"
        add(f"scp -c {SCP_CIPHER.split('@')[0]}",
            ["scp", "-q", "-F", str(ctx.ssh_cfg), "-c", SCP_CIPHER, str(src / "big.bin"),
             ctx.remote(t / "big.bin")], t)
    if "rclone" not in ctx.missing:
        t = srv / "rclone"
        add("rclone copy" + ctx.rclone_label, ["rclone", "copy", str(src), ctx.remote(t),
                                               "--config", str(ctx.rclone_cfg), "--log-level",
                                               "ERROR", *ctx.rclone_flags], t)
    return tools


def verify_small(target: Path, want: Snapshot, tool: str):
    def check(r: RunResult) -> None:
        got = snapshot(target)
        missing = want.files.keys() - got.files.keys()
        extra = got.files.keys() - want.files.keys()
        wrong = [k for k in want.files.keys() & got.files.keys()
                 if want.files[k][0] != got.files[k][0]]
        _need(not missing and not extra and not wrong and got.dirs == want.dirs, tool,
              f"{len(got.files)} files on the server, {len(want.files)} expected "
              f"({len(missing)} missing, {len(extra)} extra, {len(wrong)} of the wrong size, "
              f"{len(got.dirs)} folders vs {len(want.dirs)})")
    return check


def small_tools(ctx: Ctx, src: Path, want: Snapshot, tag: str,
                root: Path | None = None) -> list[Tool]:
    srv = (root or ctx.work / "server") / f"{ctx.route.name}-{tag}"
    n = len(want.files)
    tools = []
    for rc in ("auto", "off"):
        t = srv / f"syncpane-{rc}"
        name = f"syncpane sync ({'fast path' if rc == 'auto' else 'pure SFTP'})"
        sp_check, verify = check_sync_summary(n), verify_small(t, want, name)
        tools.append(Tool(name, ctx.syncpane("sync", ctx.job(f"{tag}-sync-{rc}", src, t, rc, True),
                                             "--force"),
                          lambda r, a=sp_check, b=verify: (a(r), b(r)), env=ctx.env_sp,
                          prepare=lambda t=t: reset_dir(t)))
    if "rclone" not in ctx.missing:
        t = srv / "rclone"
        tools.append(Tool("rclone copy --transfers 8" + ctx.rclone_label, [
            "rclone", "copy", "--transfers", "8", str(src), ctx.remote(t), "--config",
            str(ctx.rclone_cfg), "--log-level", "ERROR", *ctx.rclone_flags],
            verify_small(t, want, "rclone"),
            prepare=lambda t=t: reset_dir(t)))
    if "rsync" not in ctx.missing:
        t = srv / "rsync"
        tools.append(Tool("rsync -a", ["rsync", "-a", "-e", ctx.ssh_cmd, f"{src}/",
                                       ctx.remote(f"{t}/")], verify_small(t, want, "rsync"),
                          prepare=lambda t=t: reset_dir(t)))
    return tools


def run_tools(section: str, tools: list[Tool], repeat: int, warmup: int, work: Path) -> list[Row]:
    """Each tool K times, interleaved, so a change in the machine's load hits them all;
    each round starts with the next tool, so none is always the one to run first after
    the previous round's clean-up (this file system is slowest right after many deletions)."""
    for k in range(-warmup, repeat):
        for t in tools[k % len(tools):] + tools[:k % len(tools)]:
            if t.prepare:
                t.prepare()
                flush()
            r = timed_run(t.cmd, env=t.env, cwd=REPO,
                          out_dir=work / "out" / slug(f"{section} {t.name}"))
            if r.returncode not in t.ok_codes:
                raise BenchError(f"{section}: {t.name}: exit status {r.returncode}: "
                                 f"{(r.stderr or r.stdout)[-800:]}")
            t.check(r)
            what = f"run {k + 1}/{repeat}" if k >= 0 else "warm-up (untimed)"
            if k >= 0:
                t.runs.append(r)
            log(f"  {section} {what}: {t.name:42} {r.seconds:7.3f} s  {r.tree_peak_mb:6.0f} MB")
    return [row_of(section, t) for t in tools]


# ------------------------------------------------------------------ reporting

REFS = {"compare": "rsync", "big": "OpenSSH sftp", "small": "rsync", "content": "rsync"}


def section_kind(section: str) -> str:
    return section.split(":")[-1].split()[0]


def print_table(rows: list[Row], titles: dict[str, str], missing: dict[str, str],
                goals: list[tuple[str, bool | None, str]], out=sys.stdout) -> None:
    for section in dict.fromkeys(r.section for r in rows):
        sect = [r for r in rows if r.section == section]
        ref_name = REFS[section_kind(section)]
        ref = next((r for r in sect if r.tool.startswith(ref_name)), None)
        print(f"\n{titles[section]}", file=out)
        print(f"  {'tool':42} {'best s':>8} {'median s':>9} {'peak MB':>8} "
              f"{'x ' + ref_name.split()[-1]:>10} {'(median)':>9}", file=out)
        for r in sect:
            ratio, ratio_m = ratios(r, ref)
            print(f"  {r.tool:42} {r.best:8.3f} {r.median:9.3f} {r.peak_mb:8.0f} "
                  f"{ratio:>10} {ratio_m:>9}", file=out)
    print_missing_and_goals(missing, goals, 3, out)


def evaluate_goals(rows: list[Row], prefixes: dict[str, str]) -> list[tuple[str, bool | None, str]]:
    goals: list[tuple[str, bool | None, str]] = []

    def get(section, tool_prefix):
        return next((r for r in rows if r.section == section and r.tool.startswith(tool_prefix)),
                    None)

    def versus(text, mine, peer, factor=1.0, strict=False):
        if not mine or not peer:
            goals.append((text, None, "not measured"))
            return
        met = mine.best < factor * peer.best if strict else mine.best <= factor * peer.best
        goals.append((text, met, f"{mine.best:.2f} s vs {peer.best:.2f} s = "
                                 f"{mine.best / peer.best:.2f}x (best), "
                                 f"{mine.median / peer.median:.2f}x (median)"))

    for route, pre in prefixes.items():
        c, b, s = f"{route}:compare", f"{route}:big", f"{route}:small"
        versus(f"{pre}compare: pure SFTP no slower than rclone",
               get(c, "syncpane compare (pure"), get(c, "rclone"))
        versus(f"{pre}compare: fast path no slower than rsync -n",
               get(c, "syncpane compare (fast"), get(c, "rsync"))
        versus(f"{pre}big upload: at least as fast as OpenSSH sftp put",
               get(b, "syncpane"), get(b, "OpenSSH sftp"))
        versus(f"{pre}big upload (stretch): at least as fast as scp -c aes128-gcm",
               get(b, "syncpane"), get(b, "scp"))
        versus(f"{pre}small files: pure SFTP faster than rclone --transfers 8",
               get(s, "syncpane sync (pure"), get(s, "rclone"), strict=True)
        versus(f"{pre}small files: fast path within {GOAL_SMALL_VS_RSYNC}x of rsync",
               get(s, "syncpane sync (fast"), get(s, "rsync"), factor=GOAL_SMALL_VS_RSYNC)
    return goals


# ------------------------------------------------------------------------ main

def run_round(ctx: Ctx, files: int, small: int, small_kib: int, big_mib: int, repeat: int,
              warmup: int, skip: set[str], titles: dict[str, str], label: str) -> list[Row]:
    rows: list[Row] = []
    work, r = ctx.work, ctx.route.name
    accept_host_key(ctx)
    if "compare" not in skip:
        a, b, _meta = find_trees(work, files)
        log(f"[{label}] walking both trees (untimed; also warms the cache) ...")
        snap_a, snap_b = snapshot(a), snapshot(b)
        exp = Expected.of(snap_a, snap_b)
        titles[f"{r}:compare"] = (
            f"{label}COMPARE {len(snap_a.files):,} files in {len(snap_a.dirs):,} folders "
            f"(A local, B on the server; {len(exp.changed_files)} changed, "
            f"{len(exp.left_only_files)} only in A, {len(exp.right_only_files)} only in B)")
        rows += run_tools(f"{r}:compare", compare_tools(ctx, a, b, exp), repeat, warmup, work)
    if "big" not in skip:
        src, digest = make_big(work, big_mib)
        titles[f"{r}:big"] = f"{label}UPLOAD one file of {big_mib} MiB (random data) " \
                             "to an empty server folder"
        rows += run_tools(f"{r}:big", big_tools(ctx, src, digest, f"big{big_mib}"), repeat, 0,
                          work)
    if "content" not in skip and r == "loopback":
        big, _digest = make_big(work, big_mib)
        local, served = make_content(work, big / "big.bin")
        titles[f"{r}:content"] = (
            f"{label}CONTENT COMPARE one file of {big_mib} MiB (same bytes, another time) and "
            f"one of {CONTENT_CHANGED_MIB} MiB (one byte differs, same size and time); "
            "no goal")
        rows += run_tools(f"{r}:content", content_tools(ctx, local, served), repeat, warmup,
                          work)
    if "small" not in skip:
        src = make_small(work, small, small_kib * 1024)
        want = snapshot(src)
        titles[f"{r}:small"] = (f"{label}UPLOAD {small:,} files of {small_kib} KiB in "
                                f"{len(want.dirs)} folders to an empty server folder")
        rows += run_tools(f"{r}:small", small_tools(ctx, src, want, f"small{small}"), repeat, 0,
                          work)
        shm = Path("/dev/shm")
        if r == "loopback" and shm.is_dir() and os.access(shm, os.W_OK):
            # The same upload into tmpfs: creating a file costs next to nothing
            # there, and its cost is what swings most here, so what is left is
            # each tool's own cost, steady from run to run. No goal: a reference.
            tmp_root = shm / "syncpane-bench"
            titles[f"{r}:small tmpfs"] = (f"{label}UPLOAD the same files to a server folder on "
                                          "tmpfs (file creation nearly free; no goal)")
            tools = [t for t in small_tools(ctx, src, want, f"small{small}", tmp_root)
                     if t.name.startswith(("syncpane sync (fast", "rsync"))]
            try:
                rows += run_tools(f"{r}:small tmpfs", tools, repeat, 0, work)
            finally:
                shutil.rmtree(tmp_root, ignore_errors=True)
    shutil.rmtree(work / "server", ignore_errors=True)  # uploaded copies: GBs, not kept
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_sftp",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100_000, help="compare: files in tree A")
    ap.add_argument("--small", type=int, default=10_000, help="small-file upload: how many")
    ap.add_argument("--small-kib", type=int, default=4, help="small-file size in KiB (default 4)")
    ap.add_argument("--big-mib", type=int, default=1024, help="big-file upload: size in MiB")
    ap.add_argument("--latency-ms", type=float, default=50,
                    help="added round trip for the latency round (default 50; 0 skips it)")
    ap.add_argument("--lat-files", type=int, default=5_000, help="latency round: compare files")
    ap.add_argument("--lat-small", type=int, default=1_000, help="latency round: small files")
    ap.add_argument("--lat-big-mib", type=int, default=256, help="latency round: big file MiB")
    ap.add_argument("--lat-repeat", type=int,
                    help="latency round: timed runs (default: --repeat, at most 2)")
    ap.add_argument("--rclone-hashcheck", action="store_true",
                    help="let rclone verify each upload with md5sum on the server (its default; "
                         "very slow for many small files, so off unless asked for)")
    ap.add_argument("--parallel", type=int, default=8,
                    help="Syncpane's connections[...].parallel (default 8, the job default)")
    ap.add_argument("--workdir", default="/tmp/syncpane-bench-sftp",
                    help="keys, configs, data, served folders, tool output")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed runs of each compare tool first (default 1)")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["compare", "big", "content", "small"],
                    help="leave a task out (repeatable)")
    ap.add_argument("--json-out", metavar="FILE", help="also save the figures as JSON")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.files < 100 or args.small < 1 or args.big_mib < 1:
        ap.error("--repeat >= 1, --files >= 100, --small >= 1, --big-mib >= 1")
    lat_repeat = args.lat_repeat or min(args.repeat, 2)

    for exe, pkg in (("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"),
                     (SSHD, "openssh-server")):
        if shutil.which(exe) is None:
            raise BenchError(f"'{exe}' is needed (apt-get install {pkg})")
    missing: dict[str, str] = {}
    for exe, pkg in (("rsync", "rsync"), ("rclone", "rclone"), ("sftp", "openssh-client"),
                     ("scp", "openssh-client")):
        if shutil.which(exe) is None:
            missing[exe] = f"'{exe}' is not installed (apt-get install {pkg})"
            log(f"NOTE: {missing[exe]}; it is left out of the comparison")

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    home = work / "syncpane-home"
    shutil.rmtree(home, ignore_errors=True)  # a fresh app known_hosts: the key is accepted below
    env_sp = syncpane_env(home)

    lab = Lab(work)

    def on_term(*_a):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_term)
    rows: list[Row] = []
    titles: dict[str, str] = {}
    prefixes = {"loopback": ""}
    try:
        log("starting a private sshd ...")
        setup_server(lab, args.latency_ms, args.latency_ms > 0)
        for r in lab.routes.values():
            log(f"  route {r.name}: {r.how}")
        skip = set(args.skip)
        ctx = Ctx(lab, lab.routes["loopback"], work, args.parallel, env_sp, missing,
                  args.rclone_hashcheck)
        rows += run_round(ctx, args.files, args.small, args.small_kib, args.big_mib, args.repeat,
                          args.warmup, skip, titles, "")
        if "latency" in lab.routes:
            lbl = f"+{args.latency_ms:g} ms RTT: "
            prefixes["latency"] = lbl
            ctx = Ctx(lab, lab.routes["latency"], work, args.parallel, env_sp, missing,
                  args.rclone_hashcheck)
            rows += run_round(ctx, args.lat_files, args.lat_small, args.small_kib,
                              args.lat_big_mib, lat_repeat, args.warmup, skip, titles, lbl)
    finally:
        lab.close()
        signal.signal(signal.SIGTERM, old)

    goals = evaluate_goals(rows, prefixes)
    print(f"\nSyncpane SFTP benchmark: best and median of {args.repeat} "
          f"(latency round: {lat_repeat}); Syncpane parallel {args.parallel}; OpenSSH server on "
          f"loopback; {os.cpu_count()} cores; load average at the end "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for r in lab.routes.values():
        print(f"  route {r.name}: {r.how}")
    print_table(rows, titles, missing, goals)
    print("\nx REF = best time / the reference peer's best time in the same section (rsync, "
          "or OpenSSH sftp put for the big file);\npeak MB = the client's process tree only "
          "(the server's sshd/sftp-server processes are not counted).")
    speedups = _asyncssh_speedups()
    off = [name for name, on in speedups.items() if not on]
    print("asyncssh speed-ups taken: " + ("all" if not off else "all but " + ", ".join(off))
          + " (asyncssh " + speedups.pop("version", "?") + ")")

    if args.json_out:
        versions = {"python": platform.python_version(), "ssh": tool_version(["ssh", "-V"])}
        for exe, cmd in (("rsync", ["rsync", "--version"]), ("rclone", ["rclone", "version"])):
            if exe not in missing:
                versions[exe] = tool_version(cmd)
        doc = {"args": vars(args), "cpus": os.cpu_count(), "loadavg_end": os.getloadavg(),
               "versions": versions, "git": _git_head(),
               "routes": {r.name: r.how for r in lab.routes.values()},
               "sections": titles,
               "rows": [{"section": r.section, "tool": r.tool, "times_s": r.times,
                         "best_s": r.best, "median_s": r.median, "peak_mb": r.peak_mb}
                        for r in rows],
               "goals": [{"goal": g, "met": m, "detail": d} for g, m, d in goals],
               "missing": missing, "asyncssh_speedups": speedups}
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")
        log(f"figures saved to {args.json_out}")
    return 0


def _asyncssh_speedups() -> dict:
    """Which of app.fs.ssh_speed's speed-ups the installed asyncssh took (a new
    asyncssh whose code differs keeps its own, slower, path: worth knowing)."""
    out = subprocess.run(
        [sys.executable, "-c", "import json, asyncssh; from app.fs import sftp_conn, ssh_speed; "
         "d = ssh_speed.active(); d['version'] = asyncssh.__version__; print(json.dumps(d))"],
        capture_output=True, text=True, cwd=REPO)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {"version": "?", "(could not tell)": False}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ninterrupted; sshd, proxy and namespace were cleaned up", file=sys.stderr)
        sys.exit(130)
