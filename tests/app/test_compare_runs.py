"""Compare runs on the Train page: each ended run is recorded once, and the section overlays them with
a legend naming what differs; Clear empties it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz.page_state import TrainState
from tests.datasets import write_dataset

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "train.py")


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def legend(at: AppTest) -> list[str]:
    chart = next(c for c in at.get("plotly_chart") if "Training accuracy" in c.proto.spec)
    return [trace["name"] for trace in json.loads(chart.proto.spec)["data"] if trace.get("showlegend")]


def train_once(at: AppTest, lr: float) -> AppTest:
    at.number_input(key=TrainState.key("lr", "sgd_relu")).set_value(lr)  # the default network: modern
    button(at.run(timeout=30), "Start").click().run(timeout=30)
    session = at.session_state[TrainState.state_key()].run
    assert session.join(60)
    deadline = time.monotonic() + 30
    while session.view().busy:  # the test-set predictions after the run
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return at.run(timeout=30)


@pytest.mark.slow
def test_two_runs_are_overlaid_and_named_by_their_learning_rates(tmp_path):
    folder = write_dataset(tmp_path, (("train", 256, 0), ("t10k", 64, 1)))
    at = AppTest.from_file(PAGE).run(timeout=30)
    assert "Compare runs" not in [h.value for h in at.subheader]  # nothing ran yet
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run(timeout=30)
    at.text_input(key=TrainState.key("data_dir", "mnist")).set_value(str(folder))
    at.number_input(key=TrainState.key("epochs")).set_value(1)
    at = train_once(at.run(timeout=30), 0.9)
    assert not at.exception
    assert "Compare runs" in [h.value for h in at.subheader]
    assert legend(at) == ["#1"]
    at = train_once(at, 0.1)
    at.run(timeout=30)  # a rerun does not record the same run again
    assert legend(at) == ["lr=0.9", "lr=0.1"]
    assert len(at.session_state["compared_runs"]) == 2
    button(at, "Clear the comparison").click().run(timeout=30)
    assert "Compare runs" not in [h.value for h in at.subheader] and not at.exception
