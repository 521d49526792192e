"""Fixtures every tier shares, the clean environment of the whole session, and the markers that
apply themselves by folder.

- ``tests/unit``: the library alone (no Streamlit, no browser); marked ``unit``.
- ``tests/app``: pages in Streamlit's ``AppTest``; marked ``app``.
- ``tests/browser``: the running app in headless Chromium; marked ``browser``.
- ``tests/load``: many sessions on a private server, nginx; marked ``load``.

``slow`` (a test over about a second: training runs, real data, servers) is set per test or module;
the quick tier is ``-m "not slow and not browser and not load"``.

The environment: before any test module is imported or any server started, the session drops the
shell's ``LENET_VIZ_*``, ``STREAMLIT_*`` and locale settings and takes a private, writable ``$HOME``
and cache folder (``tests/environment.py``): a user's settings, a Chinese desktop or an unwritable
``XDG_CACHE_HOME`` change nothing in what the tests see.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.datasets import write_dataset
from tests.environment import clean_environment

TIERS = ("unit", "app", "browser", "load")
_SESSION: dict = {}  # the shell's environment and the private home, while the session runs


def pytest_configure(config: pytest.Config) -> None:
    """Replace the shell's environment with a clean one for the whole session (restored at the end)."""
    home = Path(tempfile.mkdtemp(prefix="lenet-viz-tests-home-"))
    (home / ".cache").mkdir()
    _SESSION.update(shell=dict(os.environ), home=home)
    os.environ.clear()
    os.environ.update(clean_environment(_SESSION["shell"], home))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION:
        os.environ.clear()
        os.environ.update(_SESSION.pop("shell"))
        shutil.rmtree(_SESSION.pop("home"), ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.path)).parent.name
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture
def idx_folder(tmp_path: Path) -> Path:
    """A folder with a small synthetic dataset under non-standard file names."""
    return write_dataset(tmp_path, (("train-small", 600, 0), ("t10k", 200, 1)))
