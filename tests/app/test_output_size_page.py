"""The output-size page driven through its widgets, its numbers checked against real PyTorch layers."""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from lenet_viz import ui
from lenet_viz.i18n import t
from lenet_viz.models import LeNetSpec, build_model, forward_all
from lenet_viz.page_state import OutputSizeState, TrainState

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
OUTPUT = "Output size (H × W)"


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30).run()
    app.switch_page("app_pages/output_size.py").run()
    assert not app.exception
    return app


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def torch_shape(kind, height, width, kernel, stride, padding, dilation, ceil, output_padding):
    """(H, W) PyTorch gives, or None if it refuses the layer or gives an empty output."""
    layers = {
        "conv": lambda: nn.Conv2d(1, 1, kernel, stride, padding, dilation=dilation),
        "maxpool": lambda: nn.MaxPool2d(kernel, stride, padding, dilation=dilation, ceil_mode=ceil),
        "avgpool": lambda: nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil),
        "convtranspose": lambda: nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding, dilation=dilation),
    }
    if kind == "avgpool" and dilation != 1:
        return None  # AvgPool2d has no dilation argument at all
    try:
        shape = layers[kind]()(torch.zeros(1, 1, height, width)).shape[-2:]
    except RuntimeError:
        return None
    return None if min(shape) < 1 else tuple(shape)


def set_layer(at, kind, height, width, kernel, stride, padding, dilation, ceil=False, output_padding=0):
    at.radio(key=OutputSizeState.key("kind")).set_value(kind)
    at.toggle(key=OutputSizeState.key("square")).set_value(height == width)
    at.run()
    if height == width:
        at.slider(key=OutputSizeState.key("size")).set_value(height)
    else:
        at.slider(key=OutputSizeState.key("height")).set_value(height)
        at.slider(key=OutputSizeState.key("width")).set_value(width)
    for name, value in [("kernel", kernel), ("stride", stride), ("padding", padding), ("dilation", dilation)]:
        at.slider(key=OutputSizeState.key(name)).set_value(value)
    if kind in ("maxpool", "avgpool"):
        at.toggle(key=OutputSizeState.key("ceil_mode")).set_value(ceil)
    if kind == "convtranspose":
        at.slider(key=OutputSizeState.key("output_padding")).set_value(output_padding)
    at.run()
    assert not at.exception


def test_default_is_the_seeds_first_convolution(at):
    assert metric(at, OUTPUT) == "28 × 28"
    assert torch_shape("conv", 28, 28, 5, 1, 2, 1, False, 0) == (28, 28)
    assert any(r"\frac{27}{1}" in latex.value and "= 28" in latex.value for latex in at.latex)
    assert not at.error and not at.warning
    assert at.get("plotly_chart")


SETTINGS = [
    ("conv", 28, 28, 5, 1, 0, 1, False, 0),
    ("conv", 28, 20, 3, 2, 1, 2, False, 0),
    ("conv", 7, 9, 2, 3, 0, 1, False, 0),
    ("maxpool", 28, 28, 2, 2, 0, 1, False, 0),
    ("maxpool", 7, 7, 3, 2, 1, 2, True, 0),
    ("maxpool", 8, 8, 2, 3, 1, 1, True, 0),
    ("avgpool", 9, 5, 2, 2, 1, 1, True, 0),
    ("convtranspose", 5, 5, 3, 2, 1, 1, False, 1),
    ("convtranspose", 8, 6, 2, 3, 1, 2, False, 0),
    # impossible
    ("conv", 5, 5, 11, 1, 0, 1, False, 0),
    ("conv", 8, 8, 3, 1, 0, 4, False, 0),
    ("maxpool", 10, 10, 2, 2, 2, 1, False, 0),
    ("avgpool", 10, 10, 2, 2, 0, 2, False, 0),
    ("convtranspose", 1, 1, 1, 1, 3, 1, False, 0),
]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(map(str, s)))
def test_shown_size_matches_pytorch(at, setting):
    set_layer(at, *setting)
    expected = torch_shape(*setting)
    if expected is None:
        assert metric(at, OUTPUT) == "—"
        assert len(at.error) == 1 and "cannot be built" in at.error[0].value
        assert not at.get("plotly_chart")
    else:
        assert metric(at, OUTPUT) == f"{expected[0]} × {expected[1]}"
        assert not at.error
        height, width = setting[1], setting[2]
        latex = " ".join(x.value for x in at.latex)
        assert f"= {expected[0]} " in latex and f"= {expected[1]} " in latex
        assert f"{height} +" in latex or f"({height} - 1)" in latex
        assert f"{width} +" in latex or f"({width} - 1)" in latex


def test_the_notes_follow_the_kind_of_layer(at):
    def captions() -> list[str]:
        return [c.value for c in at.caption]

    assert t("os.stride_note", "en") in captions() and "halves" in t("os.stride_note", "en")
    set_layer(at, "convtranspose", 5, 5, 3, 2, 1, 1)
    assert {t(f"os.{name}_note.transposed", "en") for name in ("kernel", "stride", "padding")} <= set(captions())
    assert not any("halves" in c for c in captions())  # a transposed convolution's stride grows the size
    assert "doubles the size" in t("os.stride_note.transposed", "en")
    set_layer(at, "conv", 5, 5, 3, 2, 1, 1)
    assert t("os.stride_note", "en") in captions()


