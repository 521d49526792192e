"""The window geometry of the output-size page, checked against real PyTorch layers, and its figures."""

import itertools
import re

import pytest
import torch
from torch import nn

from lenet_viz.arithmetic import Layer, coverage_warning, formula_line, missed_cells
from lenet_viz.figures.output_size import (
    BIAS_ONLY,
    CURRENT,
    EXPECTED_WIDTH,
    INPUT,
    MARGIN,
    OVERHANG,
    PADDING,
    SOURCE,
    TAP,
    TAP_PADDING,
    UNREAD,
    WRITTEN,
    describe_step,
    drawable,
    layer_rows,
    panel_shapes,
    plot_height,
    step_count,
    window_picture,
)
from lenet_viz.models import PRESETS, layer_plan


def torch_layer(layer: Layer) -> nn.Module:
    """A 1-D-along-width PyTorch layer with all-ones weights, so any tap shows up as non-zero."""
    k, s, p, d = (1, layer.kernel), (1, layer.step), (0, layer.padding), (1, layer.dilation)
    if layer.kind == "conv":
        module = nn.Conv2d(1, 1, k, s, p, dilation=d, bias=False)
    elif layer.kind == "convtranspose":
        module = nn.ConvTranspose2d(1, 1, k, s, p, output_padding=(0, layer.output_padding), dilation=d, bias=False)
    else:
        return nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=layer.ceil_mode)
    nn.init.ones_(module.weight)
    return module


def torch_taps(layer: Layer, size: int) -> dict[int, set[int]]:
    """For each placement, the cells PyTorch touches: one-hot inputs pushed through the layer.

    Conv/pool: output o -> input cells it reads. Transposed: input i -> output cells it writes.
    """
    module = torch_layer(layer)
    touched: dict[int, set[int]] = {}
    with torch.no_grad():
        for i in range(size):
            x = torch.zeros(1, 1, 1, size)
            x[..., i] = 1.0
            y = module(x)[0, 0, 0]
            for o in torch.nonzero(y > 0).flatten().tolist():
                if layer.kind == "convtranspose":
                    touched.setdefault(i, set()).add(o)
                else:
                    touched.setdefault(o, set()).add(i)
    return touched


