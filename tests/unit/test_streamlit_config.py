"""The server settings in ``.streamlit/config.toml``, as Streamlit itself reads them from the project
folder (where the README, the CI and ``deploy/`` start ``streamlit run``)."""

from pathlib import Path

import pytest
from streamlit import config

from lenet_viz import preprocess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project_config(monkeypatch):
    """Streamlit's options parsed as a server started in the project folder parses them."""
    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    yield config.get_option
    monkeypatch.undo()
    config.get_config_options(force_reparse=True)


def test_no_full_garbage_collection_after_every_run(project_config):
    # Streamlit's default walks the whole heap (torch, pandas, Plotly) after every script and fragment
    # run, holding the lock all sessions share: ~100 of the ~145 ms a unit-inspector answer took, and
    # 200 students clicking units every 10 s waited p95 56 s instead of 0.37 s (benchmarks/README.md).
    assert project_config("runner.postScriptGC") is False


def test_the_upload_limit_is_the_one_the_code_checks(project_config):
    assert project_config("server.maxUploadSize") * 1024 * 1024 == preprocess.MAX_UPLOAD_BYTES
