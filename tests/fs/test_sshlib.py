"""asyncssh imported through app.sshlib: quicker, and the very same asyncssh."""

from __future__ import annotations

import json
import subprocess
import sys

from app import sshlib

_REPORT = """
import json, sys, ctypes.util
real_find = ctypes.util.find_library
if sys.argv[1] == "ours":
    from app.sshlib import asyncssh
else:
    import asyncssh
from asyncssh import kex, public_key, encryption, mac
import cryptography.x509  # still importable by anyone afterwards
print(json.dumps({
    "kex": sorted(a.decode() for a in kex.get_kex_algs()),
    "keys": sorted(a.decode() for a in public_key.get_public_key_algs()),
    "ciphers": sorted(a.decode() for a in encryption.get_encryption_algs()),
    "macs": sorted(a.decode() for a in mac.get_mac_algs()),
    "x509": public_key._x509_available,
    "find_library_restored": ctypes.util.find_library is real_find,
}))
"""


def _report(how: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _REPORT, how], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_same_algorithms_as_a_plain_import():
    plain, ours = _report("plain"), _report("ours")
    assert ours == plain
    assert ours["find_library_restored"] is True
    assert "curve25519-sha256" in ours["kex"] and "ssh-ed25519" in ours["keys"]


def test_liboqs_in_ld_library_path_is_looked_up_as_before(tmp_path, monkeypatch):
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    before = sshlib._oqs_may_be_installed()
    (tmp_path / "liboqs.so.6").write_bytes(b"")
    assert sshlib._oqs_may_be_installed() is True
    try:
        with open("/etc/ld.so.cache", "rb") as f:
            in_cache = b"liboqs" in f.read()
    except OSError:
        in_cache = True  # no cache to read: the full lookup is made
    assert before is in_cache  # nothing in the folder yet: only the cache decides
