"""The ``syncpane`` command (spec/cli.md). Thin: parse, load the job, run the
engine, print. With no command it opens the window."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from typing import Any, TextIO

from app import __version__
from app.core.units import human_size

HEADLESS = ("compare", "sync", "credentials", "import", "tray")
EXIT_OK, EXIT_WARN, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 2, 3


def _headless_parser(command: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"syncpane {command}",
                                 description=f"{command.capitalize()} the folders of a job.")
    ap.add_argument("job", nargs="?", help="a .syncjob file (or a FreeFileSync .ffs_batch)")
    ap.add_argument("--left", help="left location (a job from flags)")
    ap.add_argument("--right", help="right location (a job from flags)")
    ap.add_argument("--variant", choices=["mirror", "update", "two_way"])
    ap.add_argument("--direction", choices=["to_right", "to_left"])
    ap.add_argument("--method", choices=["time_size", "content", "size"])
    ap.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                    help="add a .gitignore-style exclude pattern (repeatable)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--accept-new-host-key", action="store_true",
                    help="trust an SFTP server's key seen for the first time")
    if command == "sync":
        ap.add_argument("--dry-run", action="store_true", help="show what would be done")
        ap.add_argument("--force", action="store_true",
                        help="sync despite a safety refusal (many deletions, clock shift)")
    return ap


def _empty_json(errors: list[dict[str, Any]]) -> dict[str, Any]:
    from app.core.model import Summary

    return {"pairs": [], "summary": Summary().to_json(), "errors": errors}


def _load_job(args: argparse.Namespace, notes: list[dict[str, Any]]):
    """The job from a file or from flags; raises JobError for any mistake.
    Import warnings (FreeFileSync settings with no equivalent) go to ``notes``."""
    from app.core.job import JobError, job_from_flags, load_job, with_extra_excludes

    if args.job and (args.left or args.right):
        raise JobError("give either a job file or --left/--right, not both")
    if args.job:
        if args.variant or args.direction or args.method:
            raise JobError("--variant, --direction and --method go with --left/--right; "
                           "a job file carries its own settings")
        if args.job.lower().endswith((".ffs_batch", ".ffs_gui")):
            return with_extra_excludes(_load_ffs(args.job, notes), args.exclude)
        return with_extra_excludes(load_job(args.job), args.exclude)
    if not (args.left and args.right):
        raise JobError("give a job file, or both --left and --right")
    return job_from_flags(args.left, args.right, variant=args.variant,
                          direction=args.direction, method=args.method, exclude=args.exclude)


def _load_ffs(path: str, notes: list[dict[str, Any]]):
    from app.core.job import JobError, job_from_dict

    try:
        from app.core.ffs_import import FfsImportError, import_ffs_file
    except ImportError as exc:
        raise JobError(f"FreeFileSync files cannot be read by this build: {exc}") from None
    try:
        imp = import_ffs_file(path)
    except FfsImportError as exc:
        raise JobError(str(exc)) from None
    for w in imp.warnings:
        notes.append({"path": None, "message": f"FreeFileSync import: {w.where}: {w.message}"})
    for sp in getattr(imp, "skipped_pairs", []):
        reason = getattr(sp, "reason", sp)
        notes.append({"path": None, "message": f"FreeFileSync import: pair skipped: {reason}"})
    return job_from_dict(imp.job, os.path.dirname(os.path.abspath(path)), path=path)


def _side_json(e) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"size": None if e.kind._value_ == "dir" else e.size, "mtime": e.mtime}


def _item_json(item) -> dict[str, Any]:
    # ``_value_`` is the enum's plain attribute; ``.value`` is a Python-level
    # property, and a plan may list a hundred thousand rows.
    out = {"path": item.path, "kind": item.kind._value_, "category": item.category._value_,
           "action": item.action._value_, "left": _side_json(item.left),
           "right": _side_json(item.right)}
    if item.from_path is not None:
        out["from"] = item.from_path
    return out


_ARROWS = {"copy_to_right": "copy ->", "copy_to_left": "<- copy", "delete_left": "delete <",
           "delete_right": "> delete", "move_left": "<- move", "move_right": "move ->",
           "create_dir_right": "mkdir ->", "create_dir_left": "<- mkdir", "none": "  -",
           "conflict": "CONFLICT"}


def _print_preview(runs, out: TextIO) -> None:
    for run in runs:
        p = run.pair
        s = p.sync
        how = s.variant.value + (f" {s.direction.value}" if s.variant.value in ("mirror", "update")
                                 else "")
        print(f"Pair {run.index + 1}: {p.left.display}  <->  {p.right.display}   "
              f"({how}, compare by {p.compare.method.value})", file=out)
        items = run.plan.items
        if not items:
            print("  (nothing to do: both sides are equal)", file=out)
        for item in items:
            src = item.left if item.action.value.endswith("right") else item.right
            size = human_size(src.size) if src is not None and item.kind.value == "file" else ""
            frm = f"  (from {item.from_path})" if item.from_path else ""
            note = f"  [{item.note}]" if item.note else ""
            print(f"  {_ARROWS.get(item.action.value, item.action.value):9} "
                  f"{item.category.value:11} {item.path}{frm}  {size}{note}", file=out)


def _summary_line(summary, verb: str) -> str:
    s = summary
    parts = [f"{s.copy_to_right} copy ->" + (f" ({human_size(s.bytes_to_right)})"
                                             if s.bytes_to_right else ""),
             f"{s.copy_to_left} copy <-" + (f" ({human_size(s.bytes_to_left)})"
                                            if s.bytes_to_left else ""),
             f"{s.delete_right} delete right", f"{s.delete_left} delete left",
             f"{s.move_right + s.move_left} moves", f"{s.conflicts} conflicts"]
    if s.failed or s.skipped:
        parts += [f"{s.failed} failed", f"{s.skipped} skipped"]
    return f"{verb}: " + ", ".join(parts)


class TerminalProgress:
    """Progress on stderr, only when stderr is a terminal, ~10 updates/s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.last = 0.0
        self.scanned: dict[tuple[int, str], int] = {}
        self.bytes_done = 0
        self.total_bytes = 0
        self.started = time.monotonic()
        self.items_done = 0

    def __call__(self, ev) -> None:
        if not self.enabled:
            return
        name = type(ev).__name__
        if name == "ScanProgress":
            self.scanned[(ev.pair, ev.side)] = ev.items
        elif name == "BytesDone":
            self.bytes_done += ev.delta
        elif name == "ItemDone":
            self.items_done += 1
        elif name == "PhaseStarted" and ev.phase == "sync":
            self.total_bytes = ev.total_bytes
            self.started = time.monotonic()
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        if self.total_bytes or self.items_done:
            rate = self.bytes_done / max(now - self.started, 1e-3)
            left = (self.total_bytes - self.bytes_done) / rate if rate > 0 else 0
            text = (f"{self.items_done} items, {human_size(self.bytes_done)} of "
                    f"{human_size(self.total_bytes)}, {human_size(rate)}/s, ETA {left:.0f} s")
        else:
            text = f"scanned {sum(self.scanned.values())} items"
        self.stream.write("\r" + text[:100].ljust(100))
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.last:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


