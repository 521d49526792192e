"""Train → Replay: after a run, one click opens the replay of that run, on the same input."""

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import netview_component as nv
from lenet_viz.netview_payload import Drawing
from tests.datasets import write_dataset

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def finished_run(tmp_path: Path, drawing: np.ndarray | None = None) -> AppTest:
    folder = write_dataset(tmp_path, (("train", 256, 0), ("t10k", 64, 1)))
    at = AppTest.from_file(APP, default_timeout=60).run()
    if drawing is not None:  # what the Feature maps page keeps of the drawing the browser sent
        at.session_state[nv.STATE] = nv.FeatureMapsState(drawing=Drawing("d1", drawing.shape[0], drawing))
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_dataset").set_value("mnist").run()
    at.text_input(key="train_data_dir_mnist").set_value(str(folder)).run()
    at.number_input(key="train_epochs").set_value(1).run()
    next(b for b in at.button if b.label == "Start").click().run()
    session = at.session_state["training_session"]
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
    at.text_input(key="train_save_label_1").set_value("tiny").run()
    next(b for b in at.button if b.label == "Save").click().run()
    assert any("Training replay" in s.value for s in at.success)  # the Save message names the replay
    replay_button(at).click().run()
    assert not at.exception
    assert at.selectbox(key="replay_model").value == "Saved: tiny"  # now on the replay page, with this run
    assert at.radio(key="replay_input").value == "Sample"
    assert list(at.session_state["saved_models"]) == ["tiny"]  # Save then Replay: one copy


@pytest.mark.slow
def test_replay_this_run_uses_the_feature_maps_drawing(tmp_path):
    drawing = np.zeros((28, 28), np.uint8)
    drawing[5:23, 12:16] = 255
    at = finished_run(tmp_path, drawing)
    replay_button(at).click().run()
    assert not at.exception
    assert at.selectbox(key="replay_model").value.startswith("Saved: ")
    assert at.radio(key="replay_input").value == "My drawing"
