"""Confident inputs for "Learn from this" (lenet_viz/netview/learn.js): the bundled models, their
sample images and a few drawn sevens, written as JSON for node to step the networks as the page's Step
does (tests/js/learn_rate.test.mjs through tests/unit/test_learn_rate_js.py, and
benchmarks/learn_rate.py).

One ``<key>.json`` per bundled model: the layer plan and the trained weights (the last weight set,
which the live view shows), every bundled sample image with its label (the accuracy a step must not
wreck), and the inputs to re-label: the samples of class 7 (a 7, a sneaker) and three sevens drawn
as on the pad (20 px pen on 280×280, then lenet_viz.preprocess.mnist_style with the page's fill for
the model). Arrays are float32 little-endian base64 (tests/backprop_reference.py ``encode``), in
[0, 1], as the page feeds the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.models import layer_plan
from lenet_viz.preprocess import FASHION_FILL, MNIST_FILL, mnist_style
from tests.backprop_reference import encode
from tests.browser.support import SEVEN

RELABELLED_CLASS = 7  # the class whose samples are re-labelled: a 7 (digits), a sneaker (Fashion-MNIST)
PEN = 20  # the pad's pen width (lenet_viz/netview/drawing.js PEN_WIDTH)
DRAWN = {  # pen strokes on the 280×280 pad, as (x, y) points
    "drawn seven": SEVEN,  # the browser tests' seven
    "drawn seven, crossed": [[(60, 80), (90, 55), (220, 55), (130, 250)], [(100, 150), (200, 150)]],
    "drawn seven, slanted": [[(50, 70), (230, 50), (170, 130), (110, 250)]],
}


def drawn_input(strokes: list[list[tuple[float, float]]], size: int, fill: float) -> np.ndarray:
    """Strokes drawn as the pad draws them, prepared as the page prepares them (uint8 size×size)."""
    img = Image.new("L", (280, 280), 0)
    pen = ImageDraw.Draw(img)
    for points in strokes:
        pen.line(points, fill=255, width=PEN, joint="curve")
    prepared = mnist_style(np.asarray(img), size, fill)
    assert prepared is not None
    return prepared.image


def learn_case(bundled) -> dict:
    """One bundled model's case: its network, its samples and the inputs to re-label."""
    checkpoint = load_checkpoint(bundled.path)
    samples = load_samples(bundled.dataset)
    spec = checkpoint.spec
    fill = FASHION_FILL if bundled.dataset == "fashion-mnist" else MNIST_FILL
    as_input = lambda image: encode(image[None] / np.float32(255))  # noqa: E731 (1×H×W in [0, 1])
    inputs = {f"sample {i}": as_input(samples.images[i]) for i in np.flatnonzero(samples.labels == RELABELLED_CLASS)}
    inputs.update({name: as_input(drawn_input(strokes, spec.input_size, fill)) for name, strokes in DRAWN.items()})
    return {
        "key": bundled.key,
        "classes": list(samples.classes),
        "layers": [layer.to_dict() for layer in layer_plan(spec).layers],
        "params": {k: encode(v.float()) for k, v in checkpoint.model.state_dict().items()},
        "samples": [as_input(image) for image in samples.images],
        "labels": [int(v) for v in samples.labels],
        "inputs": inputs,
    }


def write_learn_cases(folder: Path) -> list[Path]:
    """One ``<key>.json`` per bundled model (with its samples) in ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for bundled in bundled_models():
        if load_samples(bundled.dataset) is None:
            continue
        path = folder / f"{bundled.key}.json"
        path.write_text(json.dumps(learn_case(bundled)))
        paths.append(path)
    return paths
