"""recoverd.paths, and the hook's stdlib-only copies of its state-directory rule and constants."""

from __future__ import annotations

import os
import pwd
import stat
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path
from types import ModuleType

import pytest
from daemon_fixtures import HOOK, Home, failure_event, run_hook

from recoverd import paths, protocol


def load_hook() -> ModuleType:
    """The hook file as a module; its `__main__` block does not run."""
    loader = SourceFileLoader("recoverd_hook_under_test", str(HOOK))
    spec = spec_from_loader(loader.name, loader)
    assert spec is not None
    module = module_from_spec(spec)
    loader.exec_module(module)
    return module


HOOK_MODULE = load_hook()

# The variables that decide the state directory; each case sets some and unsets the rest.
LOCATION_VARIABLES = ("RECOVERD_HOME", "XDG_STATE_HOME", "HOME")
STATE_DIR_CASES = {
    "recoverd_home": {"RECOVERD_HOME": "/tmp/rd-home", "XDG_STATE_HOME": "/x/state",
                      "HOME": "/home/dev"},
    "recoverd_home_with_tilde": {"RECOVERD_HOME": "~/rd-home", "HOME": "/home/dev"},
    "recoverd_home_empty_means_unset": {"RECOVERD_HOME": "", "XDG_STATE_HOME": "/x/state",
                                        "HOME": "/home/dev"},
    "xdg_state_home": {"XDG_STATE_HOME": "/x/state", "HOME": "/home/dev"},
    "xdg_state_home_blank": {"XDG_STATE_HOME": "  ", "HOME": "/home/dev"},
    "only_home": {"HOME": "/home/dev"},
    "nothing_set": {},
}


@pytest.mark.parametrize("case", sorted(STATE_DIR_CASES))
def test_the_hook_finds_the_same_state_dir_as_the_package(monkeypatch: pytest.MonkeyPatch,
                                                          case: str) -> None:
    values = STATE_DIR_CASES[case]
    for name in LOCATION_VARIABLES:
        if name in values:
            monkeypatch.setenv(name, values[name])
        else:
            monkeypatch.delenv(name, raising=False)
    expected = paths.state_dir(dict(os.environ))
    assert HOOK_MODULE.state_dir() == str(expected)
    assert paths.state_dir() == expected


def test_the_expected_state_dirs_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule itself, spelled out, so that the two copies cannot drift together."""
    if not os.uname().sysname == "Linux":
        pytest.skip("the XDG rule is Linux's")
    expected = {
        "recoverd_home": "/tmp/rd-home",
        "recoverd_home_with_tilde": "/home/dev/rd-home",
        "recoverd_home_empty_means_unset": "/x/state/recoverd",
        "xdg_state_home": "/x/state/recoverd",
        "xdg_state_home_blank": "/home/dev/.local/state/recoverd",
        "only_home": "/home/dev/.local/state/recoverd",
        "nothing_set": os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".local", "state",
                                    "recoverd"),
    }
    for case, values in STATE_DIR_CASES.items():
        for name in LOCATION_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        assert str(paths.state_dir()) == expected[case], case
        assert HOOK_MODULE.state_dir() == expected[case], case


def test_the_hook_process_uses_xdg_state_home(home: Home) -> None:
    """End to end: with no RECOVERD_HOME, the hook spools under $XDG_STATE_HOME/recoverd."""
    xdg = home.root / "xdg"
    event = failure_event(home.root)
    run = run_hook(home, event, RECOVERD_HOME=None, XDG_STATE_HOME=str(xdg))
    assert run.reply() is None
    expected = paths.state_dir({"XDG_STATE_HOME": str(xdg), "HOME": "/nonexistent"})
    assert [p.read_bytes() for p in (expected / "spool").glob("*.event")] == [event]


@pytest.mark.parametrize("name", ["MAGIC", "MAX_PAYLOAD", "MAX_BODY", "ENV_NAMES",
                                  "ENV_PREFIXES"])
def test_the_hook_keeps_the_wire_constants_in_step(name: str) -> None:
    assert getattr(HOOK_MODULE, name) == getattr(protocol, name)


def test_the_hook_forwards_exactly_what_the_protocol_forwards(
        monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["PATH", "PIP_INDEX_URL", "UV_CACHE_DIR", "npm_config_registry", "ANTHROPIC_API_KEY",
             "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "PIPX_HOME", "pip_lowercase"]
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name in names:
        monkeypatch.setenv(name, f"value-of-{name}")
    block = HOOK_MODULE.env_block()  # imported, the hook defines its code without running it
    assert protocol.parse_env(block) == {n: f"value-of-{n}" for n in names
                                         if protocol.is_forwarded(n)}
    assert b"ANTHROPIC_API_KEY" not in block and b"value-of-GITHUB_TOKEN" not in block


def test_user_patterns_follow_recoverd_home() -> None:
    assert paths.user_patterns_dir({"RECOVERD_HOME": "/tmp/rd-x"}) == Path("/tmp/rd-x/patterns")


def test_ensure_creates_the_state_dir_private_and_tightens_a_loose_one(home: Home) -> None:
    fresh = paths.StatePaths(home.root / "a" / "b")
    fresh.ensure()
    assert stat.S_IMODE(fresh.root.stat().st_mode) == 0o700
    loose = paths.StatePaths(home.root / "loose")
    loose.root.mkdir()
    os.chmod(loose.root, 0o755)
    loose.ensure()
    assert stat.S_IMODE(loose.root.stat().st_mode) == 0o700


def test_a_short_home_leaves_room_for_the_socket_path(home: Home) -> None:
    assert len(os.fsencode(paths.StatePaths(home.root).socket)) <= paths.MAX_SOCKET_PATH
