"""The Train page says which path a run's steps took (issue 25): a ``Steps: …`` line in its summary."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz.page_state import TrainState
from tests.datasets import write_dataset

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "train.py")


@pytest.mark.slow
def test_the_summary_names_the_step_path(tmp_path: Path):
    folder = write_dataset(tmp_path, (("train", 512, 0), ("t10k", 128, 1)))
    at = AppTest.from_file(PAGE).run(timeout=30)
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run(timeout=30)
    at.text_input(key=TrainState.key("data_dir", "mnist")).set_value(str(folder)).run(timeout=30)
    at.selectbox(key=TrainState.key("network")).set_value("classic")
    at.number_input(key=TrainState.key("epochs")).set_value(1)
    next(b for b in at.run(timeout=30).button if b.label == "Start").click().run(timeout=30)
    session = at.session_state[TrainState.state_key()].run
    try:
        assert session.join(60)
    finally:
        session.stop()
    at.run(timeout=30)
    assert not at.exception
    summaries = [c.value for c in at.code if "examples/sec" in c.value]
    assert summaries and re.search(r"examples/sec on .+\nSteps: (one CUDA graph|eager)", summaries[0])
