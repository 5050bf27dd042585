"""The models a local Ollama server has (GET /api/tags), asked on this machine only.

The server is `$RECOVERD_OLLAMA_URL`, else http://127.0.0.1:11434 (Ollama's default); any host
other than 127.0.0.1, localhost or ::1 is refused, so a setting cannot send recoverd's requests
(or what they reveal about the project) elsewhere. Proxies are never used for it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_URL = "http://127.0.0.1:11434"
URL_VARIABLE = "RECOVERD_OLLAMA_URL"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class OllamaURLError(ValueError):
    """A configured server URL recoverd will not ask."""


def server_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    url = (env.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in LOCAL_HOSTS:
        raise OllamaURLError(f"{URL_VARIABLE}={url!r}: only a server on this machine "
                             f"(http://127.0.0.1, localhost or [::1]) is asked")
    return url


def canonical_model(name: str) -> str:
    """`deepseek-coder` and `deepseek-coder:latest` are one model; the library prefix too."""
    name = name.strip().removeprefix("registry.ollama.ai/").removeprefix("library/")
    last = name.rsplit("/", 1)[-1]
    return name.lower() if ":" in last else f"{name.lower()}:latest"


@dataclass(frozen=True)
class ModelList:
    url: str
    running: bool
    models: tuple[dict[str, Any], ...] = ()
    error: str = ""
    names: frozenset[str] = field(default=frozenset())

    def has(self, model: str) -> bool:
        return canonical_model(model) in self.names

    def describe(self) -> str:
        if self.running:
            return f"Ollama at {self.url}: {len(self.models)} models"
        return f"no Ollama server answers at {self.url} ({self.error}); models were not checked"


def list_models(url: str, timeout: float = 2.0) -> ModelList:
    """The server's models; `running` is False (with the reason) when nothing usable answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/api/tags", timeout=timeout) as response:
            data = json.loads(response.read(8 << 20))
    except urllib.error.HTTPError as exc:
        return ModelList(url, False, error=f"HTTP {exc.code} from /api/tags")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return ModelList(url, False, error=str(getattr(reason, "strerror", None) or reason))
    except ValueError:
        return ModelList(url, False, error="/api/tags did not answer JSON")
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return ModelList(url, False, error="/api/tags answered without a `models` list")
    kept = tuple(m for m in models if isinstance(m, dict) and isinstance(m.get("name"), str))
    names = frozenset(canonical_model(str(m.get(key)))
                      for m in kept for key in ("name", "model") if isinstance(m.get(key), str))
    return ModelList(url, True, kept, names=names)
