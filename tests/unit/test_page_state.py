"""The pages' typed state: widget keys derived in one place, widget values read back, links both ways."""

import subprocess
import sys

import pytest

from lenet_viz import links
from lenet_viz.page_state import (
    STATES,
    FeatureMapsState,
    Jump,
    OutputSizeState,
    ReplayState,
    TrainState,
    model_id,
    split_model_id,
)


def test_widget_keys_name_the_page_and_the_field():
    assert OutputSizeState.key("kernel") == "output-size.kernel"
    assert TrainState.key("data_dir", "mnist") == "train.data_dir.mnist"
    assert OutputSizeState.key("block", OutputSizeState.block_part(1, "kernel")) == "output-size.block.1.kernel"
    assert TrainState.key("save_label", 3) == "train.save_label.3"  # a control: a key, but no state
    with pytest.raises(KeyError):
        OutputSizeState.key("kernal")  # a typo fails at once instead of making a new key


def test_every_page_but_home_has_a_state():
    assert set(STATES) == set(links.PAGE_PATHS)  # a page's link bookkeeping lives there
    assert STATES["feature-maps"] is FeatureMapsState
    assert len({cls.state_key() for cls in STATES.values()}) == len(STATES)


def test_widget_values_go_into_their_fields_and_nothing_else():
    state = TrainState()
    state.take_widget_values({"train.epochs": 3, "train.data_dir.mnist": "/data", "train.start": True,
                              "train.run": "not a widget", "replay.model": "saved:x", "train.save_label.1": "x"})
    assert state.epochs == 3 and state.data_dir == {"mnist": "/data"}
    assert state.run is None  # memory, not a widget: never taken from a key
    assert TrainState.field_of("train.start") is None and TrainState.field_of("replay.model") is None
    assert TrainState.field_of("train.lr.sgd_relu") == ("lr", "sgd_relu")


def test_feature_maps_memory_is_never_taken_from_a_key():
    state = FeatureMapsState()
    state.take_widget_values({"feature-maps.source": "sample", "feature-maps.unit_row": 3,
                              "feature-maps.inspecting": True, "feature-maps.drawing": "x", "feature-maps.netview": {}})
    assert (state.source, state.unit_row) == ("sample", 3)
    assert not state.inspecting and state.drawing is None  # what the view sent lives in the object only
    assert FeatureMapsState.key("netview") == "feature-maps.netview"  # the live view's component: a control


def test_the_states_import_neither_streamlit_nor_torch():
    """The entry point imports them before any page; a first visit shows the pad before torch."""
    from tests.environment import process_environment

    code = "import sys, lenet_viz.page_state; print(sorted({'streamlit', 'torch'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=process_environment())
    assert run.stdout.strip() == "[]"


def test_each_session_gets_its_own_dicts():
    a, b = ReplayState(), ReplayState()
    a.sample["mnist"] = 3
    assert b.sample == {}


def test_output_size_link_round_trip():
    view = links.OutputSizeView(kind="maxpool", height=12, width=20, kernel=2, stride=2, padding=0,
                                ceil_mode=True, preset="modern", activation="tanh",
                                blocks=(None, {"out_channels": 16, "kernel": 3, "stride": 1, "padding": 0,
                                               "pool": "avg", "pool_kernel": 2, "pool_stride": 2}))
    state = OutputSizeState(**OutputSizeState.from_view(view))
    assert not state.square and (state.height, state.width) == (12, 20)
    assert state.view() == view


def test_a_square_view_keeps_the_size_and_the_defaults_give_an_empty_link():
    state = OutputSizeState(**OutputSizeState.from_view(links.OutputSizeView(height=9, width=9)))
    assert state.square and state.size == 9
    assert links.output_size_query(OutputSizeState().view()) == {}
    state.block[OutputSizeState.block_part(0, "kernel")] = 5  # the classic preset's own value
    assert state.view().blocks == ()  # a block like its preset's is left out of the link


def test_model_ids_are_stable_text_whatever_the_language():
    assert model_id("saved", "tiny") == "saved:tiny"
    assert split_model_id("bundled:digits") == ("bundled", "digits")
    assert split_model_id("saved:a: b") == ("saved", "a: b")  # a label may hold a colon
    assert split_model_id("已保存：tiny") == ("", "已保存：tiny")  # display text is no id
    with pytest.raises(ValueError):
        model_id("shared", "x")


def test_a_jump_names_a_known_page():
    assert Jump("replay", {"model": "saved:tiny"}).page == "replay"
    with pytest.raises(KeyError):
        Jump("Training replay")  # display text, not a page id


def test_a_link_is_applied_once_and_an_old_url_of_the_page_never():
    state = OutputSizeState()
    assert not state.is_new_link({})
    assert state.is_new_link({"k": "3"})
    state.remember_query({"k": "3"})
    state.remember_query({"k": "4"})  # the page wrote its next settings
    assert not state.is_new_link({"k": "3"})  # a rerun that still carries the URL before that write
    assert state.is_new_link({"k": "5"})
    for k in range(100):
        state.remember_query({"k": str(k)})
    assert len(state.link_queries) == OutputSizeState.KEPT_QUERIES
