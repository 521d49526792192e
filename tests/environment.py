"""The environment the tests run in, and give every process they start: explicit, whatever the shell has.

A user's shell may hold lenet-viz's own settings (``LENET_VIZ_MAX_RUNS=0``, ``LENET_VIZ_DATA=…``),
Streamlit's (``STREAMLIT_SERVER_PORT``, a ``~/.streamlit/config.toml`` under ``$HOME``), a Chinese
locale, or a cache folder that cannot be written. None of it may change what a test sees, so
``tests/conftest.py`` replaces the process's environment with :func:`clean_environment` before any
test module is imported or any server starts, and the servers get :func:`process_environment`.
A test that wants a setting sets it itself (``monkeypatch.setenv``, or a server's ``env=``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TEST_SETTINGS = frozenset({"LENET_VIZ_SHOTS"})
"""The tests' own settings (where screenshots go): kept, as they change nothing in the app."""
FOREIGN_PREFIXES = ("LENET_VIZ_", "STREAMLIT_", "LC_")
"""Settings of the app, of Streamlit and of the locale: none is taken from the shell."""
LOCALE = "C.UTF-8"
"""The locale of every test process: present on every Linux, UTF-8; the app's language comes from the browser."""


def clean_environment(environ: Mapping[str, str], home: Path) -> dict[str, str]:
    """``environ`` without any app, Streamlit or locale setting, with ``home`` as ``$HOME`` and
    ``home/.cache`` as the cache folder (both writable, private to this test session)."""
    env = {name: value for name, value in environ.items()
           if name in TEST_SETTINGS or not name.startswith(FOREIGN_PREFIXES)}
    env.pop("LANGUAGE", None)
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), LANG=LOCALE, LC_ALL=LOCALE)
    return env


def process_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a server or command a test starts: the session's clean one (re-cleaned,
    in case a test set a setting on ``os.environ`` itself) plus ``extra``, the settings it is meant to have."""
    return {**clean_environment(os.environ, Path(os.environ["HOME"])), **(extra or {})}
