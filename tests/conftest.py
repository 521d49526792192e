"""Fixtures every tier shares, and the tier markers, which apply themselves by folder.

- ``tests/unit``: the library alone (no Streamlit, no browser); marked ``unit``.
- ``tests/app``: pages in Streamlit's ``AppTest``; marked ``app``.
- ``tests/browser``: the running app in headless Chromium; marked ``browser``.

``slow`` (training runs, real data, servers) is set per test or module; the quick tier is
``-m "not slow and not browser"``.
"""

from pathlib import Path

import pytest

from tests.datasets import write_dataset

TIERS = ("unit", "app", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.path)).parent.name
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture
def idx_folder(tmp_path: Path) -> Path:
    """A folder with a small synthetic dataset under non-standard file names."""
    return write_dataset(tmp_path, (("train-small", 600, 0), ("t10k", 200, 1)))


@pytest.fixture(autouse=True)
def _settings_of_a_fresh_machine(tmp_path_factory, monkeypatch):
    """Tests keep lenet-viz's cache (unpacked IDX files) in a temporary folder, not the user's ~/.cache,
    and see none of the user's ``LENET_VIZ_*`` settings."""
    from lenet_viz import settings

    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "cache"))
    for name in (settings.DATA_ENV, settings.TRAIN_THREADS_ENV, settings.MAX_RUNS_ENV):
        monkeypatch.delenv(name, raising=False)
