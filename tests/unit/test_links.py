"""Shareable links: bad values fall back with a note, good ones survive a round trip."""

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenet_viz import links
from lenet_viz.links import FeatureMapsView, OutputSizeView, ReplayView

MODELS = ("digits", "fashion")


def test_no_parameters_give_the_defaults_without_notes():
    assert links.parse_output_size({}) == (OutputSizeView(), [])
    assert links.parse_feature_maps({}, MODELS, 30) == (FeatureMapsView(), [])


@pytest.mark.parametrize("params, field, value", [
    ({"k": "999"}, "kernel", 5),
    ({"k": "three"}, "kernel", 5),
    ({"s": "-1"}, "stride", 1),
    ({"kind": "lstm"}, "kind", "conv"),
    ({"size": "0"}, "height", 28),
    ({"h": "1e3", "w": "7"}, "height", 28),
    ({"ceil": "maybe"}, "ceil_mode", False),
    ({"preset": "alexnet"}, "preset", "classic"),
    ({"act": "gelu"}, "activation", None),
    ({"b1": "6,5,1,2,avg,2"}, "blocks", ()),
    ({"b2": "16,5,1,0,mean,2,2"}, "blocks", ()),
])
def test_bad_output_size_values_fall_back_with_a_note(params, field, value):
    view, notes = links.parse_output_size(params)
    assert getattr(view, field) == value
    assert len(notes) == 1 and next(iter(params)) in notes[0]


def test_good_output_size_values_are_read():
    view, notes = links.parse_output_size({"kind": "maxpool", "size": "32", "k": "2", "s": "2", "p": "0",
                                           "ceil": "1", "preset": "modern", "b2": "16,3,1,1,max,2,2"})
    assert notes == []
    assert (view.kind, view.height, view.width, view.kernel, view.stride, view.padding, view.ceil_mode) == \
        ("maxpool", 32, 32, 2, 2, 0, True)
    assert view.blocks == (None, {"out_channels": 16, "kernel": 3, "stride": 1, "padding": 1, "pool": "max",
                                  "pool_kernel": 2, "pool_stride": 2})


def test_feature_maps_unknown_model_and_stale_sample_fall_back():
    view, notes = links.parse_feature_maps({"model": "resnet", "sample": "99"}, MODELS, 30)
    assert view == FeatureMapsView(model=None, input="sample", sample=0)
    assert len(notes) == 2 and "resnet" in notes[0] and "99" in notes[1]


def test_feature_maps_sample_implies_sample_input_and_draw_wins_when_asked():
    assert links.parse_feature_maps({"sample": "4"}, MODELS, 30)[0] == FeatureMapsView(None, "sample", 4)
    assert links.parse_feature_maps({"input": "draw", "sample": "4"}, MODELS, 30)[0] == FeatureMapsView()
    view, notes = links.parse_feature_maps({"input": "paint"}, MODELS, 30)
    assert view.input == "draw" and "paint" in notes[0]


def test_lang_passes_through_and_unknown_is_dropped():
    assert links.parse_lang({"lang": "zh"}) == ("zh", [])
    lang, notes = links.parse_lang({"lang": "klingon"})
    assert lang is None and "klingon" in notes[0]


def test_parse_link_reads_the_page_from_the_path():
    link = links.parse_link("/feature_maps", {"model": "fashion", "sample": "3", "lang": "zh"}, MODELS, 30)
    assert (link.page, link.view, link.lang, link.notes) == ("feature-maps", FeatureMapsView("fashion", "sample", 3),
                                                             "zh", [])
    assert links.parse_link("/nowhere", {}).page == "home"
    assert links.parse_link("/app/output_size", {"k": "x"}).notes


def test_build_url_writes_only_what_differs_and_rejects_unknown_pages():
    url = links.build_url("http://host:8501/", "output-size", links.view_query(OutputSizeView(kernel=3), "en"))
    assert url == "http://host:8501/output_size?k=3&lang=en"
    assert links.build_url("http://host", "home", {}) == "http://host/"
    with pytest.raises(KeyError):
        links.build_url("http://host", "settings", {})