async def _run_job(job, args, command: str, cancel, progress) -> tuple[int, dict, list]:
    from app.config.paths import app_paths
    from app.core.engine import JobCannotRun, SafetyRefusal, SyncSession
    from app.core.synclog import write_sync_log
    from app.fs.factory import LocationOpener

    paths = app_paths()
    opener = LocationOpener(job, accept_new_host_key=args.accept_new_host_key,
                            credentials=_cli_credentials())
    session = SyncSession(job, opener=opener, state_dir=paths.state, report=progress,
                          cancel=cancel, pause_collector=True,
                          sync_follows=command == "sync" and not args.dry_run)
    try:
        runs = await session.compare()
        errors = [{"path": p.path, "message": p.message}
                  for r in runs for p in r.plan.problems]
        if command == "compare" or args.dry_run:
            summary = _planned_summary(runs)
            doc = {"pairs": [_pair_json(r) for r in runs], "summary": summary.to_json(),
                   "errors": errors}
            return EXIT_OK, doc, runs
        try:
            result = await session.execute(force=args.force)
        except SafetyRefusal as exc:
            doc = {"pairs": [_pair_json(r) for r in runs], "summary": _empty_summary(),
                   "errors": errors + [{"path": None, "message": m} for m in exc.problems]}
            return EXIT_ERROR, doc, runs
        write_sync_log(paths.logs, job.name or (job.path or ""), runs, result)
        doc = {"pairs": [_pair_json(r) for r in runs], "summary": result.summary.to_json(),
               "errors": [{"path": p.path, "message": p.message} for p in result.problems
                          if not p.message.startswith("conflict left alone")]}
        return result.exit_code, doc, runs
    except JobCannotRun as exc:
        return EXIT_ERROR, _empty_json([{"path": None, "message": m} for m in exc.problems]), []
    finally:
        await session.close()


