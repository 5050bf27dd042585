"""Output text as the classifier reads it: no colour codes, LF line ends, bounded size."""

from __future__ import annotations

import re2

# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles) and lone escapes.
_ANSI = re2.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# Cap what one classification reads; Claude Code itself never sends more than ~30,000 chars.
MAX_CHARS = 2_000_000


class _LastEncoding:
    """The UTF-8 bytes of the text matched last: every pattern of one classification searches
    the same text, and RE2 is fastest on bytes (str input costs O(n) per match to map offsets)."""

    text: str | None = None
    data: bytes = b""


def encoded(text: str) -> bytes:
    if text is not _LastEncoding.text:
        _LastEncoding.data = text.encode("utf-8", "replace")
        _LastEncoding.text = text
    return _LastEncoding.data


def normalize(output: str) -> str:
    """Strip ANSI escapes and turn CRLF into LF. A lone CR inside a line is kept: it is the
    evidence of a script saved with Windows line endings (`set: pipefail\\r: invalid option`)."""
    if len(output) > MAX_CHARS:
        half = MAX_CHARS // 2
        output = output[:half] + "\n" + output[-half:]
    data = output.encode("utf-8", "replace")
    changed = False
    if b"\x1b" in data:
        data = _ANSI.sub(b"", data)
        changed = True
    if b"\r\n" in data:
        data = data.replace(b"\r\n", b"\n")
        changed = True
    text = data.decode("utf-8", "replace") if changed else output
    _LastEncoding.text, _LastEncoding.data = text, data
    return text


def shorten(text: str, limit: int) -> str:
    """Keep the head and the tail of a long text, marking the cut."""
    if len(text) <= limit:
        return text
    half = max(0, (limit - 40) // 2)
    return f"{text[:half]}\n… [{len(text) - 2 * half} characters cut] …\n{text[-half:]}"
