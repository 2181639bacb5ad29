"""Local speed and memory benchmark: Syncpane against rsync, rclone and unison.

    python -m tests.benchmarks.bench_local [--files N] [--workdir DIR] [--repeat K]
                                           [--json-out FILE]

Builds (or reuses) tree A of N small files in ~N/50 folders and tree B = A with
1% changed, 1% added and 1% deleted files, then, in one run:

* compare: ``syncpane compare --json`` vs ``rsync -a --delete -n`` vs
  ``rclone sync --dry-run`` vs ``unison -batch`` (warm archive, nothing
  propagated), each K times, after one untimed warm-up walk of both trees;
* mirror: ``syncpane sync`` (mirror A -> fresh copy of B) vs
  ``rsync -a --delete A/ copy-of-B/``, K times, each on fresh copies made
  outside the timing; both targets are checked to equal A afterwards.

Every tool's answer is checked against the differences actually present
between A and B (a benchmark of a wrong answer is worthless). Peak memory is
the sampled sum over the tool's whole process tree (scan workers included).
See tests/benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.report import print_missing_and_goals, ratios
from tests.benchmarks.trees import build_tree, derive_changed_copy

REPO = Path(__file__).resolve().parents[2]
CACHE_VERSION = 1
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

# Goals from issue 2 ("Speed and memory").
GOAL_COMPARE_VS_RSYNC = 1.5
GOAL_MIRROR_VS_RSYNC = 2.0
GOAL_PEAK_MB = 300


class BenchError(Exception):
    """A tool failed or gave a wrong answer: the figures cannot be trusted."""


# ---------------------------------------------------------------- tree walking

@dataclass
class Snapshot:
    files: dict[str, tuple[int, int]]  # rel -> (size, mtime_ns)
    dirs: set[str]


def snapshot(root: Path) -> Snapshot:
    """Every file (size, mtime) and folder below ``root``, by relative path."""
    files: dict[str, tuple[int, int]] = {}
    dirs: set[str] = set()
    stack = [("", str(root))]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as it:
            for e in it:
                r = f"{rel}/{e.name}" if rel else e.name
                if e.is_dir(follow_symlinks=False):
                    dirs.add(r)
                    stack.append((r, e.path))
                else:
                    st = e.stat(follow_symlinks=False)
                    files[r] = (st.st_size, st.st_mtime_ns)
    return Snapshot(files, dirs)


def same_tree(a: Snapshot, b: Snapshot) -> list[str]:
    """Differences between two snapshots (empty when equal), a few of each."""
    out = []
    only_a = sorted(a.files.keys() - b.files.keys())
    only_b = sorted(b.files.keys() - a.files.keys())
    differ = sorted(r for r in a.files.keys() & b.files.keys() if a.files[r] != b.files[r])
    dirs_a = sorted(a.dirs - b.dirs)
    dirs_b = sorted(b.dirs - a.dirs)
    for label, items in (("files missing", only_a), ("extra files", only_b),
                         ("files differing in size/mtime", differ),
                         ("folders missing", dirs_a), ("extra folders", dirs_b)):
        if items:
            out.append(f"{len(items)} {label}, e.g. {items[:3]}")
    return out


@dataclass
class Expected:
    """The differences between A and B, computed from a walk of both."""
    left_only_files: set[str]
    right_only_files: set[str]
    changed_files: set[str]
    left_only_dirs: set[str]
    right_only_dirs: set[str]
    top_left_only: int   # one-sided paths whose parent exists on both sides
    top_right_only: int

    @classmethod
    def of(cls, a: Snapshot, b: Snapshot) -> Expected:
        lof = a.files.keys() - b.files.keys()
        rof = b.files.keys() - a.files.keys()
        ch = {r for r in a.files.keys() & b.files.keys() if a.files[r] != b.files[r]}
        lod, rod = a.dirs - b.dirs, b.dirs - a.dirs

        def tops(paths: set[str], one_sided_dirs: set[str]) -> int:
            return sum(1 for p in paths if p.rpartition("/")[0] not in one_sided_dirs)
        return cls(lof, rof, ch, lod, rod, tops(lof | lod, lod), tops(rof | rod, rod))


# ------------------------------------------------------------ measuring a run

def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rindex(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _mem_kb(pid: int) -> int:
    """Proportional set size (shared pages split between sharers), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except (OSError, ValueError, IndexError):
        return 0


