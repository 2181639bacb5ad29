"""Per-packet costs asyncssh pays that buy nothing on our connections.

Many small SFTP requests, or one big file, make the client CPU-bound in
Python, and profiling showed three costs per SSH packet that do no work for us:

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
* **A packet copied four times on its way out.** Once a connection is set
  up, a channel's data packet goes through asyncssh's own steps (padding,
  AEAD, sequence number, rekey count) but is put together once. Only where
  asyncssh's ``send_packet`` is the code this repeats (checked by a hash of
  its source); key exchange, rekeying and login always take asyncssh's path.
* **Data copied three more times before that.** A channel's ``write`` copies
  the caller's bytes into a buffer, then each packet's share is copied out of
  it and copied again behind its length. Here immutable bytes are kept as
  they are and each packet's share is a view of them, so a big upload's data
  is copied once in Python (into the packet that is encrypted) instead of
  four times. Again only where asyncssh's ``write`` and ``_flush_send_buf``
  are the code this repeats.

All are installed once by :func:`install`, guarded so that an asyncssh
without these internals (or with other code there) is simply left as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time

from app.sshlib import asyncssh

_NO_IGNORE = "_syncpane_no_ignore"
# Outgoing ciphers that take a fresh nonce or counter per packet.
_SAFE_WITHOUT_IGNORE = ("-gcm@openssh.com", "chacha20-poly1305@openssh.com", "-ctr")
_installed = False
_active = {"lazy log text": False, "no IGNORE packets": False,
           "packets put together once": False, "channel data as views": False}


def active() -> dict[str, bool]:
    """Which of the speed-ups this asyncssh took (the benchmark reports them)."""
    return dict(_active)


def install() -> None:
    """Patch asyncssh once (idempotent); leave it alone where it differs."""
    global _installed
    if _installed:
        return
    _installed = True
    _lazy_log_text()
    _lighter_packets()


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
    _active["lazy log text"] = True
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


def _source_id(fn) -> str | None:
    """A short hash of a function's source lines (None where they are not at hand).

    In the bundled app, asyncssh's sources lie beside its compiled modules
    (``packaging/syncpane.spec``), under the bundle's folder."""
    code = getattr(fn, "__code__", None)
    try:
        last = max(line for _s, _e, line in code.co_lines() if line is not None)
        path = code.co_filename
        if getattr(sys, "frozen", False) and not os.path.isabs(path):
            path = os.path.join(getattr(sys, "_MEIPASS", ""), path)
        with open(path, "rb") as f:
            lines = f.read().splitlines()[code.co_firstlineno - 1:last]
    except (AttributeError, OSError, ValueError):
        return None
    return hashlib.sha256(b"\n".join(lines)).hexdigest()[:16]


# asyncssh's own send_packet functions whose steps the fast path below repeats
# exactly (checked by their source); any other asyncssh keeps its own path.
_KNOWN_CONN_SEND = {"03601aa9d2605dad"}  # asyncssh 2.24
_KNOWN_CHAN_SEND = {"b43aa833305dabc9"}
_KNOWN_CHAN_WRITE = {("ec8be824fb42c4bb", "2637903b0db2773b")}  # write, _flush_send_buf


class _RandomBytes:
    """Random padding for packets, each byte used once, drawn from the OS 64 KiB
    at a time: one system call per ~4,000 packets instead of one each (a
    download of 10,000 small files sends 60,000 requests). Used by the
    event loop's thread only."""

    __slots__ = ("buf", "pos")

    def __init__(self) -> None:
        self.buf, self.pos = b"", 0

    def take(self, n: int) -> bytes:
        pos = self.pos
        if pos + n > len(self.buf):
            self.buf, pos = os.urandom(65536), 0
        self.pos = pos + n
        return self.buf[pos:pos + n]


