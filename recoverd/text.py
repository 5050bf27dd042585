"""Output text as the classifier reads it: no colour codes, LF line ends, bounded size."""

from __future__ import annotations

import re2

# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles) and lone escapes.
_ANSI = re2.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# Cap what one classification reads; Claude Code itself never sends more than ~30,000 chars.
MAX_CHARS = 2_000_000


def normalize(output: str) -> str:
    """Strip ANSI escapes and turn CRLF into LF. A lone CR inside a line is kept: it is the
    evidence of a script saved with Windows line endings (`set: pipefail\\r: invalid option`)."""
    if len(output) > MAX_CHARS:
        half = MAX_CHARS // 2
        output = output[:half] + "\n" + output[-half:]
    if "\x1b" in output:
        output = _ANSI.sub("", output)
    if "\r\n" in output:
        output = output.replace("\r\n", "\n")
    return output


def shorten(text: str, limit: int) -> str:
    """Keep the head and the tail of a long text, marking the cut."""
    if len(text) <= limit:
        return text
    half = max(0, (limit - 40) // 2)
    return f"{text[:half]}\n… [{len(text) - 2 * half} characters cut] …\n{text[-half:]}"
