"""FreeFileSync folder path phrases -> Syncpane locations and connections.

FreeFileSync writes an SFTP folder as
``sftp://USER@HOST[:PORT]/PATH|option|option=value...``; the options seen in
its job files are ``keyfile=PATH``, ``agent``, ``pass64=BASE64`` (a stored
password), ``pwprompt``, ``timeout=SECONDS``, ``chan=N`` (channels per
connection), ``con=N`` (connections, XmlFormat < 11) and ``zlib``. Very old
files (XmlFormat < 6) kept the password as ``USER:[base64]...@HOST``.

Local paths are kept exactly as written. FTP, Google Drive and MTP (portable
device) folders have no Syncpane backend: such a pair is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

_MACRO = re.compile(r"%[A-Za-z_][A-Za-z0-9_()]*%")
_VOLUME = re.compile(r"^\[[^\]]+\]")
_SFTP = re.compile(r"^sftp://(?P<auth>[^/]*)@(?P<hostport>\[[^\]]+\](?::\d*)?|[^/@]*)(?P<path>/.*)?$",
                   re.IGNORECASE | re.DOTALL)


@dataclass
class Resolved:
    """What one side of a pair became."""

    location: str | None = None  # None: the pair cannot run
    skip_reason: str | None = None
    server_key: str | None = None  # "USER@HOST:PORT" for SFTP
    connection: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _unsupported(kind: str, phrase: str) -> Resolved:
    return Resolved(skip_reason=f'{kind} folders are not supported by Syncpane ("{phrase}")')


def classify(phrase: str) -> str:
    """``local``, ``sftp``, ``ftp``, ``gdrive``, ``mtp`` or ``other`` (another scheme)."""
    low = phrase.strip().lower()
    if low.startswith("sftp:"):
        return "sftp"
    if low.startswith(("ftp:", "ftps:")):
        return "ftp"
    if low.startswith("gdrive:"):
        return "gdrive"
    # Portable devices: FreeFileSync's "mtp:" phrases and Windows shell paths to them.
    if low.startswith(("mtp:", "::{", "\\\\?\\usb#", "wpd:")):
        return "mtp"
    if re.match(r"^[a-z][a-z0-9+.-]*://", low):
        return "other"
    return "local"


def resolve(phrase: str, threads: int | None) -> Resolved:
    """Turn one FreeFileSync folder phrase into a Syncpane location (or a skip)."""
    text = phrase.strip()
    if not text:
        return Resolved(skip_reason="the folder path is empty")
    kind = classify(text)
    if kind == "ftp":
        return _unsupported("FTP", text)
    if kind == "gdrive":
        return _unsupported("Google Drive", text)
    if kind == "mtp":
        return _unsupported("MTP (portable device)", text)
    if kind == "other":
        return _unsupported(f'"{text.split(":", 1)[0]}:"', text)
    if kind == "sftp":
        return _resolve_sftp(text, threads)
    res = Resolved(location=text)
    if _MACRO.search(text):
        res.notes.append(f'"{text}" uses FreeFileSync macros ({", ".join(_MACRO.findall(text))}) '
                         "that Syncpane does not expand; edit the path before running")
    if _VOLUME.match(text):
        res.notes.append(f'"{text}" names a drive by its volume label; Syncpane needs the '
                         "real path: edit it before running")
    return res


def _resolve_sftp(text: str, threads: int | None) -> Resolved:
    head, *options = text.split("|")
    m = _SFTP.match(head.strip())
    if not m:
        return Resolved(skip_reason=f'"{head}" is not an SFTP address of the form '
                        "sftp://USER@HOST/PATH")
    res = Resolved()
    auth = m["auth"]
    user, _, legacy_password = auth.partition(":")
    if not user:
        return Resolved(skip_reason=f'"{head}" has no user name (Syncpane needs USER@HOST)')
    hostport = m["hostport"]
    port = 22
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port_text = rest.lstrip(":")
    else:
        host, _, port_text = hostport.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return Resolved(skip_reason=f'"{head}" has an invalid port "{port_text}"')
        port = int(port_text)
    if not host:
        return Resolved(skip_reason=f'"{head}" has no host name')
    host_text = f"[{host}]" if ":" in host else host
    path = m["path"] or "/"
    # Syncpane percent-decodes the user and the path: keep literal '%' and '@' literal.
    user_q = quote(user, safe="!$&'()*+,;=-._~")
    path_q = path.replace("%", "%25")
    key = f"{user}@{host_text}:{port}"
    res.location = f"sftp://{user_q}@{host_text}:{port}{path_q}"
    res.server_key = key
    conn: dict = {}
    password = False
    for opt in (o.strip() for o in options):
        name, has_value, value = opt.partition("=")
        low = name.lower()
        if not opt:
            continue
        if low == "keyfile" and has_value:
            conn["auth"], conn["key_file"] = "key", value
        elif low == "agent" and not has_value:
            conn["auth"] = "agent"
        elif low in ("pass64", "password") or low == "pwprompt":
            password = True
        elif low == "timeout" and value.isdigit() and int(value) > 0:
            conn["timeout_seconds"] = min(int(value), 3600)
        elif low in ("con", "chan") and value.isdigit() and int(value) > 0:
            conn.setdefault("parallel", min(int(value), 256))
        elif low == "zlib":
            res.notes.append(f"{key}: compression (zlib) is not an option in Syncpane; ignored")
        else:
            res.notes.append(f'{key}: the SFTP option "{opt}" has no Syncpane equivalent; ignored')
    if threads and threads > 0:
        conn["parallel"] = min(threads, 256)  # FreeFileSync's "parallel file operations"
    if "auth" not in conn:
        # FreeFileSync logs in with a password unless told otherwise.
        conn["auth"] = "password"
        password = True
    if password or legacy_password:
        res.notes.append(f"{key}: passwords are not imported; run "
                         f"`syncpane credentials set {key}` once to store it in the keyring")
    res.connection = conn
    return res