class TreeMemorySampler(threading.Thread):
    """Samples the summed memory of a process and all its descendants.

    Only pids numerically at or above the root are examined (new processes get
    higher numbers), which keeps the sampling itself cheap on a busy machine.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = pid, interval
        self.peak_kb = 0
        self.max_procs = 0
        self._halt = threading.Event()
        self.enabled = os.path.isdir("/proc")

    def _tree(self) -> list[int]:
        members = {self.root}
        parents: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) > self.root:
                pp = _ppid(int(name))
                if pp is not None:
                    parents[int(name)] = pp
        grew = True
        while grew:
            grew = False
            for pid, pp in parents.items():
                if pp in members and pid not in members:
                    members.add(pid)
                    grew = True
        return list(members)

    def run(self) -> None:
        if not self.enabled:
            return
        tick = 0
        tree = [self.root]
        while not self._halt.is_set():
            if tick % 2 == 0:
                tree = self._tree()
            total = sum(_mem_kb(p) for p in tree)
            self.peak_kb = max(self.peak_kb, total)
            self.max_procs = max(self.max_procs, len(tree))
            tick += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# GNU time reports the command's own peak RSS. The kernel figure that wait4
# gives for a child we start directly would include the pre-exec copy of this
# (large) benchmark process, so it is only the fallback.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


@dataclass
class RunResult:
    seconds: float
    returncode: int
    tree_peak_mb: float     # sampled sum over the process tree
    maxrss_mb: float        # largest single process (GNU time %M), 0 when unknown
    stdout: str
    stderr: str


def timed_run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
              out_dir: Path) -> RunResult:
    """Run ``cmd``, wall time from start to reaping, plus peak memory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = out_dir / "stdout.txt", out_dir / "stderr.txt"
    rss_path = out_dir / "maxrss.txt"
    if GNU_TIME:
        rss_path.unlink(missing_ok=True)
        cmd = [GNU_TIME, "-f", "%M", "-o", str(rss_path), *cmd]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd)
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    maxrss_mb = 0.0
    if GNU_TIME:
        try:  # "Command exited with non-zero status N" may come first
            maxrss_mb = int(rss_path.read_text().split()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
    elif sampler.peak_kb == 0:
        maxrss_mb = usage.ru_maxrss / 1024  # no /proc: the kernel figure, an upper bound
    return RunResult(seconds, proc.returncode, max(sampler.peak_kb / 1024, maxrss_mb), maxrss_mb,
                     out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))


# ------------------------------------------------------------------- the tools

@dataclass
class Tool:
    name: str
    cmd: list[str]
    check: object                        # fn(RunResult) -> None, raises BenchError
    env: dict[str, str] | None = None
    prepare: object | None = None        # fn() -> None, untimed, before each run
    ok_codes: tuple[int, ...] = (0,)
    runs: list[RunResult] = field(default_factory=list)


def syncpane_env(home: Path) -> dict[str, str]:
    """The environment Syncpane's commands run in, with its modules byte-compiled
    first: an installed copy has them compiled (pip compiles at install), and a
    checkout run with PYTHONDONTWRITEBYTECODE set would otherwise recompile every
    module on every run, which no user pays."""
    import compileall

    compileall.compile_dir(str(REPO / "app"), quiet=1)
    env = dict(os.environ, SYNCPANE_HOME=str(home))
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _need(cond: bool, tool: str, msg: str) -> None:
    if not cond:
        raise BenchError(f"{tool}: wrong answer: {msg}")


