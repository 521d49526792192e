"""Environment settings: read when used, unusable values count as unset."""

from pathlib import Path

import pytest

from lenet_viz import settings


def test_nothing_set_gives_the_defaults(monkeypatch):
    monkeypatch.delenv(settings.CACHE_ENV)
    assert settings.data_dir() is None
    assert settings.train_threads() is None and settings.max_runs() is None
    assert settings.cache_root() == Path.home() / ".cache" / "lenet-viz"


def test_values_set_after_import_are_read(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(settings.TRAIN_THREADS_ENV, "3")
    monkeypatch.setenv(settings.MAX_RUNS_ENV, " 2 ")
    assert settings.data_dir() == tmp_path / "data"
    assert settings.cache_root() == tmp_path / "cache" / "lenet-viz"
    assert settings.train_threads() == 3 and settings.max_runs() == 2


@pytest.mark.parametrize("bad", ["", "0", "-1", "two", "1.5"])
def test_an_unusable_count_is_unset(monkeypatch, bad):
    monkeypatch.setenv(settings.TRAIN_THREADS_ENV, bad)
    monkeypatch.setenv(settings.MAX_RUNS_ENV, bad)
    assert settings.train_threads() is None and settings.max_runs() is None


def test_an_empty_data_folder_is_unset(monkeypatch):
    monkeypatch.setenv(settings.DATA_ENV, "  ")
    assert settings.data_dir() is None