def _parsed(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


sizes = st.integers(1, 64)
blocks = st.fixed_dictionaries({"out_channels": st.integers(1, 64), "kernel": st.integers(1, 11),
                                "stride": st.integers(1, 6), "padding": st.integers(0, 6),
                                "pool": st.sampled_from(["avg", "max", "none"]), "pool_kernel": st.integers(1, 6),
                                "pool_stride": st.integers(1, 6)})
output_views = st.builds(
    OutputSizeView, kind=st.sampled_from(links.KINDS), height=sizes, width=sizes, kernel=st.integers(1, 32),
    stride=st.integers(1, 8), padding=st.integers(0, 8), dilation=st.integers(1, 6), ceil_mode=st.booleans(),
    output_padding=st.integers(0, 7), preset=st.sampled_from(["classic", "modern", "seed-nopad"]),
    activation=st.sampled_from([None, "sigmoid", "relu", "tanh"]),
    blocks=st.one_of(st.just(()), st.tuples(blocks), st.tuples(st.none(), blocks), st.tuples(blocks, blocks)))


@given(output_views)
def test_output_size_round_trip(view):
    url = links.build_url("http://h", "output-size", links.view_query(view))
    assert links.parse_output_size(_parsed(url)) == (view, [])


@given(st.sampled_from([None, *MODELS]), st.sampled_from(links.INPUTS), st.integers(0, 29))
def test_feature_maps_round_trip(model, mode, sample):
    view = FeatureMapsView(model, mode, sample if mode == "sample" else 0)
    url = links.build_url("http://h", "feature-maps", links.view_query(view))
    assert links.parse_feature_maps(_parsed(url), MODELS, 30) == (view, [])


@given(st.dictionaries(st.sampled_from(["kind", "k", "s", "p", "d", "op", "size", "h", "w", "ceil", "preset",
                                        "act", "b1", "b2", "model", "input", "sample", "lang"]),
                       st.text(max_size=12)))
def test_any_text_parses_without_raising(params):
    for path in ("/output_size", "/feature_maps", "/replay", "/train", "/"):
        link = links.parse_link(path, params, MODELS, 30)
        assert all(isinstance(note, str) and note for note in link.notes)


def test_replay_link_reads_model_and_sample_and_falls_back_with_notes():
    assert links.parse_replay({}, MODELS, 30) == (ReplayView(), [])
    assert links.parse_link("/replay", {"model": "fashion", "sample": "5"}, MODELS, 30).view == ReplayView("fashion", 5)
    view, notes = links.parse_replay({"model": "vgg", "sample": "x"}, MODELS, 30)
    assert view == ReplayView(None, 0) and "vgg" in notes[0] and "sample=x" in notes[1]


@given(st.sampled_from([None, *MODELS]), st.none() | st.integers(0, 29))
def test_replay_round_trip(model, sample):
    view = ReplayView(model, sample)
    url = links.build_url("http://h", "replay", links.view_query(view, "zh"))
    assert url.startswith("http://h/replay")
    assert links.parse_replay(_parsed(url), MODELS, 30) == (view, [])


def test_feature_maps_upload_input_round_trips():
    query = links.view_query(FeatureMapsView("digits", "upload"))
    assert query == {"model": "digits", "input": "upload"}
    assert links.parse_feature_maps(query, MODELS, 30) == (FeatureMapsView("digits", "upload"), [])


# --- A teacher's link: controls hidden or locked on any page -------------------------------------------
def test_every_page_has_a_table_of_controls_with_names_in_both_languages():
    from lenet_viz.i18n import t

    assert set(links.PAGE_CONTROLS) == set(links.PAGE_PATHS)
    for page, controls in links.PAGE_CONTROLS.items():
        assert links.NAV in controls and len(set(controls)) == len(controls), page
        assert links.NAV not in links.lockable(page)
        for control in controls:
            key = f"link.teacher_control.{control}"
            assert t(key, "en") != key and t(key, "zh") != t(key, "en"), key


@pytest.mark.parametrize("page", list(links.PAGE_CONTROLS))
def test_hide_and_lock_round_trip_on_every_page(page):
    lockable = links.lockable(page)
    controls = links.Controls(page, frozenset(links.PAGE_CONTROLS[page][::2]), frozenset(lockable[1::2]))
    query = links.view_query(None, "zh", controls)
    assert list(query) == [key for key in ("hide", "lock") if getattr(controls, key)] + ["lang"]
    url = links.build_url("http://h", page, query)
    assert "%2C" not in url  # commas stay readable in the link
    parsed = links.parse_link("/" + links.PAGE_PATHS[page], _parsed(url), MODELS, 30)
    assert (parsed.page, parsed.controls, parsed.notes) == (page, controls, [])
    assert all(controls.hidden(c) == (c in controls.hide) and controls.locked(c) == (c in controls.lock)
               for c in links.PAGE_CONTROLS[page])


def test_controls_are_written_in_the_tables_order_whatever_the_links_order():
    parsed = links.parse_controls("output-size", {"hide": "nav, kernel,kind", "lock": "lenet,stride"})[0]
    assert links.controls_query(parsed) == {"hide": "kind,kernel,nav", "lock": "stride,lenet"}
    assert links.controls_query(links.Controls("train")) == {}


@pytest.mark.parametrize("page, params, kept, note", [
    ("feature-maps", {"hide": "model,everything"}, ({"model"}, set()), "everything"),
    ("output-size", {"lock": "nav"}, (set(), set()), "nav"),  # nothing to lock on a list of links
    ("feature-maps", {"lock": "kernels,sample"}, (set(), {"sample"}), "kernels"),
    ("replay", {"hide": "kernel"}, (set(), set()), "kernel"),  # Output size's, not the replay's
    ("home", {"hide": "nav,<b>x</b>"}, ({"nav"}, set()), "<b>x</b>"),
    ("train", {"hide": ",,", "lock": " "}, (set(), set()), None),
])
def test_unknown_controls_are_left_out_with_a_note(page, params, kept, note):
    link = links.parse_link("/" + links.PAGE_PATHS[page], params, MODELS, 30)
    assert (set(link.controls.hide), set(link.controls.lock)) == kept
    if note is None:
        assert link.notes == []
    else:
        assert len(link.notes) == 1 and f"`{note}`" in link.notes[0] and "not a control" in link.notes[0]
        from lenet_viz.i18n import localize

        assert "不是本页的控件" in localize(link.notes[0], "zh")  # a Msg: English as text, Chinese when shown


def test_a_page_asking_about_a_control_it_does_not_have_is_a_bug():
    fixed = links.Controls("replay", frozenset({"sample"}))
    assert fixed.hidden("sample") and not fixed.locked("sample") and not fixed.hidden("model") and fixed
    with pytest.raises(KeyError):
        fixed.hidden("kernel")
    with pytest.raises(ValueError):
        links.Controls("home", lock=frozenset({"nav"}))
    assert not links.Controls("home")


@given(st.dictionaries(st.sampled_from(["hide", "lock", "lang", "model", "sample"]), st.text(max_size=30)),
       st.sampled_from(list(links.PAGE_PATHS.values())))
def test_any_hide_or_lock_text_parses_without_raising(params, path):
    link = links.parse_link("/" + path, params, MODELS, 30)
    assert link.controls.hide <= set(links.PAGE_CONTROLS[link.page])
    assert all(isinstance(note, str) and note for note in link.notes)


def test_the_readme_lists_every_pages_controls():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| ")}
    titles = {"output-size": "Output size", "feature-maps": "Feature maps", "train": "Train",
              "replay": "Training replay", "lessons": "Lessons", "home": "Home, Teach", "teach": "Home, Teach"}
    for page, title in titles.items():
        row = rows[title] + rows["every page"]
        assert all(f"`{control}`" in row for control in links.PAGE_CONTROLS[page]), page