def check_syncpane_compare(exp: Expected):
    def check(r: RunResult) -> None:
        try:
            doc = json.loads(r.stdout)
        except json.JSONDecodeError as exc:
            raise BenchError(f"syncpane compare: stdout is not JSON ({exc})") from None
        _need(not doc.get("errors"), "syncpane", f"errors {doc.get('errors')[:3]}")
        items = [i for p in doc["pairs"] for i in p["items"]]
        by: dict[tuple[str, str], set[str]] = {}
        for i in items:
            by.setdefault((i["kind"], i["category"]), set()).add(i["path"])
        newer = by.get(("file", "left_newer"), set()) | by.get(("file", "right_newer"), set()) \
            | by.get(("file", "different"), set())
        got = {"left_only files": by.get(("file", "left_only"), set()),
               "right_only files": by.get(("file", "right_only"), set()),
               "changed files": newer,
               "left_only dirs": by.get(("dir", "left_only"), set()),
               "right_only dirs": by.get(("dir", "right_only"), set())}
        want = {"left_only files": exp.left_only_files, "right_only files": exp.right_only_files,
                "changed files": exp.changed_files, "left_only dirs": exp.left_only_dirs,
                "right_only dirs": exp.right_only_dirs}
        for k in want:
            _need(got[k] == want[k], "syncpane",
                  f"{k}: {len(got[k])} listed, {len(want[k])} expected "
                  f"(e.g. missing {sorted(want[k] - got[k])[:2]}, "
                  f"extra {sorted(got[k] - want[k])[:2]})")
        listed = sum(len(v) for v in want.values())
        _need(len(items) == listed, "syncpane", f"{len(items)} items, expected {listed}")
        s = doc["summary"]
        _need(s["copy_to_right"] == len(exp.left_only_files) + len(exp.changed_files),
              "syncpane", f"summary copy_to_right {s['copy_to_right']}")
    return check


def check_rsync_dry(exp: Expected):
    def num(text: str, label: str) -> int:
        m = re.search(rf"^{re.escape(label)}: ([\d,]+)", text, re.M)
        if not m:
            raise BenchError(f"rsync: no '{label}' in its --stats output")
        return int(m.group(1).replace(",", ""))

    def check(r: RunResult) -> None:
        _need(num(r.stdout, "Number of regular files transferred")
              == len(exp.left_only_files) + len(exp.changed_files), "rsync", "files transferred")
        _need(num(r.stdout, "Number of deleted files")
              == len(exp.right_only_files) + len(exp.right_only_dirs), "rsync", "deleted")
        _need(num(r.stdout, "Number of created files")
              == len(exp.left_only_files) + len(exp.left_only_dirs), "rsync", "created")
    return check


def check_rclone(exp: Expected):
    def check(r: RunResult) -> None:
        text = r.stderr + r.stdout
        m = re.search(r"Deleted:\s+(\d+) \(files\), (\d+) \(dirs\)", text)
        t = re.findall(r"^Transferred:\s+(\d+) / (\d+), ", text, re.M)
        _need(m is not None and t != [], "rclone", "no final stats in its output")
        _need(int(m.group(1)) == len(exp.right_only_files), "rclone", f"deleted files {m.group(1)}")
        _need(int(m.group(2)) == len(exp.right_only_dirs), "rclone", f"deleted dirs {m.group(2)}")
        _need(int(t[-1][1]) == len(exp.left_only_files) + len(exp.changed_files), "rclone",
              f"transfers {t[-1][1]}")
    return check


def check_unison(exp: Expected):
    def check(r: RunResult) -> None:
        skipped = len(re.findall(r"^\s+skipped: ", r.stdout + r.stderr, re.M))
        want = len(exp.changed_files) + exp.top_left_only + exp.top_right_only
        _need(skipped == want, "unison", f"{skipped} differences reported, {want} expected")
    return check


