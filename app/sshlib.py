"""asyncssh, imported without two probes that cost us time and give us nothing.

Every command-line compare or sync with a server imports asyncssh before its
first byte goes out, so the import is part of what the user waits for. Two
parts of it were a fifth of its time on this machine (``python -X importtime``):

* **liboqs.** asyncssh asks :func:`ctypes.util.find_library` for ``oqs`` and
  ``liboqs`` (post-quantum key exchange). Where the library is not installed,
  that lookup runs ``ldconfig``, then ``gcc`` and ``ld``: about 25 ms. Here the
  dynamic linker's cache (and ``LD_LIBRARY_PATH``) is read first; only if a
  liboqs appears there is the full lookup made, so where it is installed,
  asyncssh finds it exactly as before.
* **X.509.** asyncssh's X.509 certificate support needs both
  ``cryptography.x509`` (about 25 ms to import) and pyOpenSSL. Where pyOpenSSL
  is missing, asyncssh imports the first, fails on the second and goes on
  without X.509; here it is spared the first import and reaches the same end.
  OpenSSH servers do not use X.509 certificates.

Modules of ours that use asyncssh import it from here.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import sys

_OQS_NAMES = ("oqs", "liboqs")


def _oqs_may_be_installed() -> bool:
    """False only where no liboqs is in the linker's cache or LD_LIBRARY_PATH."""
    if not sys.platform.startswith("linux"):
        return True  # elsewhere the lookup is not the costly one; leave it be
    try:
        with open("/etc/ld.so.cache", "rb") as f:
            if b"liboqs" in f.read():
                return True
    except OSError:
        return True
    for folder in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        try:
            if folder and any(n.startswith("liboqs") for n in os.listdir(folder)):
                return True
        except OSError:
            continue
    return False


def _import_asyncssh():
    real_find = ctypes.util.find_library
    oqs_here = _oqs_may_be_installed()

    def find_library(name):
        if name in _OQS_NAMES and not oqs_here:
            return None
        return real_find(name)

    spare_x509 = ("cryptography.x509" not in sys.modules
                  and importlib.util.find_spec("OpenSSL") is None)
    ctypes.util.find_library = find_library
    if spare_x509:
        sys.modules["cryptography.x509"] = None  # an import of it raises ImportError
    try:
        import asyncssh
    finally:
        ctypes.util.find_library = real_find
        if spare_x509 and sys.modules.get("cryptography.x509", False) is None:
            del sys.modules["cryptography.x509"]  # others may import it as usual
    return asyncssh


asyncssh = sys.modules.get("asyncssh") or _import_asyncssh()
