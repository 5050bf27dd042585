"""`recoverd demo` end to end: a real failure healed by the real hook and daemon, in a throwaway
project and state directory, with nothing left running or lying around afterwards."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from daemon_fixtures import REPO, daemons_serving

from recoverd import demo


def test_the_demo_heals_a_missing_declared_dependency(tmp_path: Path) -> None:
    user_home = tmp_path / "user-state"  # must stay untouched: the demo has its own
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "RECOVERD_HOME": str(user_home), "RECOVERD_RETRY": "never",
           "RECOVERD_INSTALL_POLICY": "declared", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "recoverd", "demo"], check=False, env=env,
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "ModuleNotFoundError: No module named 'recoverd_demo_greeting'" in out
    assert "PostToolUseFailure:Bash hook additional context: [recoverd]" in out
    assert "Installed: recoverd-demo-greeting" in out
    assert "Retried `python app.py`: passed" in out  # the user's RECOVERD_RETRY did not apply
    assert "now works: hello from recoverd-demo-greeting 1.0" in out
    state = re.search(r"state in (/\S+/home)", out)
    assert state is not None, out
    work = Path(state.group(1)).parent
    assert not work.exists()  # the throwaway folder is gone
    assert daemons_serving(work) == []  # and so is its daemon
    assert not user_home.exists()


def test_the_wheel_is_a_valid_pure_python_wheel(tmp_path: Path) -> None:
    wheel = demo.build_wheel(tmp_path)
    assert wheel.name == "recoverd_demo_greeting-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read("recoverd_demo_greeting-1.0.dist-info/RECORD").decode()
    assert "recoverd_demo_greeting/__init__.py" in names
    assert "recoverd_demo_greeting-1.0.dist-info/METADATA" in names
    assert all(line.split(",")[0] in names for line in record.splitlines())