def unison_flags(ua: Path, ub: Path) -> list[str]:
    """Batch mode that detects and reports every difference but propagates
    nothing, so the replicas (and the archive) stay as they are: each run
    repeats the same update detection against the same warm archive."""
    flags = ["-batch", "-terse"]
    for root in (ua, ub):
        flags += ["-noupdate", str(root), "-nocreation", str(root), "-nodeletion", str(root)]
    return flags


# ------------------------------------------------------------------ the trees

def prepare_trees(work: Path, n: int, log) -> tuple[Path, Path, dict]:
    base = work / f"trees-{n}"
    meta_path = base / "meta.json"
    a, b = base / "A", base / "B"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("files") == n and meta.get("version") == CACHE_VERSION and a.is_dir() \
                and b.is_dir():
            log(f"reusing trees in {base}")
            return a, b, meta
    log(f"building {n:,} files in {base} (once; cached for later runs) ...")
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    t0 = time.perf_counter()
    rels = build_tree(a, files=n)
    counts = derive_changed_copy(a, b, rels)
    meta = {"files": n, "version": CACHE_VERSION, "counts": counts}
    meta_path.write_text(json.dumps(meta))
    log(f"  built in {time.perf_counter() - t0:.0f} s: {counts}")
    return a, b, meta


def fresh_copy(src: Path, dst: Path) -> None:
    """``dst`` becomes an exact copy of ``src`` (times kept); not timed."""
    if dst.exists():
        subprocess.run(["rm", "-rf", str(dst)], check=True)
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)


def flush() -> None:
    """Write dirty pages out so copying just done does not slow the timed run."""
    if hasattr(os, "sync"):
        os.sync()


# ------------------------------------------------------------------ reporting

@dataclass
class Row:
    section: str
    tool: str
    times: list[float]
    peak_mb: float
    maxrss_mb: float
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def row_of(section: str, tool: Tool) -> Row:
    return Row(section, tool.name, [r.seconds for r in tool.runs],
               max(r.tree_peak_mb for r in tool.runs), max(r.maxrss_mb for r in tool.runs))


def print_table(rows: list[Row], missing: dict[str, str], goals: list[tuple[str, bool | None, str]],
                out=sys.stdout) -> None:
    for section in ("compare", "mirror"):
        sect = [r for r in rows if r.section == section]
        if not sect:
            continue
        ref = next((r for r in sect if r.tool.startswith("rsync")), None)
        print(f"\n{section.upper()}", file=out)
        print(f"  {'tool':34} {'best s':>8} {'median s':>9} {'peak MB':>8} {'maxRSS MB':>10} "
              f"{'x rsync':>8} {'x rsync (med)':>14}", file=out)
        for r in sect:
            ratio, ratio_m = ratios(r, ref)
            print(f"  {r.tool:34} {r.best:8.3f} {r.median:9.3f} {r.peak_mb:8.0f} "
                  f"{r.maxrss_mb:10.0f} {ratio:>8} {ratio_m:>14}", file=out)
    print_missing_and_goals(missing, goals, 2, out)