CASES = [
    Layer(kind, kernel, stride, padding, dilation, ceil, 0)
    for kind, kernel, stride, padding, dilation, ceil in itertools.product(
        ("conv", "maxpool"), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (False, True))
    if not (kind == "conv" and ceil) and not (kind == "maxpool" and padding > kernel // 2)
] + [
    Layer("convtranspose", kernel, stride, padding, dilation, False, output_padding)
    for kernel, stride, padding, dilation, output_padding in itertools.product((1, 2, 3), (1, 2, 3), (0, 1), (1, 2),
                                                                               (0, 1))
    if output_padding < max(stride, dilation)
]


@pytest.mark.parametrize("layer", CASES, ids=repr)
@pytest.mark.parametrize("size", [5, 7])
def test_taps_and_missed_cells_match_pytorch(layer, size):
    try:
        out = layer.output(size)
    except ValueError:
        pytest.skip("layer cannot be built at this size (tested in the page test)")
    expected = torch_taps(layer, size)
    placements = size if layer.kind == "convtranspose" else out
    limit = out if layer.kind == "convtranspose" else size
    for index in range(placements):
        ours = {t for t in layer.taps(index) if 0 <= t < limit}
        assert ours == expected.get(index, set()), index
    reached = set().union(*expected.values()) if expected else set()
    assert missed_cells(layer, size) == [c for c in range(limit) if c not in reached]


def test_coverage_warning_says_why_and_what_to_change():
    skip = coverage_warning(Layer("conv", 2, 3), 8, "columns")
    assert "2, 5" in skip and "stride of at most 2" in skip
    dropped = coverage_warning(Layer("maxpool", 2, 2), 7, "rows")
    assert "(6)" in dropped and "ceil mode" in dropped
    holes = coverage_warning(Layer("conv", 2, 2, 0, 2), 8, "rows")
    assert "dilation 1" in holes
    odd_rows = coverage_warning(Layer("conv", 3, 2, 0, 2), 28, "rows")  # taps and stride skip every odd row
    assert "never read" in odd_rows and "dropped" not in odd_rows  # row 27 too: no window size would read it
    short = coverage_warning(Layer("conv", 5, 2), 28, "rows")
    assert "(27) are dropped" in short and "input 29 cells long" in short
    bias = coverage_warning(Layer("convtranspose", 2, 3), 4, "rows")
    assert "bias" in bias and "stride of at most 2" in bias
    assert coverage_warning(Layer("conv", 5, 1, 2), 28, "rows") is None


def test_formula_line_shows_the_numbers_and_the_ceil_correction():
    assert formula_line(Layer("conv", 5, 1, 2), 28, "H").endswith(r"= 27 + 1 = 28 \end{aligned}")
    ceil = formula_line(Layer("maxpool", 2, 3, 1, 1, True), 8, "W")
    assert r"\lceil" in ceil and "underbrace" in ceil and ceil.endswith(r"= 3 \end{aligned}")
    assert nn.MaxPool2d(2, 3, 1, ceil_mode=True)(torch.zeros(1, 1, 8, 8)).shape[-1] == 3
    empty = formula_line(Layer("conv", 11, 2, 1, 2), 8, "H")
    assert "= -5" in empty


def test_window_figure_highlights_the_window_and_its_output_cell():
    layer = Layer("conv", 3, 2, 1, 2)
    step = 4  # output (1, 1) of a 3×3 output
    fig = window_picture(layer, 8, 8, step).figure
    source, target = (t for t in fig.data if t.type == "heatmap")
    rows, cols = list(source.y), list(source.x)
    assert rows[0] == -1 and cols[-1] == 8
    taps = set(layer.taps(1))
    for r, row in zip(rows, source.z, strict=True):
        for c, category in zip(cols, row, strict=True):
            if r in taps and c in taps:
                assert category in (TAP, TAP_PADDING)
            elif 0 <= r < 8 and 0 <= c < 8:
                assert category == (UNREAD if r % 2 == 0 or c % 2 == 0 else INPUT)
            else:
                assert category == PADDING
    assert [list(r) for r in target.z] == [[CURRENT if (r, c) == (1, 1) else 6 for c in range(3)] for r in range(3)]
    assert "rows 1…5, columns 1…5, taps 2 apart" in describe_step(layer, 8, 8, step)


def test_ceil_mode_overhang_is_drawn_as_ignored_cells():
    layer = Layer("maxpool", 2, 2, 0, 1, True)
    assert layer.output(5) == 3
    source = window_picture(layer, 5, 5, 8).figure.data[0]
    assert len(source.x) == 6 and source.z[5][0] == OVERHANG and source.z[5][5] == OVERHANG
    assert source.z[4][4] == TAP and "rows 4…5" in describe_step(layer, 5, 5, 8)


def test_transposed_figure_scatters_one_input_cell_onto_the_output():
    layer = Layer("convtranspose", 2, 3, 1)
    assert step_count(layer, 4, 4) == 16
    fig = window_picture(layer, 4, 4, 5).figure  # input cell (1, 1)
    source, target = (t for t in fig.data if t.type == "heatmap")
    assert source.z[1][1] == SOURCE
    rows = list(target.y)
    assert rows[0] == -1 and rows[-1] == layer.output(4)  # one cropped cell per side
    written = {(r, c) for r, row in zip(rows, target.z, strict=True) for c, v in zip(target.x, row, strict=True)
               if v == WRITTEN}
    assert written == {(r, c) for r in (2, 3) for c in (2, 3)}
    assert any(v == BIAS_ONLY for row in target.z for v in row)


def css_height(length: str, width: float) -> float:
    """A :func:`height_css` length worked out for a box ``width`` pixels wide."""
    terms = re.findall(r"min\(([\d.]+) \* \(100cqw - (\d+)px\), (\d+)px\)", length)
    extra = re.fullmatch(r"calc\(max\(.*\) \+ (\d+)px\)", length)
    assert terms and extra, length
    return max(min(float(k) * (width - int(sides)), int(most)) for k, sides, most in terms) + int(extra.group(1))


@pytest.mark.parametrize("layer, size", [(Layer("conv", 5, 1, 2), 28), (Layer("maxpool", 2, 2), 28),
                                         (Layer("convtranspose", 3, 2, 2), 8), (Layer("conv", 1), 2),
                                         (Layer("conv", 3, 1, 8, 3), 64)], ids=repr)
def test_the_figure_is_as_tall_as_its_square_cells_at_any_width(layer, size):
    picture = window_picture(layer, size, size, 0)
    assert picture.figure.layout.height == round(plot_height(layer, size, size, EXPECTED_WIDTH)) + 70
    (rows_in, cols_in), (rows_out, cols_out) = panel_shapes(layer, size, size)
    assert [len(t.z) for t in picture.figure.data if t.type == "heatmap"] == [rows_in, rows_out]
    for width in (358, EXPECTED_WIDTH, 1200):  # a phone's column, a desktop's, a wide screen's
        grids = plot_height(layer, size, size, width)
        assert css_height(picture.height, width) == pytest.approx(grids + MARGIN["t"] + MARGIN["b"])
        plot_width = (width - 76) * 0.94  # the two grids' share of it, in proportion to their columns
        cell = min(plot_width / (max(cols_in, 4) + max(cols_out, 4)), 24)  # square, at most 24 px
        assert grids == pytest.approx(max(rows_in, rows_out) * cell)
    assert plot_height(layer, size, size, 358) < plot_height(layer, size, size, EXPECTED_WIDTH) or size < 8


def test_the_legend_names_what_the_grids_show_and_sizes_the_figure_in_its_box():
    dilated = window_picture(Layer("conv", 3, 2, 1, 2), 8, 8, 4)  # skips rows: some input cells never read
    assert [(e.name, e.mark) for e in dilated.legend] == [
        ("padding", "cell"), ("input cell", "cell"), ("input cell never read", "cross"),
        ("read by the window", "cell"), ("output cell", "cell"), ("output cell being written", "cell")]
    assert not dilated.figure.layout.showlegend  # the page shows the legend, as HTML
    transposed = window_picture(Layer("convtranspose", 2, 3, 1), 4, 4, 5, "zh")
    assert transposed.legend[-1].mark == "dot" and transposed.legend[-1].name == "每个输入格落下的位置（间隔为步幅）"
    assert any(e.mark == "cross" and e.name.startswith("没有输入到达的输出格") for e in transposed.legend)
    html = dilated.html("st-key-box")
    assert html.count("<li>") == 6 and ".st-key-box { container-type: inline-size; }" in html
    assert f'.st-key-box [data-testid="stPlotlyChart"] {{ height: {dilated.height} !important; }}' in html


def test_huge_grids_are_not_drawn():
    assert drawable(Layer("conv", 5, 1, 6), 64, 64)
    assert not drawable(Layer("convtranspose", 11, 6, 0, 4), 64, 64)


def test_layer_rows_match_the_built_model():
    rows = layer_rows(layer_plan(PRESETS["seed-nopad"]))
    assert [r["layer"] for r in rows][:3] == ["conv1", "act1", "pool1"]
    flatten = next(r for r in rows if r["layer"] == "flatten")
    assert flatten["output shape"] == "256"
    assert sum(r["parameters"] for r in rows) == 44426
