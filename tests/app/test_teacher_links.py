"""A teacher's link on every page that has a link, in English and Chinese: a hidden control is absent
(and keeps the link's value over reruns), a locked one is there but disabled, ``nav`` hides the page
list, an unknown control leaves a note, and the sidebar's link box builds such a link."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import links
from lenet_viz.i18n import t
from lenet_viz.page_state import FeatureMapsState, OutputSizeState, ReplayState, TrainState
from tests.app.test_language import english_on_page

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
LANGS = ("en", "zh")


def open_page(page: str, lang: str, **query: str) -> AppTest:
    """The app opened on ``page`` (an id of PAGE_PATHS) by a link with ``query``, in ``lang``."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.query_params.clear()
    at.query_params.update({**query, "lang": lang})
    at.switch_page(f"app_pages/{links.PAGE_PATHS[page] or 'home'}.py").run()
    assert not at.exception, at.exception
    return at


def nav_hidden(at: AppTest) -> bool:
    return any("stSidebarNav" in str(h.proto) and "display:none" in str(h.proto) for h in at.get("html"))


def fixed_note_shown(at: AppTest, lang: str) -> bool:
    return any(c.value == t("link.teacher_fixed", lang) for c in at.caption)


def absent(widgets, key: str) -> bool:
    return all(w.key != key for w in widgets)


@pytest.mark.parametrize("lang", LANGS)
def test_output_size_hides_and_locks_what_the_link_says_and_keeps_the_hidden_values(lang):
    at = open_page("output-size", lang, k="3", hide="kernel,lenet,nav", lock="kind,stride")
    assert absent(at.slider, OutputSizeState.key("kernel"))
    assert at.slider(key=OutputSizeState.key("stride")).disabled
    assert at.radio(key=OutputSizeState.key("kind")).disabled
    assert not at.slider(key=OutputSizeState.key("padding")).disabled
    assert not at.tabs  # the whole-LeNet tab is hidden: one layer, no tabs
    assert nav_hidden(at) and fixed_note_shown(at, lang)
    output = t("os.output_size", lang)
    assert next(m.value for m in at.metric if m.label == output) == "30 × 30"  # the hidden kernel is the link's 3
    at.slider(key=OutputSizeState.key("padding")).set_value(0).run()
    assert next(m.value for m in at.metric if m.label == output) == "26 × 26"  # kernel 3 still, over reruns
    assert dict(at.query_params) == {"k": "3", "p": "0", "hide": "kernel,lenet,nav", "lock": "kind,stride",
                                     "lang": lang}
    assert not at.info  # nothing wrong with the link
    if lang == "zh":
        assert english_on_page(at) == []