def evaluate_goals(rows: list[Row]) -> list[tuple[str, bool | None, str]]:
    def get(section, prefix):
        return next((r for r in rows if r.section == section and r.tool.startswith(prefix)), None)
    sp, rs = get("compare", "syncpane"), get("compare", "rsync")
    un, rc = get("compare", "unison"), get("compare", "rclone")
    spm, rsm = get("mirror", "syncpane"), get("mirror", "rsync")
    goals: list[tuple[str, bool | None, str]] = []
    for peer, label in ((un, "unison"), (rc, "rclone")):
        if sp and peer:
            goals.append((f"compare faster than {label}", sp.best < peer.best,
                          f"{sp.best:.2f} s vs {peer.best:.2f} s"))
        else:
            goals.append((f"compare faster than {label}", None, f"{label} not measured"))
    if sp and rs:
        goals.append((f"compare within {GOAL_COMPARE_VS_RSYNC}x of rsync",
                      sp.best <= GOAL_COMPARE_VS_RSYNC * rs.best,
                      f"{sp.best / rs.best:.2f}x (best), {sp.median / rs.median:.2f}x (median)"))
    else:
        goals.append((f"compare within {GOAL_COMPARE_VS_RSYNC}x of rsync", None, "rsync missing"))
    for r in (sp, spm):
        if r:
            goals.append((f"{r.section}: peak memory under {GOAL_PEAK_MB} MB",
                          r.peak_mb < GOAL_PEAK_MB, f"{r.peak_mb:.0f} MB (whole process tree)"))
    if spm and rsm:
        goals.append((f"mirror within {GOAL_MIRROR_VS_RSYNC}x of rsync -a --delete",
                      spm.best <= GOAL_MIRROR_VS_RSYNC * rsm.best,
                      f"{spm.best / rsm.best:.2f}x (best), "
                      f"{spm.median / rsm.median:.2f}x (median)"))
    else:
        goals.append((f"mirror within {GOAL_MIRROR_VS_RSYNC}x of rsync", None, "not measured"))
    return goals


def tool_version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


