"""The per-job lock, proved with real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.joblock import (JobLocked, acquire_job_lock, cli_lock_message, job_lock,
                              lock_file_for, lock_holder, try_job_lock)

ROOT = Path(__file__).resolve().parents[2]

HOLD = textwrap.dedent("""
    import sys
    from app.core.joblock import acquire_job_lock
    lock = acquire_job_lock(sys.argv[1], sys.argv[2])
    print("locked", flush=True)
    sys.stdin.readline()   # hold until told (or killed)
    lock.release()
    print("released", flush=True)
""")


def _holder(job: Path, holder: str = "tray") -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(job), holder], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def job(tmp_path) -> Path:
    p = tmp_path / "data push.syncjob"
    p.write_text("{}", encoding="utf-8")
    return p


def test_second_process_cannot_take_it_and_learns_who_holds_it(job):
    proc = _holder(job, "tray")
    try:
        assert try_job_lock(job) is None
        with pytest.raises(JobLocked) as info:
            acquire_job_lock(job, "cli")
        exc = info.value
        assert exc.holder.pid == proc.pid
        assert exc.holder.holder == "tray"
        msg = cli_lock_message(exc)
        assert "data push" in msg and "in the tray" in msg and f"pid {proc.pid}" in msg
        assert "try again when it finishes" in msg
        assert lock_holder(job).pid == proc.pid
    finally:
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
        proc.wait(10)
    # Released by its holder: free again.
    assert lock_holder(job) is None
    with job_lock(job, "cli") as lock:
        assert lock.held
    assert not lock.held


def test_released_when_the_holder_is_killed(job):
    proc = _holder(job, "cli")
    assert try_job_lock(job) is None
    proc.kill()
    proc.wait(10)
    lock = try_job_lock(job, "tray")
    assert lock is not None
    lock.release()


def test_child_process_is_kept_out_while_this_process_holds_it(job):
    probe = ("import sys\nfrom app.core.joblock import try_job_lock\n"
             "print('free' if try_job_lock(sys.argv[1]) else 'busy')")

    def ask() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(job)], cwd=ROOT,
                              capture_output=True, text=True, timeout=30).stdout.strip()

    with job_lock(job, "tray"):
        assert ask() == "busy"
    assert ask() == "free"


def test_same_job_by_another_spelling_is_the_same_lock(job, monkeypatch):
    monkeypatch.chdir(job.parent)
    assert lock_file_for(job.name) == lock_file_for(job)
    with job_lock(job, "tray"):
        assert try_job_lock(Path(".") / job.name) is None


def test_different_jobs_do_not_block_each_other(tmp_path, job):
    other = tmp_path / "other.syncjob"
    other.write_text("{}", encoding="utf-8")
    with job_lock(job, "tray"), job_lock(other, "tray"):
        pass


def test_lock_files_live_in_the_app_locks_folder(job, syncpane_home):
    path = lock_file_for(job)
    assert path.parent == syncpane_home / "data" / "locks"
    assert "data push" not in path.name  # a hash, never the job's name


def test_lock_and_autorun_load_no_qt_and_no_keyring():
    code = ("import sys, app.core.joblock, app.core.autorun\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', "
            "'keyring')]\nprint(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
