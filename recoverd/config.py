"""Settings, in one place: defaults < `<state>/config.toml` < RECOVERD_* environment < flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoverd import paths


class ConfigError(ValueError):
    """A setting that cannot be used, named with where it came from."""


@dataclass(frozen=True)
class Config:
    home: Path
    # Seconds the daemon spends on a verdict before answering; below the hook's deadline.
    budget_seconds: float = 20.0
    # Seconds a request may take to arrive once a client has connected.
    read_timeout_seconds: float = 5.0
    log_max_bytes: int = 5 << 20
    log_backups: int = 3
    reload_debounce_seconds: float = 0.3
    watch_patterns: bool = True
    # Install policy: "declared" (only what the project declares), "allowlist" or "any".
    # A project's own `.recoverd/config.toml` may make it stricter, never looser.
    install_policy: str = "declared"
    # Distributions / npm packages installed even when undeclared, under "allowlist".
    allowlist: tuple[str, ...] = ()
    # Re-run the failed command after a recovery: "safe" (tests, builds, linters…),
    # "always" or "never".
    retry: str = "safe"
    recovery_timeout_seconds: float = 600.0
    retry_timeout_seconds: float = 300.0
    # Re-run only the failing tests once, to tell a flaky test from a real failure.
    rerun_failed_tests: bool = True
    # Answer package managers' known confirmation prompts (otherwise the run stops there).
    answer_prompts: bool = False
    # The outcome store: "sqlite" (the default, in the state directory) or "redis" (shared).
    store_backend: str = "sqlite"
    redis_url: str = ""
    store_ttl_days: float = 30.0
    # The loop breaker: stop repeating a recovery after this many failures within the window.
    loop_breaker_failures: int = 2
    loop_breaker_window_seconds: float = 3600.0

    @property
    def paths(self) -> paths.StatePaths:
        return paths.StatePaths(self.home)

    def open_store(self) -> Any:
        """The outcome store this configuration names (SQLite unless Redis is chosen)."""
        from recoverd import store

        ttl = self.store_ttl_days * 86400
        if self.store_backend == "redis":
            from recoverd.redis_store import RedisStore

            if not self.redis_url:
                raise ConfigError("store_backend = redis needs redis_url")
            return RedisStore.open(self.redis_url, ttl_seconds=ttl)
        self.paths.ensure()
        return store.Store.open(self.paths.store, ttl_seconds=ttl)


_ENV_PREFIX = "RECOVERD_"
_CHOICES = {"install_policy": ("declared", "allowlist", "any"),
            "retry": ("safe", "always", "never"), "store_backend": ("sqlite", "redis")}


def _coerce(name: str, value: Any, origin: str) -> Any:
    field = next(f for f in dataclasses.fields(Config) if f.name == name)
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    try:
        if kind.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else list(value)
            value = tuple(str(v).strip() for v in items if str(v).strip())
        elif kind == "float":
            value = float(value)
        elif kind == "int":
            value = int(value)
        elif kind == "bool":
            value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name} = {value!r} is not a {kind}") from None
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(f"{origin}: {name} must be one of {', '.join(_CHOICES[name])}")
    return value


def load(environ: dict[str, str] | None = None, **flags: Any) -> Config:
    env = dict(os.environ if environ is None else environ)
    home = paths.state_dir(env)
    values: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(Config)} - {"home"}
    config_file = home / "config.toml"
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from None
        for key, value in data.items():
            if key not in names:
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            values[key] = _coerce(key, value, str(config_file))
    for name in names:
        raw = env.get(_ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw, _ENV_PREFIX + name.upper())
    for name, value in flags.items():
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return Config(home=home, **values)
