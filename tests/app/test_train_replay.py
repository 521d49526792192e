"""Train → Replay: after a run, one click opens the replay of that run, on the same input."""

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz.netview_payload import Drawing
from lenet_viz.page_state import FeatureMapsState, ReplayState, TrainState
from tests.datasets import write_dataset

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def finished_run(tmp_path: Path, drawing: np.ndarray | None = None, lang: str = "en") -> AppTest:
    folder = write_dataset(tmp_path, (("train", 256, 0), ("t10k", 64, 1)))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    if drawing is not None:  # what the Feature maps page keeps of the drawing the browser sent
        state = FeatureMapsState(drawing=Drawing("d1", drawing.shape[0], drawing))
        at.session_state[FeatureMapsState.state_key()] = state
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run()
    at.text_input(key=TrainState.key("data_dir", "mnist")).set_value(str(folder)).run()
    at.number_input(key=TrainState.key("epochs")).set_value(1).run()
    at.button(key=TrainState.key("start")).click().run()
    session = at.session_state[TrainState.state_key()].run
    deadline = time.monotonic() + 120
    while session.view().busy:
        assert time.monotonic() < deadline, "the one-epoch run did not finish"
        time.sleep(0.5)
    at.run()
    assert not at.exception
    return at


def replay_button(at: AppTest):
    return next(b for b in at.button if b.label == "Replay this run")


@pytest.mark.slow
def test_replay_this_run_opens_the_replay_on_a_sample_and_saves_once(tmp_path):
    at = finished_run(tmp_path)
    at.text_input(key=TrainState.key("save_label", 1)).set_value("tiny").run()
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("Training replay" in s.value for s in at.success)  # the Save message names the replay
    replay_button(at).click().run()
    assert not at.exception
    assert at.selectbox(key=ReplayState.key("model")).value == "saved:tiny"  # now on the replay page, with this run
    assert at.radio(key=ReplayState.key("input")).value == "sample"
    assert list(at.session_state["saved_models"]) == ["tiny"]  # Save then Replay: one copy


@pytest.mark.slow
def test_replay_this_run_uses_the_feature_maps_drawing(tmp_path):
    drawing = np.zeros((28, 28), np.uint8)
    drawing[5:23, 12:16] = 255
    at = finished_run(tmp_path, drawing)
    replay_button(at).click().run()
    assert not at.exception
    assert at.selectbox(key=ReplayState.key("model")).value.startswith("saved:")
    assert at.radio(key=ReplayState.key("input")).value == "drawing"


@pytest.mark.slow
def test_replay_this_run_in_chinese_opens_that_run(tmp_path):
    """In Chinese the Replay picker shows "已保存：…": the jump names the run by its id, never by that text."""
    at = finished_run(tmp_path, lang="zh")
    at.text_input(key=TrainState.key("save_label", 1)).set_value("tiny").run()
    next(b for b in at.button if b.label == "回放这次训练").click().run()
    assert not at.exception
    picker = at.selectbox(key=ReplayState.key("model"))
    assert picker.options[picker.index] == "已保存：tiny"  # the run, not the bundled model listed first
