"""One input through a network: every layer's output, and the arithmetic behind any one unit.

:func:`run` records each layer's output as a NumPy array. :func:`explain_unit` recomputes one
unit of a convolution, activation or pooling layer from the numbers it reads (the input patch,
and for a convolution the kernel and bias), and finds its receptive field on the input with
:func:`lenet_viz.arithmetic.receptive_fields`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lenet_viz.arithmetic import Layer, receptive_fields
from lenet_viz.models import LeNetSpec, forward_all, layer_plan
from lenet_viz.threads import thread_limit


@dataclass(frozen=True)
class LayerOutput:
    """One layer's output for one input (batch dimension removed)."""

    name: str  # conv1, act1, pool1, ...
    kind: str  # conv, sigmoid/relu/tanh, avgpool/maxpool, flatten, linear
    label: str  # LeCun's name (C1, S2, C3, S4) for conv and pooling layers, else ""
    values: np.ndarray  # C×H×W for spatial layers, N for the rest

    @property
    def spatial(self) -> bool:
        return self.values.ndim == 3

    @property
    def shape_text(self) -> str:
        return "×".join(str(d) for d in self.values.shape)


@dataclass(frozen=True)
class Activations:
    """Everything one forward pass produced."""

    input: np.ndarray  # C×H×W, in [0, 1]
    layers: tuple[LayerOutput, ...]
    probabilities: np.ndarray  # softmax of the last layer

    def __getitem__(self, name: str) -> LayerOutput:
        return next(layer for layer in self.layers if layer.name == name)

    @property
    def spatial(self) -> tuple[LayerOutput, ...]:
        """Convolution, activation and pooling outputs, in order."""
        return tuple(layer for layer in self.layers if layer.spatial)

    @property
    def prediction(self) -> int:
        return int(self.probabilities.argmax())


def run(model: torch.nn.Module, spec: LeNetSpec, x: torch.Tensor) -> Activations:
    """Forward one input (1×C×H×W) and keep every layer's output.

    Tuned for one small image: a single thread (see :mod:`lenet_viz.threads`). oneDNN stays on: its
    switch is process-wide, and turning it off here would slow a training run on another thread.
    """
    plan = layer_plan(spec)
    with torch.inference_mode(), thread_limit(1):
        outputs = forward_all(model, x)
    layers = tuple(LayerOutput(name, plan[name].kind, plan[name].label, out[0].numpy()) for name, out in outputs)
    logits = torch.from_numpy(layers[-1].values)
    return Activations(x[0].numpy(), layers, torch.softmax(logits, 0).numpy())


def strongest_unit(acts: Activations, layer: str, map_: int) -> tuple[int, int]:
    """(row, column) of the largest value in one map of a spatial layer (the first map if out of range)."""
    maps = acts[layer].values
    values = maps[map_] if 0 <= map_ < len(maps) else maps[0]
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(row), int(col)


@dataclass(frozen=True)
class UnitExplanation:
    """How one unit's value comes about."""

    layer: str
    kind: str
    map: int
    row: int
    col: int
    value: float  # what the network computed
    computed: float  # recomputed here from ``patch`` (and ``weights``, ``bias``)
    source: str  # the layer whose output the unit reads ("input" for conv1)
    patch: np.ndarray  # C×k×k numbers read (zeros stand for padding)
    weights: np.ndarray | None  # C×k×k kernel of a convolution unit
    bias: float | None
    field: tuple[int, int, int, int]  # receptive field on the input: top, left, bottom, right (exclusive)
    field_size: int


def receptive_field(spec: LeNetSpec, layer: str, row: int, col: int) -> tuple[tuple[int, int, int, int], int]:
    """The input pixels one unit of a spatial layer sees, as (top, left, bottom, right) and size.

    Not clipped to the input: with padding, a border unit's field reaches outside it.
    """
    plan = layer_plan(spec).layers
    upto = plan[: [p.name for p in plan].index(layer) + 1]
    fields = receptive_fields(p.geometry for p in upto if p.geometry)
    if not fields:
        return (row, col, row + 1, col + 1), 1
    f = fields[-1]
    top = round(f.start + row * f.jump - f.size / 2)
    left = round(f.start + col * f.jump - f.size / 2)
    return (top, left, top + f.size, left + f.size), f.size


