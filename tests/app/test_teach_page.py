"""The Teach page in AppTest: what it hands the browser, the zip restore (good and hostile), and Save,
after which Feature maps, Training replay and Train list the taught network."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import model_store, teach
from lenet_viz import teach_component as tc
from lenet_viz.page_state import FeatureMapsState, ReplayState
from lenet_viz.teach import Examples
from tests.unit.test_teach import report as taught_report

PAGE = "../../app_pages/teach.py"
needs_bundled = pytest.mark.skipif(not model_store.bundled_models(),
                                   reason="the bundled models are not in assets/models")


def teach_data(at: AppTest) -> dict:
    """The JSON the page handed the Teach component on its last run."""
    views = [e for e in at.get("bidi_component") if e.proto.component_name == tc.COMPONENT]
    assert len(views) == 1
    return json.loads(views[0].proto.json)


def start(lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_the_page_hands_the_browser_its_words_and_networks_in_english_and_chinese():
    at = start()
    assert not at.exception
    assert at.title[0].value == "Teach it your own symbols"
    data = teach_data(at)
    assert data["texts"]["ui.add_class"] == "Add class" and data["texts"]["ui.status"] == "Training status"
    assert data["texts"]["ui.add_drawing"] == "Add drawing to {name}" and data["texts"]["ui.pad"] == "Drawing pad"
    assert set(data["networks"]) == {"classic", "modern", "seed-nopad"}
    first = data["networks"]["modern"]["plan"]["tensors"][0]
    assert first == {"name": "conv1.weight", "shape": [6, 1, 5, 5], "offset": 0}
    assert data["limits"] == {"min_classes": 2, "max_classes": 10, "min_examples": 5, "max_examples": 1000,
                              "max_name": 40}
    assert data["restore"] is None
    zh = teach_data(start("zh"))
    assert zh["texts"]["ui.add_class"] == "添加类别" and zh["texts"]["ui.status"] == "训练状态"


@needs_bundled
def test_the_bundled_weights_go_to_the_browser_once():
    at = start()
    first = teach_data(at)["bundled"]
    assert first["key"] == "digits" and isinstance(first["weights"], str)
    at.run()
    assert teach_data(at)["bundled"]["weights"] is None  # only the id on later reruns
    at.session_state[tc.SENT] = set()  # as if the page had lost them
    at.run()
    assert teach_data(at)["bundled"]["weights"] is not None


def examples_zip() -> bytes:
    labels = np.repeat(np.arange(3), 5)
    return teach.write_examples_zip(Examples(("一", "△", "JB"), np.full((15, 28, 28), 9, np.uint8), labels))


def test_an_uploaded_zip_is_handed_to_the_browser_to_restore():
    at = start()
    at.file_uploader(key=tc.FILE).upload("mine.zip", examples_zip(), "application/zip").run()
    assert not at.exception and not at.error
    restore = teach_data(at)["restore"]
    assert restore["classes"] == ["一", "△", "JB"] and restore["labels"] == [0] * 5 + [1] * 5 + [2] * 5
    assert any("Restored 15 drawings in 3 classes" in s.value for s in at.success)
    at.file_uploader(key=tc.FILE).upload("again.zip", examples_zip(), "application/zip").run()
    assert teach_data(at)["restore"]["id"] != restore["id"]  # the same zip again restores again


@pytest.mark.parametrize("lang, words", [("en", "could not be used"), ("zh", "无法使用")])
def test_a_hostile_zip_says_why_and_changes_nothing(lang, words):
    at = start(lang)
    at.file_uploader(key=tc.FILE).upload("mine.zip", examples_zip(), "application/zip").run()
    before = teach_data(at)["restore"]
    at.file_uploader(key=tc.FILE).upload("evil.zip", b"PK\x03\x04 not really", "application/zip").run()
    assert not at.exception
    assert any(words in e.value for e in at.error)
    assert teach_data(at)["restore"] == before
    at.file_uploader(key=tc.FILE).upload("notes.txt", b"my notes", "text/plain").run()
    assert not at.exception
    assert any(words in e.value and "notes.txt" in e.value for e in at.error), [e.value for e in at.error]
    assert teach_data(at)["restore"] == before
    assert at.file_uploader(key=tc.FILE).proto.type == []  # any file reaches the page, to be told


def saved_by_teach(report: dict) -> AppTest:
    """Save's callback on a report, as the trigger runs it (AppTest cannot press the browser's button)."""
    def script():
        import streamlit as st

        from lenet_viz import teach_component as tc

        st.session_state[tc.KEY] = {"save": st.session_state["report"]}
        tc.save_taught()
        if said := tc.notice():
            st.write(said[1])

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["report"] = report
    return at.run()


@pytest.mark.slow
def test_save_keeps_the_taught_network_where_the_other_pages_find_it():
    _, report = taught_report()
    at = saved_by_teach(report)
    assert not at.exception
    assert list(at.session_state["saved_models"]) == ["Taught: 一 · △ · JB"]
    assert "Saved as “Taught: 一 · △ · JB”" in at.markdown[0].value
    saved = {"saved_models": at.session_state["saved_models"]}
    fm = AppTest.from_file("../../app_pages/feature_maps.py", default_timeout=60)
    fm.session_state["saved_models"] = saved["saved_models"]
    fm.session_state[FeatureMapsState.state_key()] = FeatureMapsState(model="Saved: Taught: 一 · △ · JB")
    fm.run()
    assert not fm.exception and not fm.error
    assert "Saved: Taught: 一 · △ · JB" in fm.selectbox(key=FeatureMapsState.key("model")).options
    replay = AppTest.from_file("../../app_pages/replay.py", default_timeout=60)
    replay.session_state["saved_models"] = saved["saved_models"]
    replay.session_state[ReplayState.state_key()] = ReplayState(model="saved:Taught: 一 · △ · JB")
    replay.run()
    assert not replay.exception and not replay.error
    assert replay.selectbox(key=ReplayState.key("model")).value == "saved:Taught: 一 · △ · JB"


def test_a_bad_save_says_why_and_keeps_nothing():
    at = saved_by_teach({"spec": {"conv": []}, "classes": ["a", "b"], "weights": ""})
    assert not at.exception
    assert "The network was not saved" in at.markdown[0].value
    assert "saved_models" not in at.session_state or not at.session_state["saved_models"]
