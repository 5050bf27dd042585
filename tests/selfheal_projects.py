"""Projects for the self-heal tests: file trees written byte for byte, git repos, CLI runs.

`write_tree` takes `{relative path: str | bytes}` (str is written as UTF-8, unchanged: CRLF
stays CRLF) and optional modes; `snapshot` reads every regular file back as (bytes, mode) so a
test can compare a tree before and after, symlinks as ("->", target).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "deepseek-coder:6.7b"
NEW_MODEL = "qwen2.5-coder:7b"


def write_tree(root: Path, files: Mapping[str, str | bytes],
               modes: Mapping[str, int] | None = None) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(path, (modes or {}).get(relative, 0o644))
    return root


Snapshot = dict[str, tuple[bytes, int] | tuple[str, str]]


def snapshot(root: Path) -> Snapshot:
    """Every file under root: (bytes, permission bits), or ("->", target) for a symlink."""
    found: Snapshot = {}
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[relative] = ("->", os.readlink(path))
            else:
                found[relative] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    return found


def git_init(root: Path, add: bool = True) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    if add:
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)


def recoverd(args: list[str], home: Path, cwd: Path, *, prefix: tuple[str, ...] = (),
             env: Mapping[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m recoverd ARGS` in a child process with RECOVERD_HOME=home."""
    full_env = {**os.environ, "RECOVERD_HOME": str(home), **(env or {})}
    full_env["PYTHONPATH"] = str(REPO)
    return subprocess.run([*prefix, sys.executable, "-m", "recoverd", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=timeout,
                          check=False)


# The documented fixture: the model referenced from every kind of file and place.
REFERENCE_PROJECT: dict[str, str] = {
    "config.yaml": (f"# the assistant's model: {MODEL}\n"
                    f"model: {MODEL}\n"
                    "fallbacks:\n"
                    f"  - {MODEL}\n"
                    "  - llama3:8b\n"),
    ".env": f"OLLAMA_MODEL={MODEL}\n",
    "docker-compose.yml": ("services:\n  ollama:\n    image: ollama/ollama\n"
                           f"    command: ollama pull {MODEL}\n"),
    "Dockerfile": f"FROM ollama/ollama\nRUN ollama pull {MODEL}\n",
    "settings.json": ('{\n  "name": "assistant",\n'
                      f'  "model": "{MODEL}",\n'
                      f'  "fallbacks": ["{MODEL}"]\n}}\n'),
    "app.py": (f'"""The assistant; it talks to {MODEL}."""\n'
               "import os\n\n"
               f'MODEL = "{MODEL}"  # the default model\n'
               f'PROMPT = f"ask {MODEL} about {{os.getcwd()}}"\n'
               f'PULL = "ollama pull " + "{MODEL}"\n'
               f'RUN = "ollama run {MODEL}"\n'
               f'URL = "http://127.0.0.1:11434/library/{MODEL}/blobs"\n'
               f'OTHER = "{MODEL}-instruct"\n'),
    "src/assistant/client.py": (f"DEFAULT = '{MODEL}'\n\n\n"
                                "def ask() -> str:\n"
                                f'    """Ask {MODEL}."""\n'
                                "    return DEFAULT\n"),
    "scripts/pull.sh": f"#!/bin/sh\nset -e\nollama pull {MODEL}\n",
    "README.md": f"# Assistant\n\nRun `ollama pull {MODEL}` first.\n",
    "docs/models.md": f"{MODEL.upper()} is the default.\n",
    "legacy/old_client.py": f'MODEL = "{MODEL}"\n',
}