_ACTIVATION_FUNCTIONS = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: max(x, 0.0), "tanh": np.tanh}


def _read_window(src: np.ndarray, geometry: Layer, row: int, col: int) -> np.ndarray:
    """The C×k×k numbers one kernel placement reads, zeros standing for the padding."""
    kernel, stride, padding = geometry.kernel, geometry.step, geometry.padding
    padded = np.pad(src, ((0, 0), (padding, padding), (padding, padding)))
    return padded[:, row * stride: row * stride + kernel, col * stride: col * stride + kernel]


def _kernel_of(model: torch.nn.Module, layer: str, map_: int) -> tuple[np.ndarray, float]:
    """The weights (C×k×k) and bias that make map ``map_`` of a convolution layer."""
    module = getattr(model, layer)
    bias = float(module.bias.detach()[map_]) if module.bias is not None else 0.0
    return module.weight.detach()[map_].numpy(), bias


def explain_unit(model: torch.nn.Module, spec: LeNetSpec, acts: Activations, layer: str,
                 map_: int, row: int, col: int) -> UnitExplanation:
    """Recompute unit (map, row, col) of a spatial layer from the numbers it reads."""
    out = acts[layer]
    if not out.spatial:
        raise ValueError(f"{layer} is not a convolution, activation or pooling layer.")
    channels, height, width = out.values.shape
    if not (0 <= map_ < channels and 0 <= row < height and 0 <= col < width):
        raise ValueError(f"{layer} has {channels} maps of {height}×{width}; no unit ({map_}, {row}, {col}).")
    index = [layer_.name for layer_ in acts.layers].index(layer)
    source = "input" if index == 0 else acts.layers[index - 1].name
    src = acts.input if index == 0 else acts.layers[index - 1].values
    weights, bias = None, None
    if out.kind == "conv":
        patch = _read_window(src, layer_plan(spec)[layer].geometry, row, col)
        weights, bias = _kernel_of(model, layer, map_)
        computed = float((weights.astype(np.float64) * patch).sum() + bias)
    elif out.kind.endswith("pool"):
        patch = _read_window(src[map_:map_ + 1], layer_plan(spec)[layer].geometry, row, col)
        computed = float(patch.max() if out.kind == "maxpool" else patch.mean())
    else:
        patch = src[map_:map_ + 1, row:row + 1, col:col + 1]
        computed = float(_ACTIVATION_FUNCTIONS[out.kind](float(patch[0, 0, 0])))
    field, size = receptive_field(spec, layer, row, col)
    return UnitExplanation(layer, out.kind, map_, row, col, float(out.values[map_, row, col]), computed, source,
                           patch, weights, bias, field, size)


def formula_latex(unit: UnitExplanation) -> str:
    """The unit's computation with its numbers, as LaTeX."""
    v = f"{unit.computed:.4f}"
    if unit.kind == "conv":
        dot = unit.computed - (unit.bias or 0.0)
        return rf"\sum_{{c,i,j}} w_{{c,i,j}}\,x_{{c,i,j}} + b = {dot:.4f} + ({unit.bias:.4f}) = {v}"
    if unit.kind == "maxpool":
        return rf"\max_{{i,j}} x_{{i,j}} = {v}"
    if unit.kind == "avgpool":
        k = unit.patch.shape[1] * unit.patch.shape[2]
        return rf"\frac{{1}}{{{k}}}\sum_{{i,j}} x_{{i,j}} = {v}"
    x = f"{float(unit.patch.ravel()[0]):.4f}"
    return {"sigmoid": rf"\sigma(x) = \frac{{1}}{{1 + e^{{-x}}}} = \sigma({x}) = {v}",
            "relu": rf"\mathrm{{ReLU}}(x) = \max(0, x) = \max(0, {x}) = {v}",
            "tanh": rf"\tanh(x) = \tanh({x}) = {v}"}[unit.kind]
