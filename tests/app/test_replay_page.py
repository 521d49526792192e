"""The Training replay page in AppTest: which models it offers, the input it replays, what it sends."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lenet_viz import model_store
from lenet_viz.checkpoints import checkpoint_bytes, load_checkpoint
from lenet_viz.history import Snapshot
from lenet_viz.i18n import t
from lenet_viz.models import PRESETS, build_model
from lenet_viz.netview_payload import Drawing
from lenet_viz.page_state import FeatureMapsState, ReplayState

PAGE = "../../app_pages/replay.py"
STEPS = (0, 3, 10)


def run_bytes(snapshots: bool = True, dataset: str = "mnist") -> bytes:
    """A small 'run' of the modern LeNet: three snapshots (random weights, float16) and its final weights."""
    spec = PRESETS["modern"]
    kept = []
    for step in STEPS:
        torch.manual_seed(step)
        model = build_model(spec)
        kept.append(Snapshot(step, step / 10, 2.3 - step / 10, None if step == 0 else 0.5, None,
                             {k: v.half() for k, v in model.state_dict().items()}))
    return checkpoint_bytes(model, spec, dataset, tuple("0123456789"), snapshots=kept if snapshots else ())


def start(replay: ReplayState | None = None, drawing: Drawing | None = None, **state) -> AppTest:
    """The page with ``state`` in the session (its stores), ``replay`` as its typed state and ``drawing``
    as the Feature maps page keeps the browser's drawing."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    if replay is not None:
        state[ReplayState.state_key()] = replay
    if drawing is not None:
        state[FeatureMapsState.state_key()] = FeatureMapsState(drawing=drawing)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def sent(at: AppTest) -> dict:
    """The data the replay component received in this run."""
    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


@pytest.fixture
def no_bundled(monkeypatch):
    """The page as before any bundled model carries snapshots (or without bundled models at all)."""
    monkeypatch.setattr(model_store, "bundled_models", lambda: [])


def test_without_a_model_with_snapshots_the_page_says_how_to_get_one(no_bundled):
    at = start(saved_models={"old run": run_bytes(snapshots=False)})
    assert not at.exception
    assert any("No model with snapshots yet" in info.value for info in at.info)
    assert not at.get("bidi_component") and not at.selectbox


def test_only_models_with_snapshots_are_offered(no_bundled):
    at = start(saved_models={"old run": run_bytes(snapshots=False), "new run": run_bytes()})
    assert not at.exception
    assert at.selectbox(key=ReplayState.key("model")).options == ["Saved: new run"]
    assert "3 snapshots, steps 0 to 10" in at.caption[1].value


def test_a_saved_run_is_replayed_on_a_sample_with_every_snapshot_sent_once():
    at = start(saved_models={"run": run_bytes()}, replay=ReplayState(model="saved:run"))
    assert not at.exception
    data = sent(at)
    samples = model_store.load_samples("mnist")
    index = at.selectbox(key=ReplayState.key("sample", "mnist")).value
    assert data["input"] == samples.images[index].ravel().tolist()
    assert data["label"] == str(samples.labels[index]) and data["classes"] == list("0123456789")
    assert data["model"]["dtype"] == "float16" and len(data["model"]["weight_sets"]) == len(STEPS)
    assert [info["step"] for info in data["model"]["set_info"]] == list(STEPS)
    assert data["drawing_id"] is None  # the page holds no drawing: the view sends the browser's, if any
    at.selectbox(key=ReplayState.key("sample", "mnist")).set_value((index + 1) % len(samples.images)).run()
    again = sent(at)
    assert again["model"] is None and again["model_id"] == data["model_id"]  # the page keeps the snapshots
    assert again["input"] != data["input"]


def test_the_feature_maps_drawing_is_an_input():
    drawing = np.zeros((28, 28), np.uint8)
    drawing[4:24, 13:16] = 255  # a 1
    at = start(saved_models={"run": run_bytes()}, replay=ReplayState(model="saved:run"),
               drawing=Drawing("d1", 28, drawing))
    assert "My drawing" in at.radio(key=ReplayState.key("input")).options
    at.radio(key=ReplayState.key("input")).set_value("drawing").run()
    assert not at.exception
    data = sent(at)
    assert data["input"] == drawing.ravel().tolist() and data["label"] is None
    assert data["drawing_id"] == "d1"  # the view sends the browser's drawing only when it is another one


def test_a_drawing_for_another_input_size_is_not_offered():
    at = start(saved_models={"run": run_bytes()}, replay=ReplayState(model="saved:run"),
               drawing=Drawing("d1", 32, np.zeros((32, 32), np.uint8)))
    assert at.radio(key=ReplayState.key("input")).options == ["Sample", "Upload"]


def test_without_samples_or_drawing_the_page_asks_for_a_picture(no_bundled):
    at = start(saved_models={"run": run_bytes(dataset="unknown")})
    assert not at.exception and not at.get("bidi_component")
    assert at.radio(key=ReplayState.key("input")).options == ["Upload"]
    assert any("Upload a picture" in info.value for info in at.info)


needs_bundled = pytest.mark.skipif(
    sum(bool(load_checkpoint(m.path).snapshots) for m in model_store.bundled_models()) < 2,
    reason="the bundled models do not carry snapshots")


@needs_bundled
def test_switching_dataset_shows_its_samples_and_classes():
    at = start()
    fashion = next(f"bundled:{m.key}" for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    digits = sent(at)
    at.selectbox(key=ReplayState.key("model")).set_value(fashion).run()
    assert not at.exception
    clothes = sent(at)
    assert "Sneaker" in clothes["classes"] and clothes["model_id"] != digits["model_id"]
    assert clothes["model"] is not None  # a new model: its snapshots travel once
    samples = model_store.load_samples("fashion-mnist")
    index = at.selectbox(key=ReplayState.key("sample", "fashion-mnist")).value
    assert clothes["input"] == samples.images[index].ravel().tolist()
    assert clothes["label"] == samples.classes[samples.labels[index]]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_file_that_is_no_picture_is_refused_in_words(no_bundled, lang):
    at = start(saved_models={"run": run_bytes(dataset="unknown")}, _lang=lang)
    at.file_uploader(key=ReplayState.key("picture")).upload("notes.txt", b"my notes", "text/plain").run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("error.not_a_picture", lang)]
    assert at.file_uploader(key=ReplayState.key("picture")).proto.type == []  # any file reaches the page, to be told
