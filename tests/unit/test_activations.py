"""Every layer's output, and each unit recomputed by hand from the numbers it reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lenet_viz import activations
from lenet_viz.models import PRESETS, ConvBlock, LeNetSpec, build_model, layer_plan

CUSTOM = LeNetSpec(conv=(ConvBlock(4, 3, stride=2, padding=1, pool="none"),
                         ConvBlock(8, 4, padding=2, pool="max", pool_kernel=3, pool_stride=2)),
                   hidden=(32,), activation="tanh")
SPECS = {**PRESETS, "custom": CUSTOM}


@pytest.fixture(params=list(SPECS))
def network(request):
    torch.manual_seed(0)
    spec = SPECS[request.param]
    model = build_model(spec).eval()
    x = torch.rand(1, 1, spec.input_size, spec.input_size)
    return spec, model, x, activations.run(model, spec, x)


def test_shapes_names_and_probabilities(network):
    spec, _, _, acts = network
    table = {row.name: row.output_shape for row in layer_plan(spec).layers}
    assert [layer.name for layer in acts.layers] == list(table)
    for layer in acts.layers:
        assert layer.values.shape == table[layer.name]
    assert acts.probabilities.shape == (spec.num_classes,)
    assert abs(float(acts.probabilities.sum()) - 1) < 1e-5
    assert acts.prediction == int(np.argmax(acts.layers[-1].values))


def test_classic_layers_carry_lecun_names():
    acts = activations.run(build_model(PRESETS["classic"]).eval(), PRESETS["classic"], torch.rand(1, 1, 28, 28))
    shapes = {layer.label: layer.values.shape for layer in acts.layers if layer.label}
    assert shapes == {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5)}
    assert [layer.name for layer in acts.spatial] == ["conv1", "act1", "pool1", "conv2", "act2", "pool2"]


def test_every_unit_kind_is_recomputed_exactly(network):
    spec, model, _, acts = network
    rng = np.random.default_rng(1)
    for layer in acts.spatial:
        channels, height, width = layer.values.shape
        units = [(0, 0, 0), (channels - 1, height - 1, width - 1)]
        units += [tuple(int(rng.integers(n)) for n in layer.values.shape) for _ in range(3)]
        for unit in units:
            explained = activations.explain_unit(model, spec, acts, layer.name, *unit)
            assert explained.computed == pytest.approx(explained.value, abs=1e-4), (layer.name, unit)
            if layer.kind == "conv":
                assert explained.weights.shape == explained.patch.shape


@pytest.mark.slow
def test_receptive_field_covers_exactly_the_pixels_that_matter(network):
    """The input pixels with a non-zero gradient for a unit lie inside its computed receptive field."""
    spec, model, x, acts = network
    size, checked = spec.input_size, 0
    for layer in acts.spatial:
        _, height, width = layer.values.shape
        for row, col in ((0, 0), (height // 2, width // 2), (height - 1, width - 1)):
            x_grad = x.clone().requires_grad_(True)
            out = x_grad
            for name, module in model.named_children():
                out = module(out)
                if name == layer.name:
                    break
            out[0, 0, row, col].backward()
            rows, cols = np.nonzero(x_grad.grad[0, 0].numpy())
            if rows.size == 0:  # a dead ReLU or a max taken elsewhere: nothing to check
                continue
            checked += 1
            (top, left, bottom, right), field = activations.receptive_field(spec, layer.name, row, col)
            assert bottom - top == right - left == field
            assert rows.min() >= max(top, 0) and rows.max() < min(bottom, size)
            assert cols.min() >= max(left, 0) and cols.max() < min(right, size)
    assert checked >= len(acts.spatial)


def test_receptive_field_numbers_for_classic():
    spec = PRESETS["classic"]
    assert activations.receptive_field(spec, "conv1", 0, 0) == ((-2, -2, 3, 3), 5)
    assert activations.receptive_field(spec, "act1", 5, 7) == ((3, 5, 8, 10), 5)
    assert activations.receptive_field(spec, "pool1", 0, 0) == ((-2, -2, 4, 4), 6)
    assert activations.receptive_field(spec, "conv2", 0, 0)[1] == 14
    assert activations.receptive_field(spec, "pool2", 4, 4) == ((14, 14, 30, 30), 16)


def test_bad_units_are_refused(network):
    spec, model, _, acts = network
    with pytest.raises(ValueError, match="no unit"):
        activations.explain_unit(model, spec, acts, "conv1", 99, 0, 0)
    with pytest.raises(ValueError, match="not a convolution"):
        activations.explain_unit(model, spec, acts, "fc1", 0, 0, 0)


def test_formula_shows_the_value(network):
    spec, model, _, acts = network
    for layer in acts.spatial:
        unit = activations.explain_unit(model, spec, acts, layer.name, 0, 0, 0)
        assert f"{unit.computed:.4f}" in activations.formula_latex(unit)


def test_strongest_unit(network):
    _, _, _, acts = network
    layer = acts.spatial[0]
    row, col = activations.strongest_unit(acts, layer.name, 1)
    assert layer.values[1, row, col] == layer.values[1].max()
    assert activations.strongest_unit(acts, layer.name, 999) == activations.strongest_unit(acts, layer.name, 0)

