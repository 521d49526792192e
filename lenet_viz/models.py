"""LeNet built from a plain, serialisable spec, its presets and its layer plan.

A :class:`LeNetSpec` is a few numbers and words (no torch objects): the app edits it live, a
checkpoint stores it as a dict, and :func:`build_model` turns it into an ``nn.Sequential`` whose
layers carry LeNet's names (``conv1``, ``act1``, ``pool1``, ... ``fc3``). :func:`layer_plan` walks a
spec once; everything that needs the layers reads that plan.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from lenet_viz.arithmetic import Layer, LayerError, coverage_warning
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, Msg, t

Activation = Literal["sigmoid", "relu", "tanh"]
Pooling = Literal["avg", "max", "none"]
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "relu", "tanh")
POOLINGS: tuple[str, ...] = ("avg", "max", "none")


class SpecError(LenetVizError, ValueError):
    """A network spec that cannot be built; the message names the layer and the reason."""


@dataclass(frozen=True)
class ConvBlock:
    """One convolution, its activation and an optional pooling layer."""

    out_channels: int
    kernel: int = 5
    stride: int = 1
    padding: int = 0
    pool: Pooling = "avg"
    pool_kernel: int = 2
    pool_stride: int = 2


@dataclass(frozen=True)
class LeNetSpec:
    """The whole network: input, convolution blocks, fully connected widths, activation."""

    conv: tuple[ConvBlock, ...]
    hidden: tuple[int, ...] = (120, 84)
    activation: Activation = "sigmoid"
    in_channels: int = 1
    input_size: int = 28
    num_classes: int = 10

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of ints, strings and lists (JSON and ``weights_only`` safe)."""
        d = asdict(self)
        d["conv"] = [dict(b) for b in d["conv"]]
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LeNetSpec:
        """Inverse of :meth:`to_dict`; raises :class:`SpecError` on malformed input."""
        try:
            conv = tuple(ConvBlock(**dict(b)) for b in d["conv"])
            fields = {k: v for k, v in d.items() if k != "conv"}
            fields["hidden"] = tuple(int(h) for h in fields.get("hidden", (120, 84)))
            spec = cls(conv=conv, **fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError(f"malformed network spec: {exc}") from exc
        validate_spec(spec)
        return spec

    def with_block(self, index: int, **changes: Any) -> LeNetSpec:
        """A copy with one conv block changed."""
        blocks = list(self.conv)
        blocks[index] = replace(blocks[index], **changes)
        return replace(self, conv=tuple(blocks))


PRESETS: dict[str, LeNetSpec] = {
    # The seed's first network (d2l 6.6): padded 5×5 convs, sigmoid, average pooling.
    "classic": LeNetSpec(conv=(ConvBlock(6, 5, padding=2, pool="avg"), ConvBlock(16, 5, pool="avg"))),
    # The same shapes with the activation and pooling that later networks use.
    "modern": LeNetSpec(
        conv=(ConvBlock(6, 5, padding=2, pool="max"), ConvBlock(16, 5, pool="max")), activation="relu"
    ),
    # The seed's second network: no padding, max pooling, 16·4·4 inputs to the first Linear.
    "seed-nopad": LeNetSpec(conv=(ConvBlock(6, 5, pool="max"), ConvBlock(16, 5, pool="max"))),
}


@dataclass(frozen=True)
class PlannedLayer:
    """One layer of a network, as every view of it needs it: the table, ``build_model``, the
    coverage warnings, the unit inspector and the in-browser network all read these."""

    name: str  # conv1, act1, pool1, ..., flatten, fc1, act3, ..., fc3
    kind: str  # conv, sigmoid/relu/tanh, avgpool/maxpool, flatten, linear
    label: str  # LeCun's name (C1, S2, C3, S4) for conv and pooling layers, else ""
    input_shape: tuple[int, ...]  # (C, H, W) or (N,)
    output_shape: tuple[int, ...]
    params: int
    geometry: Layer | None = None  # kernel, stride, padding of a convolution or pooling layer

    @property
    def hyper(self) -> str:
        """The hyperparameters in words, for the table."""
        return self.hyper_text()

    def hyper_text(self, lang: str = DEFAULT_LANG) -> str:
        """:attr:`hyper` in ``lang``."""
        g = self.geometry
        if self.kind == "conv":
            return t("table.conv_hyper", lang, kernel=g.kernel, stride=g.step, padding=g.padding)
        if self.kind.endswith("pool"):
            return t("table.pool_hyper", lang, pool=Msg(f"pool.{self.kind[:-4]}"), kernel=g.kernel, stride=g.step)
        if self.kind == "linear":
            return f"{self.input_shape[0]}→{self.output_shape[0]}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the browser's network view."""
        g = self.geometry
        return {"name": self.name, "kind": self.kind, "label": self.label, "input_shape": list(self.input_shape),
                "output_shape": list(self.output_shape), "params": self.params,
                "geometry": None if g is None else {"kernel": g.kernel, "stride": g.step, "padding": g.padding}}


@dataclass(frozen=True)
class LayerPlan:
    """The layers of a network in order, derived once from its spec by :func:`layer_plan`."""

    layers: tuple[PlannedLayer, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> PlannedLayer:
        return next(layer for layer in self.layers if layer.name == name)

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def flatten_size(self) -> int:
        return self["flatten"].output_shape[0]


def _spatial_layer(name: str, kind: str, label: str, geometry: Layer, channels: int, size: int,
                   out_channels: int, params: int = 0) -> PlannedLayer:
    """A convolution or pooling layer on a ``size``×``size`` input; SpecError if it cannot be built."""
    try:
        out = geometry.output(size)
    except LayerError as exc:
        raise SpecError.keyed("error.layer_unbuildable", name=name, size=size, reason=exc) from exc
    return PlannedLayer(name, kind, label, (channels, size, size), (out_channels, out, out), params, geometry)


def layer_plan(spec: LeNetSpec) -> LayerPlan:
    """Walk the spec once: every layer's name, kind, LeCun label, geometry, shapes and parameters.

    The one place that knows LeNet's naming rule (``conv{i}``, ``act{i}``, ``pool{i}``, ``fc{j}``,
    ``act{len(conv)+j}``). Uses :mod:`lenet_viz.arithmetic` alone (no torch); raises
    :class:`SpecError` naming the first layer that cannot be built.
    """
    layers: list[PlannedLayer] = []
    channels, size, n_lecun = spec.in_channels, spec.input_size, 0
    for i, block in enumerate(spec.conv, start=1):
        n_lecun += 1
        conv = Layer("conv", block.kernel, block.stride, block.padding)
        params = block.out_channels * channels * block.kernel**2 + block.out_channels
        layers.append(_spatial_layer(f"conv{i}", "conv", f"C{n_lecun}", conv, channels, size,
                                     block.out_channels, params))
        channels, size = block.out_channels, layers[-1].output_shape[1]
        layers.append(PlannedLayer(f"act{i}", spec.activation, "", (channels, size, size), (channels, size, size), 0))
        if block.pool != "none":
            n_lecun += 1
            pool = Layer(f"{block.pool}pool", block.pool_kernel, block.pool_stride)
            layers.append(_spatial_layer(f"pool{i}", f"{block.pool}pool", f"S{n_lecun}", pool, channels, size,
                                         channels))
            size = layers[-1].output_shape[1]
    features = channels * size * size
    layers.append(PlannedLayer("flatten", "flatten", "", (channels, size, size), (features,), 0))
    widths = (*spec.hidden, spec.num_classes)
    for j, width in enumerate(widths, start=1):
        layers.append(PlannedLayer(f"fc{j}", "linear", "", (features,), (width,), features * width + width))
        features = width
        if j < len(widths):
            layers.append(PlannedLayer(f"act{len(spec.conv) + j}", spec.activation, "", (width,), (width,), 0))
    return LayerPlan(tuple(layers))


def describe(spec: LeNetSpec, lang: str = DEFAULT_LANG) -> str:
    """One line for a network, e.g. ``conv 6@5×5 pad 2 → avg pool 2 → … → fc 120 → 84 → 10 · sigmoid``."""
    parts = []
    for block in spec.conv:
        parts.append(t("desc.conv", lang, channels=block.out_channels, k=block.kernel)
                     + (t("desc.stride", lang, n=block.stride) if block.stride > 1 else "")
                     + (t("desc.pad", lang, n=block.padding) if block.padding else ""))
        if block.pool != "none":
            parts.append(t(f"desc.{block.pool}_pool", lang, k=block.pool_kernel)
                         + (t("desc.stride", lang, n=block.pool_stride) if block.pool_stride != block.pool_kernel
                            else ""))
    parts.append(t("desc.fc", lang, widths=" → ".join(str(w) for w in (*spec.hidden, spec.num_classes))))
    return " → ".join(parts) + f" · {spec.activation}"


def coverage_warnings(spec: LeNetSpec, lang: str = DEFAULT_LANG) -> list[str]:
    """For each conv/pool layer that leaves input cells unread (a stride that skips cells, or a
    last row that fills no window), the layer's name and a plain-words warning. Needs a
    buildable spec."""
    warnings = []
    for layer in layer_plan(spec).layers:
        size = layer.input_shape[-1]
        if layer.geometry and (warning := coverage_warning(layer.geometry, size, "rows and columns", lang)):
            warnings.append(t("coverage.layer", lang, name=layer.name, size=size, warning=warning))
    return warnings


def validate_spec(spec: LeNetSpec) -> None:
    """Raise :class:`SpecError` if the spec has bad values or cannot be built."""
    if not spec.conv:
        raise SpecError("the network needs at least one convolution block.")
    if spec.activation not in ACTIVATIONS:
        raise SpecError(f"unknown activation {spec.activation!r}; choose one of {', '.join(ACTIVATIONS)}.")
    for i, block in enumerate(spec.conv, start=1):
        if block.pool not in POOLINGS:
            raise SpecError(f"conv{i}: unknown pooling {block.pool!r}; choose one of {', '.join(POOLINGS)}.")
        if block.out_channels < 1:
            raise SpecError(f"conv{i}: needs at least one output channel, got {block.out_channels}.")
    for width in (*spec.hidden, spec.num_classes, spec.in_channels, spec.input_size):
        if width < 1:
            raise SpecError(f"layer widths and sizes must be at least 1, got {width}.")
    layer_plan(spec)


def _activation_layers() -> dict[str, type]:
    """Each activation name's torch layer (torch is imported on first use, not with this module)."""
    from torch import nn

    return {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def _module(layer: PlannedLayer):
    """The torch module for one planned layer: adding a layer type means a line here and one in
    :func:`layer_plan`."""
    from torch import nn

    g = layer.geometry
    if layer.kind == "conv":
        return nn.Conv2d(layer.input_shape[0], layer.output_shape[0], g.kernel, g.step, g.padding)
    if layer.kind == "avgpool":
        return nn.AvgPool2d(g.kernel, g.step)
    if layer.kind == "maxpool":
        return nn.MaxPool2d(g.kernel, g.step)
    if layer.kind == "flatten":
        return nn.Flatten()
    if layer.kind == "linear":
        return nn.Linear(layer.input_shape[0], layer.output_shape[0])
    return _activation_layers()[layer.kind]()


def build_model(spec: LeNetSpec):
    """The ``nn.Sequential`` for a spec, one module per layer of :func:`layer_plan`, same names."""
    from torch import nn

    validate_spec(spec)
    return nn.Sequential(OrderedDict((layer.name, _module(layer)) for layer in layer_plan(spec).layers))


def activation_of(model) -> str:
    """The activation a built network uses (``relu`` when it has none of the three)."""
    kinds = {layer: name for name, layer in _activation_layers().items()}
    return next((kinds[type(m)] for m in model.modules() if type(m) in kinds), "relu")


def forward_all(model, x) -> list[tuple[str, Any]]:
    """Run ``x`` through the model, returning ``(layer name, output)`` for every layer."""
    outputs = []
    for name, layer in model.named_children():
        x = layer(x)
        outputs.append((name, x))
    return outputs
