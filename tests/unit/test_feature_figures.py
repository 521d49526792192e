"""The feature-map figures: one trace per layer grid, values and hover data where they belong."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest
import torch

from lenet_viz import activations
from lenet_viz import feature_figures as ff
from lenet_viz.models import PRESETS, build_model

CLASSES = tuple("0123456789")


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


@pytest.mark.parametrize("count, columns", [(6, 6), (8, 8), (16, 8), (20, 7), (120, 8)])
def test_grid_columns(count, columns):
    assert ff.grid_columns(count) == columns


def test_layer_grid_is_one_heatmap_with_a_layer_scale(classic):
    _, _, acts = classic
    for layer in acts.spatial:
        fig = ff.layer_grid(layer)
        heatmaps = [t for t in fig.data if t.type == "heatmap"]
        assert len(heatmaps) == 1
        assert layer.name in fig.layout.title.text and layer.shape_text in fig.layout.title.text
        trace = heatmaps[0]
        values = layer.values
        if values.min() < 0:
            assert trace.zmin == -trace.zmax == pytest.approx(-np.abs(values).max())
        else:
            assert (trace.zmin, trace.zmax) == pytest.approx((0, values.max()))
        z = np.asarray(trace.z, dtype=float)
        assert np.nansum(z) == pytest.approx(values.sum(), rel=1e-4)
    assert "C1" in ff.layer_grid(acts["conv1"]).layout.title.text


def test_hover_data_names_map_row_column_and_value(classic):
    _, _, acts = classic
    layer = acts["conv2"]
    fig = ff.layer_grid(layer)
    custom = np.asarray(heatmap(fig).customdata, dtype=float)
    grid, _ = ff.layer_grid_shape(*layer.values.shape)
    y, x = grid.origin(11)
    assert custom[y + 3, x + 7].tolist() == pytest.approx([11, 3, 7, layer.values[11, 3, 7]])
    labels = next(t for t in fig.data if t.type == "scatter" and t.mode == "text")
    assert list(labels.text) == [str(k) for k in range(16)]


def test_per_map_scale_stretches_every_map(classic):
    _, _, acts = classic
    layer = acts["act2"]
    fig = ff.layer_grid(layer, per_map=True)
    z = np.asarray(heatmap(fig).z, dtype=float)
    grid, _ = ff.layer_grid_shape(*layer.values.shape)
    for k in range(16):
        y, x = grid.origin(k)
        assert np.nanmax(np.abs(z[y:y + 10, x:x + 10])) == pytest.approx(1.0)
    custom = np.asarray(heatmap(fig).customdata, dtype=float)
    assert custom[0, 0, 3] == pytest.approx(layer.values[0, 0, 0])  # hover keeps the real value


def test_dense_strips(classic):
    _, _, acts = classic
    fig = ff.dense_strips(acts, CLASSES)
    assert [len(np.asarray(t.z).ravel()) for t in fig.data] == [120, 84, 10]
    assert list(fig.data[-1].x) == list(CLASSES)
    assert np.asarray(fig.data[-1].z).ravel() == pytest.approx(acts.probabilities)


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


def test_probability_bars_highlight_the_top_class():
    probabilities = np.array([0.05, 0.7, 0.25])
    fig = ff.probability_bars(probabilities, ("a", "b", "c"))
    colours = list(fig.data[0].marker.color)
    assert colours[1] != colours[0] == colours[2]
    assert list(fig.data[0].y) == ["a", "b", "c"]


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
    figures = [ff.layer_grid(layer) for layer in acts.spatial]
    figures += [ff.dense_strips(acts, CLASSES), ff.probability_bars(acts.probabilities, CLASSES),
                ff.kernel_grid("conv1", model.conv1.weight.detach().numpy())]
    for fig in figures:
        assert json.loads(pio.to_json(fig, validate=False))["data"]


def test_every_cell_is_clickable_and_maps_back_to_its_unit(classic):
    _, _, acts = classic
    for layer in acts.spatial:
        fig = ff.layer_grid(layer)
        targets = next(t for t in fig.data if t.type == "scatter" and t.mode == "markers")
        count, height, width = layer.values.shape
        assert len(targets.x) == count * height * width
        units = {ff.unit_at(layer.values.shape, x, y) for x, y in zip(targets.x, targets.y)}
        assert units == {(k, r, c) for k in range(count) for r in range(height) for c in range(width)}
    grid = ff.Grid(5, 2, 3, columns=3, gap=1, row_gap=2)
    assert grid.locate(*grid.origin(4)) == (4, 0, 0)
    assert grid.locate(0, 3) is None and grid.locate(2, 0) is None  # the gaps between tiles
    assert grid.locate(4, 8) is None  # where a sixth tile would be
    assert grid.locate(-1, 0) is None and grid.locate(0, 11) is None


def test_kernel_grid_of_a_wide_layer_shows_the_first_inputs():
    weights = np.random.default_rng(0).normal(size=(16, 32, 3, 3)).astype(np.float32)
    fig = ff.kernel_grid("conv2", weights)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.count_nonzero(~np.isnan(z)) == 16 * ff.MAX_KERNEL_INPUTS * 9
    assert "32 inputs (first 16 shown)" in fig.layout.title.text
    assert ff.kernel_grid("conv1", weights[:, :1]).layout.height >= 220  # room for the colour bar
