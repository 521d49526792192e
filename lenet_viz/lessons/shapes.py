"""Lessons 1 and 2: a layer's output size and parameters, padding, pooling and stride.

Every right answer comes from :mod:`lenet_viz.arithmetic` and :func:`lenet_viz.models.layer_plan`
(the same code the Output size page uses); the explanations show the formula with the
question's numbers. No torch here.
"""

from __future__ import annotations

import random

import numpy as np

from lenet_viz.arithmetic import Layer, conv_output_size, formula_line
from lenet_viz.i18n import Msg, Msgs
from lenet_viz.lessons.core import Field, Question
from lenet_viz.models import ConvBlock, LeNetSpec, SpecError, layer_plan

ASKED_LAYERS = ("conv1", "pool1", "conv2", "pool2", "fc1")


def random_spec(rng: random.Random) -> LeNetSpec:
    """A LeNet variant that can be built: the seed's two conv blocks with other widths, kernels,
    paddings, poolings and input sizes."""
    while True:
        first = ConvBlock(rng.choice((4, 6, 8)), rng.choice((3, 5)), padding=rng.choice((0, 1, 2)),
                          pool=rng.choice(("avg", "max")))
        second = ConvBlock(rng.choice((10, 12, 16)), rng.choice((3, 5)), padding=rng.choice((0, 1)),
                           pool=rng.choice(("avg", "max")))
        spec = LeNetSpec(conv=(first, second), input_size=rng.choice((28, 32)),
                         activation=rng.choice(("sigmoid", "relu")))
        try:
            layer_plan(spec)
        except SpecError:
            continue
        return spec


def layer_question(seed: int) -> Question:
    """Shapes and parameters: the output size and parameter count of one layer of a generated network."""
    rng = random.Random(seed)
    spec = random_spec(rng)
    name = rng.choice(ASKED_LAYERS)
    plan = layer_plan(spec)
    layer = plan[name]
    if layer.kind == "linear":
        size_label, size = Msg("lesson.shapes.inputs"), layer.input_shape[0]
        channels, side = plan["flatten"].input_shape[0], plan["flatten"].input_shape[1]
        explanation = (Msg("lesson.shapes.explain_flatten", channels=channels, side=side, inputs=size),
                       Msg("lesson.shapes.explain_linear", inputs=size, outputs=layer.output_shape[0],
                           params=layer.params))
        latex: tuple[str, ...] = ()
    else:
        size_label, size = Msg("lesson.shapes.side"), layer.output_shape[1]
        latex = (formula_line(layer.geometry, layer.input_shape[1], "H"),)
        if layer.kind == "conv":
            c_in, c_out, k = layer.input_shape[0], layer.output_shape[0], layer.geometry.kernel
            params = Msg("lesson.shapes.explain_conv", c_out=c_out, c_in=c_in, k=k, params=layer.params)
        else:
            params = Msg("lesson.shapes.explain_pool")
        explanation = (Msg("lesson.shapes.explain_size", name=name, size=layer.input_shape[1], out=size,
                           channels=layer.output_shape[0]), params)
    fields = (Field("size", size_label), Field("params", Msg("lesson.shapes.params")))
    return Question("shapes", "layer", seed, Msg("lesson.shapes.prompt", layer=name, size=spec.input_size),
                    fields, {"size": size, "params": layer.params}, explanation, latex,
                    {"spec": spec, "layer": name, "geometry": layer.geometry,
                     "input_side": layer.input_shape[-1] if layer.geometry else None})


def keep_size_question(seed: int) -> Question:
    """Why padding 2 keeps 28×28: the padding that keeps an N×N input N×N under a k×k convolution."""
    rng = random.Random(seed)
    size, kernel = rng.randint(10, 32), rng.choice((3, 5, 7))
    padding = next(p for p in range(kernel + 1) if conv_output_size(size, kernel, 1, p) == size)
    geometry = Layer("conv", kernel, 1, padding)
    explanation = (Msg("lesson.padding.explain_keep", kernel=kernel, lost=kernel - 1, padding=padding, size=size),)
    return Question("padding", "keep", seed, Msg("lesson.padding.keep_prompt", size=size, kernel=kernel),
                    (Field("padding", Msg("lesson.padding.padding")),), {"padding": padding}, explanation,
                    (formula_line(geometry, size, "H"),), {"geometry": geometry, "input_side": size})


def pool_values(grid: np.ndarray, kind: str, kernel: int, stride: int) -> np.ndarray:
    """A pooling layer's output, window by window, from the cells :meth:`Layer.taps` says it reads."""
    layer = Layer(f"{kind}pool", kernel, stride)
    side = layer.output(grid.shape[0])
    reduce = np.max if kind == "max" else np.mean
    out = np.empty((side, side))
    for r in range(side):
        for c in range(side):
            out[r, c] = reduce(grid[np.ix_(layer.taps(r), layer.taps(c))])
    return out


def pooled_question(seed: int) -> Question:
    """Predict the values of a small map after 2×2 pooling with stride 2 (max or average)."""
    rng = random.Random(seed)
    kind = rng.choice(("max", "avg"))
    grid = np.array([[rng.randint(0, 9) for _ in range(4)] for _ in range(4)])
    pooled = pool_values(grid, kind, 2, 2)
    answer = {f"cell_{r}_{c}": (int(v) if kind == "max" else float(v)) for (r, c), v in np.ndenumerate(pooled)}
    fields = tuple(Field(f"cell_{r}_{c}", Msg("lesson.padding.cell", row=r + 1, col=c + 1), integer=kind == "max",
                         tolerance=0.0 if kind == "max" else 0.01) for r, c in np.ndindex(pooled.shape))
    layer = Layer(f"{kind}pool", 2, 2)
    windows = tuple(Msg("lesson.padding.explain_window", row=r + 1, col=c + 1,
                        cells=", ".join(str(v) for v in grid[np.ix_(layer.taps(r), layer.taps(c))].ravel()),
                        value=f"{pooled[r, c]:g}") for r, c in np.ndindex(pooled.shape))
    explanation = (Msg(f"lesson.padding.explain_{kind}"), *windows)
    return Question("padding", "pooled", seed, Msg(f"lesson.padding.pooled_prompt_{kind}"), fields, answer,
                    explanation, (), {"grid": grid, "pooled": pooled, "pool": kind,
                                      "geometry": layer, "input_side": 4})


def stride_question(seed: int) -> Question:
    """What stride 2 does: the output size of a 3×3 convolution with stride 2, and the cells each output reads."""
    rng = random.Random(seed)
    size, padding = rng.randint(7, 15), rng.choice((0, 1))
    strided, plain = Layer("conv", 3, 2, padding), Layer("conv", 3, 1, padding)
    out = strided.output(size)
    reads = Msgs((Msg("lesson.stride.read", output=o, cells=Msgs(map(str, strided.taps(o)))) for o in range(out)),
                 separator="list.semicolon")
    explanation = (Msg("lesson.stride.explain", size=size, padding=padding, plain=plain.output(size), out=out),
                   Msg("lesson.stride.reads", reads=reads, last=size - 1))
    return Question("padding", "stride", seed, Msg("lesson.stride.prompt", size=size, padding=padding),
                    (Field("size", Msg("lesson.shapes.side")),), {"size": out}, explanation,
                    (formula_line(strided, size, "W"),), {"geometry": strided, "input_side": size})