def _cli_credentials():
    try:
        from app.config.credentials import keyring_store
    except ImportError:
        return None
    return keyring_store()


def _planned_summary(runs):
    from app.core.model import Summary

    s = Summary()
    for r in runs:
        for item in r.plan.items:
            s.add(item)
    return s


def _empty_summary():
    from app.core.model import Summary

    return Summary().to_json()


def _pair_json(run) -> dict[str, Any]:
    return {"left": run.pair.left.display, "right": run.pair.right.display,
            "items": [_item_json(i) for i in run.plan.items]}


def run_headless(command: str, argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """``syncpane compare|sync ...``"""
    from app.core.engine import JobCannotRun
    from app.core.events import CancelToken
    from app.core.job import JobError

    args = _headless_parser(command).parse_args(argv)
    if command == "compare":
        args.dry_run, args.force = True, False
    try:
        notes: list[dict[str, Any]] = []
        job = _load_job(args, notes)
    except (JobError, ValueError) as exc:
        return _fail(args.json, str(exc), stdout, stderr)
    for n in notes:  # shown before anything runs
        print(f"syncpane: warning: {n['message']}", file=stderr)
    if any(not p.left.is_sftp or not p.right.is_sftp for p in job.pairs):
        from app.fs.local_scan import warm_up_pool

        # Now, while this process has one thread (so the scan workers can simply
        # fork) and before the job's lock is taken (a forked worker would hold it too).
        warm_up_pool()
    cancel = CancelToken()
    progress = TerminalProgress(stderr)

    def on_sigint(*_a) -> None:
        if cancel.cancelled:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            raise KeyboardInterrupt
        cancel.cancel()
        stderr.write("\nsyncpane: cancelling (Ctrl+C again to stop at once)...\n")

    held = None
    if command == "sync" and not args.dry_run and job.path:
        from app.core.joblock import JobLocked, acquire_job_lock

        try:  # one run of a job at a time, whoever starts it
            held = acquire_job_lock(job.path, "cli", job_name=job.name)
        except JobLocked as exc:
            return _fail(args.json, str(exc), stdout, stderr)
        except OSError as exc:
            return _fail(args.json, f"cannot take the job's lock: {exc}", stdout, stderr)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        code, doc, runs = asyncio.run(_run_job(job, args, command, cancel, progress))
    except JobCannotRun as exc:
        return _fail(args.json, "; ".join(exc.problems), stdout, stderr)
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.finish()
        if held is not None:
            held.release()
    if cancel.cancelled:
        code = EXIT_CANCELLED
    doc["errors"] = notes + doc["errors"]
    if args.json:
        stdout.write(json.dumps(doc, ensure_ascii=True) + "\n")  # the C encoder: one write
        return code
    if runs:
        _print_preview(runs, stdout)
    verb = "Would do" if (command == "compare" or args.dry_run) else "Done"
    if code == EXIT_CANCELLED:
        verb = "Cancelled after"
    if runs:
        from app.core.model import Summary

        print(_summary_line(Summary(**doc["summary"]), verb), file=stdout)
    for e in doc["errors"][len(notes):]:
        where = f"{e['path']}: " if e["path"] else ""
        print(f"syncpane: {where}{e['message']}", file=stderr)
    return code


def _fail(as_json: bool, message: str, stdout: TextIO, stderr: TextIO) -> int:
    if as_json:
        json.dump(_empty_json([{"path": None, "message": message}]), stdout)
        stdout.write("\n")
    print(f"syncpane: error: {message}", file=stderr)
    return EXIT_ERROR


def _credentials(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    ap = argparse.ArgumentParser(prog="syncpane credentials")
    ap.add_argument("action", choices=["set", "delete"])
    ap.add_argument("target", metavar="USER@HOST:PORT")
    ap.add_argument("--stdin", action="store_true", help="read the secret from standard input")
    args = ap.parse_args(argv)
    from app.config.credentials import credentials_command

    return credentials_command(args.action, args.target, args.stdin, sys.stdin, stdout, stderr)


def _import(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    ap = argparse.ArgumentParser(prog="syncpane import",
                                 description="Convert a FreeFileSync job to a .syncjob.")
    ap.add_argument("file")
    ap.add_argument("-o", "--output", help="write the job here (default: print it)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from app.core.ffs_import import import_command

    return import_command(args.file, args.output, args.json, stdout, stderr)


def _configure_streams() -> None:
    # A redirected Windows console may use a legacy code page: never crash on a name.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``syncpane`` and ``python -m app``."""
    import multiprocessing

    multiprocessing.freeze_support()
    _configure_streams()
    as_program = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("--version", "-V"):
        print(f"syncpane {__version__}")
        if "--verbose" in argv[1:] or "-v" in argv[1:]:
            print(_versions_report())
        return EXIT_OK
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__ or "", "\nCommands: compare, sync, credentials, import, tray; "
              "with no command (or a .syncjob) the window opens.")
        return EXIT_OK
    if argv and argv[0] in ("compare", "sync"):
        code = run_headless(argv[0], argv[1:], sys.stdout, sys.stderr)
        if as_program:
            _exit_now(code)
        return code
    if argv and argv[0] == "credentials":
        return _credentials(argv[1:], sys.stdout, sys.stderr)
    if argv and argv[0] == "import":
        return _import(argv[1:], sys.stdout, sys.stderr)
    if argv and argv[0] == "tray":
        return _tray(argv[1:])
    return gui_main(argv)


def _versions_report() -> str:
    """What a bug report needs besides our version (``--version --verbose``):
    Python, the platform, the libraries, which of the asyncssh speed-ups
    (app/fs/ssh_speed.py) this asyncssh took, and the hashes a content
    comparison can use here."""
    import platform

    lines = [f"python {platform.python_version()} on {platform.platform()}"]
    try:
        from app.fs import sftp_conn, ssh_speed  # noqa: F401 - installs the speed-ups
        from app.sshlib import asyncssh

        off = [name for name, on in ssh_speed.active().items() if not on]
        lines.append(f"asyncssh {asyncssh.__version__} (speed-ups: "
                     + ("all" if not off else "all but " + ", ".join(off)) + ")")
    except ImportError as exc:
        lines.append(f"asyncssh: cannot be imported ({exc})")
    from app.fs.hashing import local_kinds

    lines.append("content hashes: " + ", ".join(local_kinds()))
    try:
        import PySide6

        lines.append(f"PySide6 {PySide6.__version__}")
    except ImportError:
        lines.append("PySide6: not installed (command line only)")
    return "\n".join(lines)


def _exit_now(code: int) -> None:
    """End a finished headless run without the interpreter's teardown.

    Everything is done by now: the output written, the job's lock released,
    logs and state saved and closed, connections closed. What remains is
    freeing every row of the comparison one by one and joining the scan
    workers (which end by themselves once this process is gone): a tenth of
    a second on 100,000 files, spent on nothing anyone waits for.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe: nothing more can be said there
    os._exit(code)


def _tray(argv: list[str]) -> int:
    try:
        from app.gui.tray import main as tray_main
    except ImportError as exc:
        print(f"syncpane: the tray is not available in this installation ({exc})",
              file=sys.stderr)
        return EXIT_ERROR
    return tray_main(argv)


def gui_main(argv: list[str] | None = None) -> int:
    """Open the window (``syncpane``, ``syncpane JOB``, ``syncpane JOB --run``, ``tray``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "tray":
        return _tray(argv[1:])
    try:
        from app.gui.main import run_gui
    except ImportError as exc:
        print(f"syncpane: the window is not available in this installation ({exc}); "
              "use 'syncpane compare' or 'syncpane sync'", file=sys.stderr)
        return EXIT_ERROR
    return run_gui(argv)
