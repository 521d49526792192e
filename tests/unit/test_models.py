"""LeNet spec, presets, layer table and per-layer forward."""

import json
import random

import pytest
import torch
from torch import nn

from lenet_viz.models import (
    PRESETS,
    ConvBlock,
    LeNetSpec,
    SpecError,
    build_model,
    coverage_warnings,
    describe,
    forward_all,
    layer_plan,
)


def test_classic_is_the_seeds_first_network():
    model = build_model(PRESETS["classic"])
    seed = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10),
    )
    assert [repr(m) for m in model] == [repr(m) for m in seed]
    assert sum(p.numel() for p in model.parameters()) == 61_706 == layer_plan(PRESETS["classic"]).total_params


def test_modern_and_nopad():
    modern = build_model(PRESETS["modern"])
    assert isinstance(modern.act1, nn.ReLU) and isinstance(modern.pool1, nn.MaxPool2d)
    nopad = build_model(PRESETS["seed-nopad"])
    assert nopad.fc1.in_features == 16 * 4 * 4 and isinstance(nopad.act1, nn.Sigmoid)


def random_spec(rng: random.Random) -> LeNetSpec:
    blocks = tuple(
        ConvBlock(rng.randint(1, 8), rng.randint(1, 7), rng.randint(1, 3), rng.randint(0, 3),
                  rng.choice(["avg", "max", "none"]), rng.randint(1, 3), rng.randint(1, 3))
        for _ in range(rng.randint(1, 3))
    )
    return LeNetSpec(conv=blocks, hidden=tuple(rng.randint(1, 50) for _ in range(rng.randint(0, 2))),
                     activation=rng.choice(["sigmoid", "relu", "tanh"]), input_size=rng.randint(8, 32))


@pytest.mark.slow
def test_layer_table_equals_torch_for_random_specs():
    rng = random.Random(0)
    built = broken = 0
    for _ in range(150):
        spec = random_spec(rng)
        try:
            table = layer_plan(spec)
        except SpecError as exc:
            broken += 1
            assert any(f"{kind}{i}" in str(exc) for kind in ("conv", "pool") for i in range(1, 4))
            with pytest.raises((RuntimeError, ValueError)):
                torch_model = nn.Sequential(*build_torch_layers(spec))
                torch_model(torch.zeros(1, 1, spec.input_size, spec.input_size))
            continue
        built += 1
        model = build_model(spec)
        outputs = forward_all(model, torch.rand(2, 1, spec.input_size, spec.input_size))
        assert [name for name, _ in outputs] == [row.name for row in table.layers]
        for (name, out), row in zip(outputs, table.layers):
            assert tuple(out.shape[1:]) == row.output_shape, name
            assert sum(p.numel() for p in getattr(model, name).parameters()) == row.params, name
    assert built > 30 and broken > 10


def build_torch_layers(spec: LeNetSpec) -> list[nn.Module]:
    """The conv part of a spec built directly with torch (to see that torch refuses it too)."""
    layers, channels = [], spec.in_channels
    for b in spec.conv:
        layers.append(nn.Conv2d(channels, b.out_channels, b.kernel, b.stride, b.padding))
        if b.pool != "none":
            layers.append((nn.AvgPool2d if b.pool == "avg" else nn.MaxPool2d)(b.pool_kernel, b.pool_stride))
        channels = b.out_channels
    return layers


def test_impossible_spec_names_the_layer():
    spec = PRESETS["seed-nopad"].with_block(1, kernel=13)
    with pytest.raises(SpecError, match="conv2 cannot be built on a 12×12 input"):
        layer_plan(spec)


def test_spec_round_trips_through_a_dict():
    spec = PRESETS["modern"].with_block(0, out_channels=8, kernel=3, padding=1)
    assert LeNetSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError):
        LeNetSpec.from_dict({"conv": [{"out_channels": 6, "colour": "red"}]})
    with pytest.raises(SpecError):
        LeNetSpec.from_dict({**spec.to_dict(), "activation": "gelu"})


def test_coverage_warnings_name_layers_that_drop_cells():
    assert coverage_warnings(PRESETS["classic"]) == []
    odd = PRESETS["classic"].with_block(1, kernel=4)  # conv2 gives 11×11, pool2 drops the last row
    warnings = coverage_warnings(odd)
    assert len(warnings) == 1 and warnings[0].startswith("pool2 (11×11 in): ")
    assert "10" in warnings[0]  # the dropped row and column, by index
    skipping = PRESETS["classic"].with_block(0, kernel=2, stride=3, padding=0).with_block(1, kernel=3)
    assert any(w.startswith("conv1 (28×28 in)") for w in coverage_warnings(skipping))


def test_describe_gives_a_network_in_one_line():
    assert describe(PRESETS["classic"]) == (
        "conv 6@5×5 pad 2 → avg pool 2 → conv 16@5×5 → avg pool 2 → fc 120 → 84 → 10 · sigmoid")
    odd = LeNetSpec(conv=(ConvBlock(8, 3, stride=2, pool="none"), ConvBlock(4, 3, pool="max", pool_stride=1)),
                    hidden=(32,), activation="relu")
    assert describe(odd) == "conv 8@3×3 stride 2 → conv 4@3×3 → max pool 2 stride 1 → fc 32 → 10 · relu"


def test_the_layer_plan_names_labels_and_geometry_of_every_layer():
    plan = layer_plan(PRESETS["classic"])
    assert [layer.name for layer in plan.layers] == ["conv1", "act1", "pool1", "conv2", "act2", "pool2", "flatten",
                                                    "fc1", "act3", "fc2", "act4", "fc3"]
    assert {layer.name: layer.label for layer in plan.layers if layer.label} == {
        "conv1": "C1", "pool1": "S2", "conv2": "C3", "pool2": "S4"}
    assert plan["conv1"].to_dict() == {"name": "conv1", "kind": "conv", "label": "C1", "input_shape": [1, 28, 28],
                                       "output_shape": [6, 28, 28], "params": 156,
                                       "geometry": {"kernel": 5, "stride": 1, "padding": 2}}
    assert plan["pool2"].geometry.step == 2 and plan["fc1"].input_shape == (400,) and plan["act1"].geometry is None
    assert json.loads(json.dumps([layer.to_dict() for layer in plan.layers]))[-1]["output_shape"] == [10]