@pytest.mark.parametrize("lang", LANGS)
def test_a_plain_output_size_link_hides_nothing(lang):
    at = open_page("output-size", lang, k="3")
    assert not at.slider(key=OutputSizeState.key("kernel")).disabled and len(at.tabs) == 2
    assert not nav_hidden(at) and not fixed_note_shown(at, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_unknown_controls_leave_a_note_in_the_pages_language(lang):
    at = open_page("output-size", lang, hide="kernel,everything", lock="nav")
    note = at.info[0].value
    assert note.startswith(t("link.notes", lang))
    assert "`everything`" in note and "`nav`" in note
    assert ("not a control" if lang == "en" else "不是本页的控件") in note
    assert absent(at.slider, OutputSizeState.key("kernel"))  # the known one still applies


@pytest.mark.parametrize("lang", LANGS)
def test_the_link_box_builds_a_teachers_link(lang):
    at = open_page("output-size", lang, s="2")
    hide, lock = at.multiselect(key="link_hide_output-size"), at.multiselect(key="link_lock_output-size")
    assert hide.label == t("link.teacher_hide", lang)
    assert len(hide.options) == len(links.PAGE_CONTROLS["output-size"])  # every control of the page is offered
    assert t("link.teacher_control.nav", lang) in hide.options
    assert not hide.value and not lock.value  # nothing hidden or locked at first: a plain link
    hide.set_value(["nav", "kernel"]).run()
    at.multiselect(key="link_lock_output-size").set_value(["stride"]).run()
    link = at.sidebar.code[0].value
    assert link.endswith(f"/output_size?s=2&hide=kernel,nav&lock=stride&lang={lang}"), link
    assert "hide" not in at.query_params  # the page itself stays as it is
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items() if k != "lang"}
    opened = open_page("output-size", lang, **query)
    assert absent(opened.slider, OutputSizeState.key("kernel")) and nav_hidden(opened)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_feature_maps_keeps_a_hidden_model_and_input_and_locks_the_sample(lang):
    at = open_page("feature-maps", lang)  # the pickers drawn once: Streamlit forgets a widget's value when a
    # run leaves it out, unless the page keeps it
    at.query_params.update({"model": "fashion", "sample": "3", "hide": "model,input,kernels,nav",
                            "lock": "sample,inspector"})
    at.run()
    assert absent(at.selectbox, FeatureMapsState.key("model")) and absent(at.radio, FeatureMapsState.key("source"))
    sample = at.selectbox(key=FeatureMapsState.key("sample"))
    assert sample.disabled and sample.value == 3
    assert all(e.label != t("fm.kernels", lang) for e in at.expander)
    assert nav_hidden(at) and fixed_note_shown(at, lang)
    at.run()  # a rerun (a click in the view) draws no hidden widget: the values are kept all the same
    state = at.session_state[FeatureMapsState.state_key()]
    assert state.model.startswith("Fashion-MNIST") and state.source == "sample"
    assert dict(at.query_params) == {"model": "fashion", "sample": "3", "hide": "model,input,kernels,nav",
                                     "lock": "sample,inspector", "lang": lang}


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_train_hides_and_locks_its_settings(lang):
    at = open_page("train", lang, hide="dataset,resume,nav", lock="network,epochs")
    assert absent(at.selectbox, TrainState.key("dataset"))
    assert all(e.label != t("train.resume", lang) for e in at.expander)
    assert at.selectbox(key=TrainState.key("network")).disabled
    assert at.number_input(key=TrainState.key("epochs")).disabled
    assert not at.number_input(key=TrainState.key("lr", "sgd_relu")).disabled  # the default network: modern
    assert nav_hidden(at) and fixed_note_shown(at, lang)
    assert at.query_params["hide"] == "dataset,resume,nav" and at.query_params["lock"] == "network,epochs"


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_replay_hides_the_input_and_locks_model_and_sample(lang):
    at = open_page("replay", lang, model="fashion", sample="5", hide="input", lock="model,sample")
    assert absent(at.radio, ReplayState.key("input"))
    assert at.selectbox(key=ReplayState.key("model")).disabled
    sample = at.selectbox(key=ReplayState.key("sample", "fashion-mnist"))
    assert sample.disabled and sample.value == 5
    assert not nav_hidden(at) and fixed_note_shown(at, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_home_hides_the_page_list(lang):
    at = open_page("home", lang, hide="nav")
    assert nav_hidden(at) and fixed_note_shown(at, lang)
    assert at.sidebar.code[0].value.endswith(f"/?hide=nav&lang={lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_teach_offers_its_link_and_a_teachers_link_hides_the_page_list(lang):
    at = open_page("teach", lang)
    assert not nav_hidden(at) and not fixed_note_shown(at, lang)
    assert at.sidebar.code[0].value.endswith(f"/teach?lang={lang}")  # the page, in the session's language
    assert dict(at.query_params) == {"lang": lang}
    assert any(c.value.endswith(t("link.private_teach", lang)) for c in at.sidebar.caption)  # says what stays behind
    at.multiselect(key="link_hide_teach").set_value(["nav"]).run()
    assert at.sidebar.code[0].value.endswith(f"/teach?hide=nav&lang={lang}")

    at = open_page("teach", lang, hide="nav")
    assert nav_hidden(at) and fixed_note_shown(at, lang)
    assert at.sidebar.code[0].value.endswith(f"/teach?hide=nav&lang={lang}")
