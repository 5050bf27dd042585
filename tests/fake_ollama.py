"""A stand-in for a local Ollama server: `GET /api/tags` answered exactly as Ollama documents
it (https://github.com/ollama/ollama/blob/main/docs/api.md#list-local-models), every request
recorded. Stdlib only; on 127.0.0.1 with an ephemeral port, stopped after a bounded lifetime.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from loopback import LOCALHOST, LoopbackServer


def model_entry(name: str) -> dict[str, Any]:
    """One element of `models`, shaped like Ollama's own answer."""
    return {
        "name": name,
        "model": name,
        "modified_at": "2024-05-10T08:06:48.639712648-07:00",
        "size": 3825819519,
        "digest": "ce298d984115b93bb1b191b47fee6b39e4e9fbd5f18e651c02f9fa74e0edcee7",
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "7B",
            "quantization_level": "Q4_0",
        },
    }


class FakeOllama(LoopbackServer):
    name = "fake-ollama"

    def __init__(self, models: list[str], *, lifetime_s: float = 60.0) -> None:
        super().__init__(lifetime_s=lifetime_s)
        self.models = models
        self.paths: list[str] = []
        self._seen = threading.Lock()

    def _make_server(self) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._seen:
                    owner.paths.append(self.path)
                if self.path != "/api/tags":
                    self.send_error(404)
                    return
                body = json.dumps({"models": [model_entry(m) for m in owner.models]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return ThreadingHTTPServer((LOCALHOST, 0), Handler)
