"""The server-side feature-map figures (kernels, unit inspector): values and hover data where they belong."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest
import torch

from lenet_viz import activations
from lenet_viz.figures import feature_maps as ff
from lenet_viz.models import PRESETS, build_model


@pytest.fixture(scope="module")
def classic():
    torch.manual_seed(0)
    spec = PRESETS["classic"]
    model = build_model(spec).eval()
    return spec, model, activations.run(model, spec, torch.rand(1, 1, 28, 28))


def heatmap(fig):
    return next(t for t in fig.data if t.type == "heatmap")


def test_tile_places_maps_with_nan_gaps():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    grid = ff.Grid(5, 2, 3, columns=3, gap=1, row_gap=2)
    tiled = ff.tile(maps, grid)
    assert tiled.shape == grid.shape == (2 * 2 + 2, 3 * 3 + 2)
    for k in range(5):
        y, x = grid.origin(k)
        assert np.array_equal(tiled[y:y + 2, x:x + 3], maps[k])
    assert np.isnan(tiled[:, 3]).all() and np.isnan(tiled[2:4]).all()
    assert np.isnan(tiled[4:, 8:]).all()  # no sixth map: empty
    assert np.count_nonzero(~np.isnan(tiled)) == maps.size


def test_kernel_grid_lays_out_maps_by_inputs(classic):
    _, model, _ = classic
    weights = model.conv2.weight.detach().numpy()
    fig = ff.kernel_grid("conv2", weights)
    trace = heatmap(fig)
    z, custom = np.asarray(trace.z, dtype=float), np.asarray(trace.customdata, dtype=float)
    grid = ff.Grid(16 * 6, 5, 5, 16)
    y, x = grid.origin(4 * 16 + 9)  # input channel 4, output map 9
    assert z[y:y + 5, x:x + 5] == pytest.approx(weights[9, 4])
    assert custom[y + 2, x + 1].tolist() == pytest.approx([4, 9, weights[9, 4, 2, 1]])
    assert trace.zmid == 0 and trace.zmax == pytest.approx(np.abs(weights).max())
    assert "16 maps × 6 inputs" in fig.layout.title.text


def test_unit_figures(classic):
    spec, model, acts = classic
    unit = activations.explain_unit(model, spec, acts, "conv1", 2, 0, 27)
    fig = ff.unit_location(acts, unit)
    field, marker = fig.layout.shapes
    assert (field.x0, field.x1, field.y0, field.y1) == (24.5, 27.5, -0.5, 2.5)  # clipped to the image
    assert (marker.x0, marker.y0) == (26.5, -0.5)
    assert "5×5" in fig.layout.xaxis.title.text
    assert len(ff.unit_arithmetic(unit).data) == 3  # patch, kernel, products
    pooled = activations.explain_unit(model, spec, acts, "pool2", 3, 1, 1)
    assert len(ff.unit_arithmetic(pooled).data) == 1


def test_all_figures_of_a_rerun_serialise_to_json(classic):
    """What ``st.plotly_chart`` sends; its speed is measured by benchmarks/feature_map_rerun.py."""
    spec, model, acts = classic
    unit = activations.explain_unit(model, spec, acts, "conv2", 3, 4, 4)
    figures = [ff.kernel_grid(name, getattr(model, name).weight.detach().numpy()) for name in ("conv1", "conv2")]
    figures += [ff.unit_location(acts, unit), ff.unit_arithmetic(unit)]
    for fig in figures:
        assert json.loads(pio.to_json(fig, validate=False))["data"]


def test_kernel_grid_of_a_wide_layer_shows_the_first_inputs():
    weights = np.random.default_rng(0).normal(size=(16, 32, 3, 3)).astype(np.float32)
    fig = ff.kernel_grid("conv2", weights)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.count_nonzero(~np.isnan(z)) == 16 * ff.MAX_KERNEL_INPUTS * 9
    assert "32 inputs (first 16 shown)" in fig.layout.title.text
    assert ff.kernel_grid("conv1", weights[:, :1]).layout.height >= 220  # room for the colour bar


def test_the_inputs_patch_is_named_in_the_readers_language(classic):
    """A conv1 unit reads the network's input: "input patch (from input)", 输入块（来自输入）, no English
    word in Chinese; a deeper unit's source is its layer's name (conv1, pool1: identifiers)."""
    import json

    def words(unit, lang: str) -> str:  # the figure's titles and labels
        return json.dumps(ff.unit_arithmetic(unit, lang=lang).layout.to_plotly_json(), ensure_ascii=False, default=str)

    spec, model, acts = classic
    first = words(activations.explain_unit(model, spec, acts, "conv1", 2, 0, 27), "zh")
    assert "输入块（来自输入）" in first and "input" not in first, first
    deeper = activations.explain_unit(model, spec, acts, "conv2", 3, 4, 4)
    assert f"input patch (from {deeper.source})" in words(deeper, "en")
