"""Text files read and written byte-faithfully: encoding, line endings and mode kept, atomic writes.

A file is read once as bytes and decoded with the first codec that gives the same bytes back
when encoded again: UTF-16 when it starts with a UTF-16 byte-order mark, UTF-8 (with or without
its BOM), else latin-1 (an 8-bit file of unknown codepage, kept byte for byte). Text is never
split or re-joined with newline translation, so CRLF stays CRLF. A file with a NUL byte (and no
UTF-16 mark) or mostly control bytes is binary and is not read as text.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Larger files are not scanned: generated data, not something a person edits.
MAX_BYTES = 2 << 20
_SNIFF = 8192
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 8, 27}
EIGHT_BIT = "latin-1"


@dataclass(frozen=True)
class TextFile:
    path: Path
    data: bytes
    text: str
    encoding: str  # utf-8, utf-8-sig, utf-16-le, utf-16-be or latin-1 (8-bit, kept byte for byte)
    mode: int  # permission bits (st_mode & 0o7777)

    @property
    def sha256(self) -> str:
        return sha256(self.data)

    def can_encode(self, text: str) -> bool:
        """Whether `text` can go into this file without guessing its codepage."""
        if self.encoding == EIGHT_BIT:
            return text.isascii()  # an 8-bit file's codepage is unknown: only ASCII is safe
        try:
            text.encode(self.encoding)
        except UnicodeEncodeError:
            return False
        return True

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) that encodes back to exactly `data`, or None for a binary file."""
    candidates: list[str]
    if data.startswith(codecs.BOM_UTF16_LE):
        candidates = ["utf-16-le"]
    elif data.startswith(codecs.BOM_UTF16_BE):
        candidates = ["utf-16-be"]
    else:
        head = data[:_SNIFF]
        if b"\x00" in head:
            return None
        if head and sum(byte in _CONTROL for byte in head) * 10 > len(head) * 3:
            return None
        candidates = ["utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8", EIGHT_BIT]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text.encode(encoding) == data:
            return text, encoding
    return None


def read(path: Path) -> TextFile | None:
    """The file as text, or None: a symlink, not a regular file, too large, binary, unreadable."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    decoded = decode(data)
    if decoded is None:
        return None
    return TextFile(path, data, decoded[0], decoded[1], stat.S_IMODE(info.st_mode))


def lines(text: str) -> list[str]:
    """The lines of `text`, each with its own ending ("\\n" or "\\r\\n"); "".join() gives it back.

    Lines end at "\\n" only, as Python's tokenizer counts them (a lone "\\r" stays inside)."""
    parts = text.split("\n")
    out = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def write_atomic(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Replace `path` with `data`: a temporary file in the same folder, fsync, chmod, os.replace.

    Readers see the old file or the new one, never a mix. `owner` (uid, gid) is restored when
    recoverd runs as root (otherwise a fix would hand a user's file to root)."""
    folder = path.parent
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".recoverd-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
            if owner is not None and os.geteuid() == 0:
                os.fchown(handle.fileno(), *owner)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(folder)


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create a file that must not exist yet (a backup copy), and fsync it; the caller
    fsyncs its folder once all are written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename itself is still atomic
    finally:
        os.close(fd)
