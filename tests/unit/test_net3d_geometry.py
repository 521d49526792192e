"""The 3D view's geometry (lenet_viz/netview/net3d.js) agrees with the layer plan: node runs
tests/js/net3d.test.mjs on the plans of the presets and of random specs written here."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from lenet_viz.models import PRESETS, ConvBlock, LeNetSpec, SpecError, layer_plan, validate_spec

ROOT = Path(__file__).resolve().parents[2]
NODE_TEST = ROOT / "tests" / "js" / "net3d.test.mjs"


def random_specs(count: int, seed: int) -> list[LeNetSpec]:
    """Valid networks of every shape: 1–3 conv blocks, any pooling, strides, paddings, channels, widths."""
    rng = random.Random(seed)
    specs: list[LeNetSpec] = []
    while len(specs) < count:
        blocks = tuple(
            ConvBlock(rng.randint(1, 12), kernel=rng.choice((1, 3, 5)), stride=rng.choice((1, 1, 2)),
                      padding=rng.choice((0, 1, 2)), pool=rng.choice(("avg", "max", "none")),
                      pool_kernel=rng.choice((2, 3)), pool_stride=rng.choice((1, 2)))
            for _ in range(rng.randint(1, 3)))
        spec = LeNetSpec(conv=blocks, hidden=tuple(rng.randint(1, 150) for _ in range(rng.randint(0, 3))),
                         activation=rng.choice(("sigmoid", "relu", "tanh")), in_channels=rng.choice((1, 3)),
                         input_size=rng.choice((20, 28, 32)), num_classes=rng.choice((10, 4)))
        try:
            validate_spec(spec)
        except SpecError:
            continue
        specs.append(spec)
    return specs


def network(name: str, spec: LeNetSpec) -> dict:
    """A plan as the browser receives it, and the sheets the 3D view must draw: the input, then every
    layer but flatten, each with as many units as its output has values."""
    layers = [layer.to_dict() for layer in layer_plan(spec).layers]
    expected = [{"name": "input", "count": spec.in_channels * spec.input_size**2}]
    expected += [{"name": layer["name"], "count": math.prod(layer["output_shape"])}
                 for layer in layers if layer["kind"] != "flatten"]
    return {"name": name, "layers": layers, "expected": expected}


@pytest.mark.slow
def test_3d_geometry_agrees_with_the_layer_plan(tmp_path):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed: the 3D geometry is tested by node")
    networks = [network(name, spec) for name, spec in PRESETS.items()]
    networks += [network(f"random{i}", spec) for i, spec in enumerate(random_specs(10, seed=23))]
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps(networks), encoding="utf-8")
    done = subprocess.run([node, "--test", str(NODE_TEST)], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(Path(node).parent), "LENET_VIZ_PLANS": str(plans)}, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert f"# pass {1 + 3 * len(networks)}" in done.stdout, done.stdout[-2000:]