# ------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_local",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100_000, help="files in tree A (default 100000)")
    ap.add_argument("--workdir", default="/tmp/syncpane-bench",
                    help="where trees, copies and tool state live (default /tmp/syncpane-bench)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per tool (default 3)")
    ap.add_argument("--json-out", metavar="FILE", help="also save the figures as JSON")
    ap.add_argument("--warmup", type=int, default=1, metavar="W",
                    help="untimed runs of each compare tool before the timed ones (default 1)")
    ap.add_argument("--fresh-copies", action="store_true",
                    help="mirror: re-create each target with rm -rf + cp -a before every run "
                         "(default: the first time only; later resets use rsync -a --delete "
                         "from B and are checked equal to B)")
    ap.add_argument("--skip-mirror", action="store_true", help="only the compare section")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.files < 100 or args.warmup < 0:
        ap.error("--repeat must be >= 1, --warmup >= 0 and --files >= 100")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    a, b, meta = prepare_trees(work, args.files, log)

    missing: dict[str, str] = {}
    for exe in ("rsync", "rclone", "unison"):
        if shutil.which(exe) is None:
            missing[exe] = f"'{exe}' is not installed (e.g. apt-get install {exe})"
            log(f"NOTE: {missing[exe]}; it is left out of the comparison")

    # Unison gets its own replicas (it is a syncing tool; nothing should ever
    # touch A and B), checked equal to A and B before use.
    ua, ub = work / f"trees-{args.files}" / "unison-A", work / f"trees-{args.files}" / "unison-B"

    log("warm-up walk of both trees (untimed) ...")
    snap_a, snap_b = snapshot(a), snapshot(b)
    exp = Expected.of(snap_a, snap_b)
    counts = meta.get("counts", {})
    log(f"  A: {len(snap_a.files):,} files, {len(snap_a.dirs):,} folders; differences: "
        f"{len(exp.changed_files)} changed, {len(exp.left_only_files)} only in A, "
        f"{len(exp.right_only_files)} only in B, {len(exp.right_only_dirs)} folders only in B")
    if counts and (len(exp.changed_files), len(exp.left_only_files), len(exp.right_only_files)) \
            != (counts["changed"], counts["deleted"], counts["added"]):
        raise BenchError(f"cached trees do not match what derive_changed_copy made ({counts}); "
                         f"delete {work / f'trees-{args.files}'} and run again")

    home = work / "syncpane-home"
    env_sp = syncpane_env(home)
    unison_dir = work / "unison-state"
    env_un = dict(os.environ, UNISON=str(unison_dir))

    tools: list[Tool] = [Tool("syncpane compare --json",
                              [sys.executable, "-m", "app", "compare", "--left", str(a),
                               "--right", str(b), "--json"],
                              check_syncpane_compare(exp), env=env_sp)]
    if "rsync" not in missing:
        tools.append(Tool("rsync -a --delete -n", ["rsync", "-a", "--delete", "-n", "--stats",
                                                   f"{a}/", f"{b}/"], check_rsync_dry(exp)))
    if "rclone" not in missing:
        tools.append(Tool("rclone sync --dry-run",
                          ["rclone", "sync", "--dry-run", str(a), str(b), "--config", os.devnull,
                           "--log-level", "ERROR", "--stats-log-level", "ERROR"],
                          check_rclone(exp)))
    if "unison" not in missing:
        for src, dst, snap in ((a, ua, snap_a), (b, ub, snap_b)):
            if not dst.is_dir() or same_tree(snap, snapshot(dst)):
                log(f"making unison's own copy {dst.name} (untimed) ...")
                fresh_copy(src, dst)
        unison_dir.mkdir(exist_ok=True)
        tools.append(Tool("unison -batch (warm archive)",
                          ["unison", str(ua), str(ub)] + unison_flags(ua, ub),
                          check_unison(exp), env=env_un, ok_codes=(0, 1)))
        log("unison: untimed run to build its archive ...")
        r = timed_run(tools[-1].cmd, env=env_un, out_dir=work / "out" / "unison-archive")
        if r.returncode not in (0, 1):
            raise BenchError(f"unison failed building its archive (exit {r.returncode}): "
                             f"{(r.stderr or r.stdout)[-500:]}")
        log(f"  {r.seconds:.2f} s")

    flush()
    for k in range(-args.warmup, args.repeat):
        for t in tools:  # interleaved, so a load change on the machine hits every tool
            r = timed_run(t.cmd, env=t.env, cwd=REPO,
                          out_dir=work / "out" / re.sub(r"\W+", "_", t.name))
            if r.returncode not in t.ok_codes:
                raise BenchError(f"{t.name}: exit status {r.returncode}: "
                                 f"{(r.stderr or r.stdout)[-800:]}")
            t.check(r)
            what = f"run {k + 1}/{args.repeat}" if k >= 0 else "warm-up (untimed)"
            if k >= 0:
                t.runs.append(r)
            log(f"  compare {what}: {t.name:32} {r.seconds:7.3f} s  {r.tree_peak_mb:6.0f} MB")
    rows = [row_of("compare", t) for t in tools]

    if not args.skip_mirror:
        rows += run_mirror(work, a, b, snap_a, snap_b, exp, args.repeat, env_sp, missing, log,
                           fresh=args.fresh_copies)

    goals = evaluate_goals(rows)
    print(f"\nSyncpane local benchmark: {len(snap_a.files):,} files in "
          f"{len(snap_a.dirs):,} folders; "
          f"B = {len(exp.changed_files)} changed, {len(exp.right_only_files)} added, "
          f"{len(exp.left_only_files)} deleted; best and median of {args.repeat}; "
          f"{os.cpu_count()} cores; load average at the end "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print_table(rows, missing, goals)
    print("\npeak MB = most memory seen at once, summed over the tool's whole process tree "
          "(PSS, sampled every 50 ms);\nmaxRSS MB = the largest single process "
          "(/usr/bin/time %M; 0 when GNU time is not installed).")

    if args.json_out:
        versions = {"python": platform.python_version()}
        for exe, cmd in (("rsync", ["rsync", "--version"]), ("rclone", ["rclone", "version"]),
                         ("unison", ["unison", "-version"])):
            if exe not in missing:
                versions[exe] = tool_version(cmd)
        doc = {"files": len(snap_a.files), "folders": len(snap_a.dirs), "repeat": args.repeat,
               "cpus": os.cpu_count(), "loadavg_end": os.getloadavg(), "versions": versions,
               "git": _git_head(),
               "rows": [{"section": r.section, "tool": r.tool, "times_s": r.times,
                         "best_s": r.best, "median_s": r.median, "peak_mb": r.peak_mb,
                         "maxrss_mb": r.maxrss_mb} for r in rows],
               "goals": [{"goal": g, "met": m, "detail": d} for g, m, d in goals],
               "missing": missing}
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")
        log(f"figures saved to {args.json_out}")
    return 0


def reset_target(b: Path, target: Path, snap_b: Snapshot, fresh: bool) -> str:
    """Make ``target`` an exact copy of B (names, sizes, times, modes); untimed.

    A fresh ``cp -a`` of 100,000 files takes a minute on a busy disk, so after
    the first copy the target (which a checked mirror left equal to A) is put
    back with ``rsync -a --delete B/ target/`` and then checked equal to B.
    """
    if fresh or not target.is_dir() or shutil.which("rsync") is None:
        fresh_copy(b, target)
        how = "cp -a"
    else:
        subprocess.run(["rsync", "-a", "--delete", f"{b}/", f"{target}/"], check=True)
        how = "rsync reset"
    diffs = same_tree(snap_b, snapshot(target))
    if diffs:
        raise BenchError(f"could not make {target} a copy of B: " + "; ".join(diffs))
    return how


def run_mirror(work: Path, a: Path, b: Path, snap_a: Snapshot, snap_b: Snapshot, exp: Expected,
               repeat: int, env_sp: dict[str, str], missing: dict[str, str], log,
               fresh: bool = False) -> list[Row]:
    t_sp, t_rs = work / "mirror-syncpane", work / "mirror-rsync"
    job = work / "mirror.syncjob"
    job.write_text(json.dumps({"syncpane_job": 1, "pairs": [{"left": str(a), "right": str(t_sp)}],
                               "sync": {"variant": "mirror", "deletion": "permanent",
                                        "max_delete_percent": 100},
                               "filter": {"exclude": []}}, indent=1))
    sp = Tool("syncpane sync (mirror)",
              [sys.executable, "-m", "app", "sync", str(job), "--json", "--force"],
              check=None, env=env_sp)
    tools = [sp]
    if "rsync" not in missing:
        tools.append(Tool("rsync -a --delete", ["rsync", "-a", "--delete", f"{a}/", f"{t_rs}/"],
                          check=None))
    want_copies = len(exp.left_only_files) + len(exp.changed_files)
    targets = (t_sp, t_rs)[:len(tools)]
    for k in range(repeat):
        hows = {reset_target(b, target, snap_b, fresh) for target in targets}
        log(f"mirror run {k + 1}/{repeat}: targets are copies of B again "
            f"({', '.join(sorted(hows))}, untimed)")
        flush()
        for t, target in zip(tools, targets, strict=True):
            r = timed_run(t.cmd, env=t.env, cwd=REPO,
                          out_dir=work / "out" / re.sub(r"\W+", "_", t.name))
            if r.returncode != 0:
                raise BenchError(f"{t.name}: exit status {r.returncode}: "
                                 f"{(r.stderr or r.stdout)[-800:]}")
            if t is sp:
                doc = json.loads(r.stdout)
                s = doc["summary"]
                _need(s["copy_to_right"] == want_copies and not s["failed"] and not doc["errors"],
                      "syncpane sync", f"summary {s}, errors {doc['errors'][:3]}")
            diffs = same_tree(snap_a, snapshot(target))
            if diffs:
                raise BenchError(f"{t.name}: target is NOT equal to A after the mirror: "
                                 + "; ".join(diffs))
            t.runs.append(r)
            log(f"  {t.name:32} {r.seconds:7.3f} s  {r.tree_peak_mb:6.0f} MB  (target == A)")
    return [row_of("mirror", t) for t in tools]


def _git_head() -> str:
    try:
        p = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=20)
        return p.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
