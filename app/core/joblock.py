"""One run of a job at a time, across processes.

The tray, a scheduled watch run and a ``syncpane sync`` started in a terminal
must never synchronize the same job at once: two executors working on the same
folders would each plan against a tree the other is changing.

The lock is an OS file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows) on a file in ``app_paths().locks`` named from a hash of the job file's
real path. The OS drops the lock when the holding process ends, however it
ends, so a crash never leaves a job locked. The lock files themselves are never
deleted (deleting a lock file while another process opens it is a classic race).

After taking the lock the holder writes a line ``PID HOLDER`` into the file so a
refused process can say who holds it. On Windows the locked byte lies far past
that text, so the text stays readable while the lock is held.
"""

from __future__ import annotations

import hashlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

from app.config.paths import app_paths

# Windows: the byte range that is locked (beyond the holder text).
_WIN_LOCK_OFFSET = 1 << 30

HOLDER_NAMES = {"tray": "in the tray", "cli": "from the command line",
                "window": "in the Syncpane window"}


@dataclass(frozen=True)
class Holder:
    """Who holds a job lock, as far as the lock file tells."""

    pid: int | None
    holder: str | None

    def describe(self) -> str:
        where = HOLDER_NAMES.get(self.holder or "", f"in {self.holder}" if self.holder else "")
        pid = f"pid {self.pid}" if self.pid else ""
        if where and pid:
            return f"{where} ({pid})"
        return where or (f"in another process ({pid})" if pid else "in another process")


class JobLocked(Exception):
    """The job is being synchronized by someone else right now."""

    def __init__(self, job_path: str, holder: Holder, job_name: str = "") -> None:
        self.job_path = job_path
        self.holder = holder
        self.job_name = job_name or Path(job_path).stem
        super().__init__(f"job {self.job_name!r} is running {holder.describe()}; "
                         f"try again when it finishes")


def cli_lock_message(exc: JobLocked) -> str:
    """The CLI's one-line message (exit status 2 goes with it)."""
    return str(exc)


def lock_file_for(job_path: str | os.PathLike[str], locks_dir: Path | None = None) -> Path:
    """The lock file of a job: a hash of the job file's real, case-folded path."""
    real = os.path.normcase(os.path.realpath(os.path.abspath(os.fspath(job_path))))
    digest = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return (locks_dir or app_paths().locks) / f"job-{digest}.lock"


def _try_lock_fd(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def _unlock_fd(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_holder(path: Path) -> Holder:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:200]
    except OSError:
        return Holder(None, None)
    parts = text.split()
    pid = int(parts[0]) if parts and parts[0].isdigit() else None
    holder = parts[1] if len(parts) > 1 else None
    return Holder(pid, holder)


class JobLock:
    """A held lock; :meth:`release` (or leaving the ``with``) gives it back."""

    def __init__(self, job_path: str, path: Path, fd: int) -> None:
        self.job_path = job_path
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # nobody holds it: no stale holder text
            _unlock_fd(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> JobLock:
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


def try_job_lock(job_path: str | os.PathLike[str], holder: str = "cli", *,
                 locks_dir: Path | None = None) -> JobLock | None:
    """Take the job's lock without waiting; ``None`` when someone holds it."""
    path = lock_file_for(job_path, locks_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o644)
    if not _try_lock_fd(fd):
        os.close(fd)
        return None
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()} {holder}\n".encode("ascii", "replace"))
    except OSError:
        pass  # the holder text is a courtesy; the lock is what counts
    return JobLock(os.fspath(job_path), path, fd)


def acquire_job_lock(job_path: str | os.PathLike[str], holder: str = "cli", *,
                     job_name: str = "", locks_dir: Path | None = None) -> JobLock:
    """Take the job's lock or raise :class:`JobLocked` naming the holder."""
    lock = try_job_lock(job_path, holder, locks_dir=locks_dir)
    if lock is None:
        raise JobLocked(os.fspath(job_path),
                        _read_holder(lock_file_for(job_path, locks_dir)), job_name)
    return lock


@contextmanager
def job_lock(job_path: str | os.PathLike[str], holder: str = "cli", *, job_name: str = "",
             locks_dir: Path | None = None) -> Iterator[JobLock]:
    """``with job_lock(path, holder="cli"): ...`` — raises :class:`JobLocked`."""
    lock = acquire_job_lock(job_path, holder, job_name=job_name, locks_dir=locks_dir)
    try:
        yield lock
    finally:
        lock.release()


def lock_holder(job_path: str | os.PathLike[str], *,
                locks_dir: Path | None = None) -> Holder | None:
    """Who holds the job's lock now, or ``None`` when it is free."""
    lock = try_job_lock(job_path, "probe", locks_dir=locks_dir)
    if lock is not None:
        lock.release()
        return None
    return _read_holder(lock_file_for(job_path, locks_dir))
