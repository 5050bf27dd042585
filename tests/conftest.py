from __future__ import annotations

import sys
from pathlib import Path

# Test helpers (fake_messages_api, claude_code) live in tests/ without __init__ files; make them
# importable from any test directory regardless of pytest's import mode.
# The e2e marker is registered in pyproject.toml ([tool.pytest.ini_options] markers).
TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

# Fixtures for real daemons and hooks (home, daemon, start_daemon, shared_daemon,
# no_leaked_threads): see tests/daemon_fixtures.py.
pytest_plugins = ("daemon_fixtures",)