def test_unread_cells_are_warned_about(at):
    set_layer(at, "conv", 8, 8, 2, 3, 0, 1)
    assert metric(at, OUTPUT) == "3 × 3"
    assert len(at.warning) == 1 and "2, 5 are never read" in at.warning[0].value
    set_layer(at, "conv", 8, 8, 2, 2, 0, 1)
    assert not at.warning


@pytest.mark.slow
def test_stepping_moves_the_window(at):
    set_layer(at, "conv", 6, 6, 3, 1, 0, 1)
    slider = at.slider(key=OutputSizeState.key("step"))
    assert slider.max == 15
    slider.set_value(15).run()
    assert not at.exception
    assert any("Output cell (3, 3)" in c.value and "rows 3…5" in c.value for c in at.caption)
    set_layer(at, "conv", 4, 4, 3, 1, 0, 1)  # fewer positions: the step is clamped, no error
    assert at.slider(key=OutputSizeState.key("step")).value == 3
    at.button(key=OutputSizeState.key("play")).click().run()
    assert not at.exception and at.session_state[OutputSizeState.state_key()].playing


def test_non_square_input_starts_from_the_square_size(at):
    at.slider(key=OutputSizeState.key("size")).set_value(12).run()
    at.toggle(key=OutputSizeState.key("square")).set_value(False).run()
    assert at.slider(key=OutputSizeState.key("height")).value == 12
    assert at.slider(key=OutputSizeState.key("width")).value == 12
    at.slider(key=OutputSizeState.key("width")).set_value(20).run()
    assert metric(at, OUTPUT) == "12 × 20"


def lenet_block(at, index, **values):
    for field, value in values.items():
        key = OutputSizeState.key("block", OutputSizeState.block_part(index, field))
        widget = at.selectbox(key=key) if field == "pool" else at.number_input(key=key)
        widget.set_value(value)
    at.run()
    assert not at.exception


@pytest.mark.slow
def test_lenet_table_matches_the_torch_model(at):
    at.selectbox(key=OutputSizeState.key("preset")).set_value("seed-nopad").run()
    lenet_block(at, 0, out_channels=8, padding=1)
    lenet_block(at, 1, kernel=3, pool="max", pool_kernel=3, pool_stride=2)
    spec = LeNetSpec.from_dict({
        "conv": [{"out_channels": 8, "kernel": 5, "stride": 1, "padding": 1, "pool": "max", "pool_kernel": 2,
                  "pool_stride": 2},
                 {"out_channels": 16, "kernel": 3, "stride": 1, "padding": 0, "pool": "max", "pool_kernel": 3,
                  "pool_stride": 2}],
        "activation": "sigmoid"})
    model = build_model(spec)
    outputs = forward_all(model, torch.zeros(1, 1, 28, 28))
    table = at.dataframe[0].value
    assert list(table["layer"]) == [name for name, _ in outputs]
    shown = [tuple(int(d) for d in s.split(" × ")) for s in table["output shape"]]
    assert shown == [tuple(y.shape[1:]) for _, y in outputs]
    params = {name: sum(p.numel() for p in layer.parameters()) for name, layer in model.named_children()}
    assert list(table["parameters"]) == [params[name] for name in table["layer"]]
    assert metric(at, "Parameters") == f"{sum(params.values()):,}"
    assert metric(at, "Flatten size") == f"{outputs[6][1].shape[1]:,}"

    at.button(key=OutputSizeState.key("send")).click().run()
    assert at.session_state[ui.CUSTOM_SPEC] == spec.to_dict()
    assert any("training page" in s.value for s in at.success)
    at.switch_page("app_pages/train.py").run()
    assert at.selectbox(key=TrainState.key("network")).value == "custom"  # what was sent is what Start trains


def test_impossible_lenet_names_the_broken_layer(at):
    lenet_block(at, 0, kernel=11, stride=6, padding=0)
    assert len(at.error) == 1 and "conv2 cannot be built on a 1×1 input" in at.error[0].value
    assert not at.dataframe and OutputSizeState.key("send") not in [b.key for b in at.button]  # nothing to train
    lenet_block(at, 0, kernel=5, stride=1, padding=2)
    assert not at.error and metric(at, "Flatten size") == "400"


def test_presets_load_into_the_editor(at):
    at.selectbox(key=OutputSizeState.key("preset")).set_value("modern").run()
    assert at.selectbox(key=OutputSizeState.key("activation")).value == "relu"
    assert at.selectbox(key=OutputSizeState.key("block", "1.pool")).value == "max"
    assert metric(at, "Parameters") == "61,706"


def test_lenet_table_warns_about_dropped_rows(at):
    assert not [w for w in at.warning if w.value.startswith("pool2")]
    lenet_block(at, 1, kernel=4)  # conv2 gives 11×11; pool2 (2, stride 2) drops row and column 10
    warnings = [w.value for w in at.warning if w.value.startswith("pool2")]
    assert len(warnings) == 1 and "(10)" in warnings[0] and "ceil mode" in warnings[0]