def _lighter_packets() -> None:
    """On our connections: no empty IGNORE packet where the cipher does not
    need it, and steady-state packets put together once."""
    try:
        from asyncssh.channel import SSHChannel
        from asyncssh.connection import SSHConnection
        from asyncssh.constants import MSG_IGNORE, MSG_USERAUTH_LAST
        from asyncssh.encryption import GCMEncryption
        from asyncssh.packet import String, UInt32
    except ImportError:  # pragma: no cover
        return
    from app.fs.sftp_wire import GatheringTransport

    send = getattr(SSHConnection, "send_packet", None)
    if send is None:  # pragma: no cover
        return
    empty = String(b"")
    fast = _source_id(send) in _KNOWN_CONN_SEND
    padding = _RandomBytes()
    debug = logging.DEBUG

    def send_packet(self, pkttype, *args, handler=None):
        d = self.__dict__
        if not d.get(_NO_IGNORE):
            send(self, pkttype, *args, handler=handler)
            return
        if pkttype == MSG_IGNORE and len(args) == 1 and args[0] == empty:
            return
        if not (fast and pkttype > MSG_USERAUTH_LAST and self._kex_complete
                and self._auth_complete and self._compressor is None
                and type(self._send_encryption) is GCMEncryption
                and type(self._transport) is GatheringTransport
                and self._rekey_bytes_sent < self._rekey_bytes
                and not (self._rekey_seconds and time.monotonic() >= self._rekey_time)):
            send(self, pkttype, *args, handler=handler)  # setup, key exchange, rekeying
            return
        # The connection's steady state: asyncssh's steps for one packet
        # (padding, AEAD encryption, sequence number, rekey count), with the
        # packet put together once instead of four times: a channel's data is
        # most of the bytes a big upload moves through Python.
        blk = self._send_blocksize
        padlen = -(self._send_enchdrlen + 1 + sum(map(len, args))) % blk
        if padlen < 4:
            padlen += blk
        packet = b"".join((bytes((padlen, pkttype)), *args, padding.take(padlen)))
        seq = self._send_seq
        sealed, mac = self._send_encryption.encrypt_packet(seq, UInt32(len(packet)), packet)
        transport = self._transport
        try:
            transport.write(sealed)
            transport.write(mac)
        except ConnectionError:  # pragma: no cover - as asyncssh's own _send
            pass
        self._send_seq = (seq + 1) & 0xffffffff
        self._rekey_bytes_sent += len(packet)
        h = handler or self
        if h.logger.isEnabledFor(debug):
            h.log_sent_packet(pkttype, seq, bytes((pkttype,)) + b"".join(args))

    SSHConnection.send_packet = send_packet
    _active["no IGNORE packets"] = True
    _active["packets put together once"] = fast

    chan_send = getattr(SSHChannel, "send_packet", None)
    if chan_send is not None and _source_id(chan_send) in _KNOWN_CHAN_SEND:
        def channel_send_packet(self, pkttype, *args):
            # As asyncssh's, without joining the channel number to the data first.
            if self._send_chan is None:  # pragma: no cover
                return
            self._conn.send_packet(pkttype, UInt32(self._send_chan), *args, handler=self)
        SSHChannel.send_packet = channel_send_packet
    _viewed_channel_data(SSHChannel, UInt32)


def _viewed_channel_data(SSHChannel, UInt32) -> None:
    """A channel's outgoing data kept as views of the caller's bytes (see the
    module's text): the same packets, in the same order, with the same window
    and flow control as asyncssh's own ``write`` and ``_flush_send_buf``."""
    write, flush = getattr(SSHChannel, "write", None), getattr(SSHChannel, "_flush_send_buf", None)
    if (_source_id(write), _source_id(flush)) not in _KNOWN_CHAN_WRITE:
        return
    from asyncssh.channel import _data_type_names
    from asyncssh.constants import (
        MSG_CHANNEL_DATA,
        MSG_CHANNEL_EOF,
        MSG_CHANNEL_EXTENDED_DATA,
    )

    def channel_write(self, data, datatype=None):
        if self._send_state != "open":
            raise BrokenPipeError("Channel not open for sending")
        if datatype is not None and datatype not in self._write_datatypes:
            raise OSError("Invalid extended data type")
        if not data:
            return
        encoded = self._encoder.encode(data) if self._encoding else data
        # Bytes cannot change under us: no copy. Anything else (a bytearray
        # the caller may reuse, a view) is copied, as asyncssh does.
        view = memoryview(encoded if type(encoded) is bytes else bytes(encoded))
        datalen = len(view)
        self.logger.debug2("Sending %d data byte%s%s", datalen, "s" if datalen > 1 else "",
                           f" to {_data_type_names[datatype]}" if datatype else "")
        self._send_buf.append([view, datatype])
        self._send_buf_len += datalen
        self._flush_send_buf()

    def flush_send_buf(self):
        buf = self._send_buf
        while buf and self._send_window:
            pktsize = min(self._send_window, self._send_pktsize)
            first = buf[0]
            view, datatype = first
            if len(view) > pktsize:
                data = view[:pktsize]
                first[0] = view[pktsize:]
            else:
                data = view
                del buf[0]
            n = len(data)
            self._send_buf_len -= n
            self._send_window -= n
            if datatype is None:
                self.send_packet(MSG_CHANNEL_DATA, UInt32(n), data)
            else:
                self.send_packet(MSG_CHANNEL_EXTENDED_DATA, UInt32(datatype), UInt32(n), data)
        self._pause_resume_writing()
        if not self._send_buf:
            if self._send_state == "eof_pending":
                self.send_packet(MSG_CHANNEL_EOF)
                self._send_state = "eof"
            elif self._send_state == "close_pending":
                self._close_send()

    SSHChannel.write = channel_write
    SSHChannel._flush_send_buf = flush_send_buf
    _active["channel data as views"] = True


def skip_ignore_packets(conn: asyncssh.SSHClientConnection) -> bool:
    """Leave out the empty IGNORE packets on ``conn`` if its outgoing cipher
    does not need them; whether it now does."""
    cipher = conn.get_extra_info("send_cipher") or ""
    ok = cipher.endswith(_SAFE_WITHOUT_IGNORE)
    setattr(conn, _NO_IGNORE, ok)
    return ok
