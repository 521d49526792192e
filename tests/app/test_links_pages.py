"""Shareable links in the running pages: a link's settings reach the widgets, the widgets reach the URL,
bad values leave a note; and the per-session cap on stored checkpoints."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import settings
from lenet_viz.page_state import FeatureMapsState, OutputSizeState, ReplayState

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
OUTPUT = "Output size (H × W)"


def open_output_size(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page("app_pages/output_size.py").run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_link_sets_the_output_size_widgets():
    at = open_output_size(kind="maxpool", size="32", k="2", s="2", p="0", preset="modern",
                          b2="16,3,1,1,max,2,2", lang="en")
    assert at.radio(key=OutputSizeState.key("kind")).value == "maxpool"
    assert at.slider(key=OutputSizeState.key("kernel")).value == 2
    assert metric(at, OUTPUT) == "16 × 16"
    assert at.selectbox(key=OutputSizeState.key("preset")).value == "modern"
    assert at.number_input(key=OutputSizeState.key("block", "1.kernel")).value == 3
    assert not at.info  # nothing was wrong with the link
    # the URL now says the same (the language passed through), in the canonical short form
    assert dict(at.query_params) == {"kind": "maxpool", "size": "32", "k": "2", "s": "2", "p": "0",
                                     "preset": "modern", "b2": "16,3,1,1,max,2,2", "lang": "en"}


def test_bad_values_fall_back_with_a_note():
    at = open_output_size(k="999", s="two", kind="lstm")
    assert at.slider(key=OutputSizeState.key("kernel")).value == 5
    assert at.slider(key=OutputSizeState.key("stride")).value == 1
    assert at.radio(key=OutputSizeState.key("kind")).value == "conv"
    note = at.info[0].value
    assert "k=999" in note and "s=two" in note and "kind=lstm" in note
    assert metric(at, OUTPUT) == "28 × 28"


def test_changing_a_widget_updates_the_url_and_the_copy_link():
    at = open_output_size()
    at.slider(key=OutputSizeState.key("kernel")).set_value(3).run()
    assert dict(at.query_params) == {"k": "3", "lang": "en"}  # the session's language goes with the link
    link = at.sidebar.code[0].value
    assert "/output_size?" in link and "k=3" in link and "lang=en" in link, link
    at.toggle(key=OutputSizeState.key("square")).set_value(False).run()
    at.slider(key=OutputSizeState.key("width")).set_value(20).run()
    assert dict(at.query_params) == {"h": "28", "w": "20", "k": "3", "lang": "en"}


@pytest.mark.parametrize("page", ["app_pages/home.py", "app_pages/train.py"])
def test_pages_without_settings_offer_their_link(page):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.sidebar.code[0].value.endswith("/?lang=en" if page.endswith("home.py") else "/train?lang=en")


def test_the_session_cap_on_stored_models_refuses_with_a_message(monkeypatch):
    monkeypatch.setenv(settings.SESSION_MODELS_ENV, "3")

    def script():
        import streamlit as st

        from lenet_viz import ui

        for i in range(4):
            try:
                add = ui.add_uploaded_model if i % 2 else ui.add_saved_model
                st.write(add(f"m{i}", bytes([i]) * 10))
            except ui.SessionFull as exc:
                st.error(str(exc))
        st.write(ui.add_uploaded_model("again", bytes([1]) * 10))  # the same upload again: no new entry

    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["m0", "m1", "m2", "m1"]
    assert "holds 3 models" in at.error[0].value and "LENET_VIZ_SESSION_MODELS=3" in at.error[0].value


def test_the_session_cap_on_bytes(monkeypatch):
    monkeypatch.setenv(settings.SESSION_MB_ENV, "1")

    def script():
        import streamlit as st

        from lenet_viz import ui

        st.write(ui.add_saved_model("small", b"x" * 600_000))
        try:
            ui.add_saved_model("big", b"y" * 600_000)
        except ui.SessionFull as exc:
            st.error(str(exc))

    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["small"]
    assert "past 1 MB" in at.error[0].value


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception
    return at


@pytest.mark.slow
def test_a_feature_maps_link_opens_its_model_and_sample():
    at = open_page("app_pages/feature_maps.py", model="fashion", sample="3")
    assert at.selectbox(key=FeatureMapsState.key("model")).value.startswith("Fashion-MNIST")
    assert at.radio(key=FeatureMapsState.key("source")).value == "sample"
    assert at.selectbox(key=FeatureMapsState.key("sample")).value == 3
    assert not at.info or "link" not in at.info[0].value
    assert dict(at.query_params) == {"model": "fashion", "sample": "3", "lang": "en"}
    assert at.sidebar.code[0].value.endswith("/feature_maps?model=fashion&sample=3&lang=en")


@pytest.mark.slow
def test_bad_feature_maps_link_falls_back_with_a_note_and_widgets_write_back():
    at = open_page("app_pages/feature_maps.py", model="nope", sample="abc")
    assert at.selectbox(key=FeatureMapsState.key("model")).value.startswith("Digits")
    note = at.info[0].value
    assert "nope" in note and "sample=abc" in note
    at.radio(key=FeatureMapsState.key("source")).set_value("upload").run()
    assert dict(at.query_params) == {"model": "digits", "input": "upload", "lang": "en"}


@pytest.mark.slow
def test_a_replay_link_opens_its_model_and_sample_and_writes_back():
    at = open_page("app_pages/replay.py", model="fashion", sample="5")
    assert at.selectbox(key=ReplayState.key("model")).value == "bundled:fashion"
    assert at.radio(key=ReplayState.key("input")).value == "sample"
    assert at.selectbox(key=ReplayState.key("sample", "fashion-mnist")).value == 5
    assert dict(at.query_params) == {"model": "fashion", "sample": "5", "lang": "en"}
    at.selectbox(key=ReplayState.key("sample", "fashion-mnist")).set_value(7).run()
    assert at.sidebar.code[0].value.endswith("/replay?model=fashion&sample=7&lang=en")
    bad = open_page("app_pages/replay.py", model="resnet", sample="99")
    assert "resnet" in bad.info[0].value and "99" in bad.info[0].value
    assert bad.selectbox(key=ReplayState.key("model")).value == "bundled:digits"
