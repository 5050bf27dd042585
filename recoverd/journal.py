"""The recovery log: structlog JSON lines with dotted event names, redacted, rotated by size.

Configured here and nowhere else. Every value is redacted before it is written: the hook runs
in Claude Code's environment, which holds the user's API key, so secrets can reach any text.
"""

from __future__ import annotations

import functools
import io
import logging
import logging.handlers
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, cast

import re2
import structlog

LOGGER_NAME = "recoverd"
REDACTED = "[REDACTED]"
_SECRETS = re2.compile(
    r"(?i)"
    r"(sk-ant-[a-z0-9_\-]{8,})"  # Anthropic keys
    r"|(sk-[a-z0-9]{20,})"  # OpenAI-style keys
    r"|(gh[pousr]_[A-Za-z0-9]{20,})|(github_pat_[A-Za-z0-9_]{20,})"
    r"|(xox[abposr]-[A-Za-z0-9-]{10,})"  # Slack
    r"|(AKIA[0-9A-Z]{16})"  # AWS access key ids
    r"|(npm_[A-Za-z0-9]{30,})"
    r"|(bearer\s+[A-Za-z0-9._~+/=\-]{12,})"
)
# key=value / key: value where the key names a secret; the value is replaced, the key kept.
_ASSIGNED = re2.compile(
    r"(?i)\b([A-Z0-9_]*(?:api[_-]?key|token|secret|passw(?:or)?d|auth|credential)[A-Z0-9_]*)"
    r"(\s*[=:]\s*)((?:(?:bearer|basic|token)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;&\"']+))"
)
# user:password@ inside URLs (an index URL with credentials, a git remote with a token).
_URL_CREDENTIALS = re2.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")
_SECRET_KEYS = re2.compile(r"(?i)(api[_-]?key|token|secret|passw(?:or)?d|credential|auth)")
# One pass that says whether any of the three can match: most values hold no secret.
_ANY_SECRET = re2.compile("|".join(f"(?:{r.pattern})" for r in (_SECRETS, _ASSIGNED,
                                                                 _URL_CREDENTIALS)))


@functools.lru_cache(maxsize=1024)
def _names_a_secret(key: str) -> bool:
    return _SECRET_KEYS.search(key) is not None


def redact(text: str) -> str:
    """Remove secrets from a string, keeping enough around them to stay readable."""
    if not text:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if _ANY_SECRET.search(data) is None:
        return text
    text = data.decode("utf-8", "replace")  # lone surrogates (from JSON escapes) cannot be matched
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}@", text)
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return str(_SECRETS.sub(REDACTED, text))


def redact_value(value: Any, key: str = "") -> Any:
    if key and _names_a_secret(key) and isinstance(value, str | int | float) and value != "":
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in list(event_dict):
        if key != "event":
            event_dict[key] = redact_value(event_dict[key], key)
    return event_dict


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Opens every log file 0600: the first one and each one a rollover starts afresh."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return cast(io.TextIOWrapper, open(fd, self.mode, encoding=self.encoding,
                                           errors=self.errors))


def configure(log_file: Path | None, max_bytes: int = 5 << 20, backups: int = 3) -> None:
    """Send events to `log_file` as JSON lines (or to stderr when None), rotated by size."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler()
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _PrivateRotatingFileHandler(
            log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        # The log is the user's own; nobody else needs to read what their commands printed.
        # (A file from before is tightened here; new ones are created 0600 by the handler.)
        if log_file.exists():
            os.chmod(log_file, 0o600)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get() -> Any:
    return structlog.get_logger(LOGGER_NAME)
