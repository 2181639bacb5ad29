"""Two per-packet costs asyncssh pays that buy nothing on our connections.

Many small SFTP requests make the client CPU-bound in Python, and profiling
showed two costs per SSH packet that do no work for us:

* **Log text built before the level is checked.** asyncssh's logger adapter
  turns every argument of every debug message into text (SFTP attributes,
  byte counts, packet names) and only then asks ``logging`` whether the
  message is wanted. About a tenth of a small-file upload went there with
  logging off. Here a message is built only when its level is enabled, so a
  user who turns asyncssh's debug log on still gets every line.
* **An empty ``IGNORE`` packet before every packet.** asyncssh puts one in
  front of each packet it encrypts. That defends CBC ciphers, whose next IV
  an attacker could otherwise predict (RFC 4251, 9.3.1). Counter and AEAD
  modes (GCM, ChaCha20-Poly1305, CTR) take a fresh nonce per packet and gain
  nothing from it; OpenSSH does not send it either. On a connection that
  :func:`skip_ignore_packets` marks, and only while its outgoing cipher is one
  of those, the empty IGNORE packet is left out: half the packets, half the
  encryption calls.

Both are installed once by :func:`install`, guarded so that an asyncssh
without these internals is simply left as it is.
"""

from __future__ import annotations

import logging

import asyncssh

_NO_IGNORE = "_syncpane_no_ignore"
# Outgoing ciphers that take a fresh nonce or counter per packet.
_SAFE_WITHOUT_IGNORE = ("-gcm@openssh.com", "chacha20-poly1305@openssh.com", "-ctr")
_installed = False


def install() -> None:
    """Patch asyncssh once (idempotent); leave it alone where it differs."""
    global _installed
    if _installed:
        return
    _installed = True
    _lazy_log_text()
    _optional_ignore()


def _lazy_log_text() -> None:
    try:
        from asyncssh.logging import SSHLogger
        from asyncssh.packet import SSHPacketLogger
    except ImportError:  # pragma: no cover - another asyncssh layout
        return
    build = getattr(SSHLogger, "log", None)
    log_packet = getattr(SSHPacketLogger, "_log_packet", None)
    if build is None or log_packet is None:  # pragma: no cover
        return

    def log(self, level, msg, *args, **kwargs):
        if self.isEnabledFor(level):
            build(self, level, msg, *args, **kwargs)

    def _log_packet(self, msg, pkttype, pktid, packet, note=""):
        # The packet log is written only at debug level 3 (asyncssh's rule).
        logger = self.logger
        if getattr(logger, "_debug_level", 3) >= 3 and logger.isEnabledFor(logging.DEBUG):
            log_packet(self, msg, pkttype, pktid, packet, note)

    SSHLogger.log = log
    SSHPacketLogger._log_packet = _log_packet
    # The SFTP messages turn file attributes into text at the call, before the
    # level is known; give them text that is made only when it is written.
    try:
        import asyncssh.sftp as sftp_mod
    except ImportError:  # pragma: no cover
        return
    hide_empty = getattr(sftp_mod, "hide_empty", None)
    if hide_empty is not None:
        sftp_mod.hide_empty = lambda value, prefix=", ": _LazyText(hide_empty, value, prefix)


class _LazyText:
    """``fn(*args)`` as text, made when (and if) a log line is written."""

    __slots__ = ("fn", "args")

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __str__(self) -> str:
        return self.fn(*self.args)


def _optional_ignore() -> None:
    try:
        from asyncssh.connection import SSHConnection
        from asyncssh.constants import MSG_IGNORE
        from asyncssh.packet import String
    except ImportError:  # pragma: no cover
        return
    send = getattr(SSHConnection, "send_packet", None)
    if send is None:  # pragma: no cover
        return
    empty = String(b"")

    def send_packet(self, pkttype, *args, **kwargs):
        if (pkttype == MSG_IGNORE and args and args[0] == empty and len(args) == 1
                and self.__dict__.get(_NO_IGNORE)):
            return
        send(self, pkttype, *args, **kwargs)

    SSHConnection.send_packet = send_packet


def skip_ignore_packets(conn: asyncssh.SSHClientConnection) -> bool:
    """Leave out the empty IGNORE packets on ``conn`` if its outgoing cipher
    does not need them; whether it now does."""
    cipher = conn.get_extra_info("send_cipher") or ""
    ok = cipher.endswith(_SAFE_WITHOUT_IGNORE)
    setattr(conn, _NO_IGNORE, ok)
    return ok
