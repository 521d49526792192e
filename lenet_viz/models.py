"""LeNet built from a plain, serialisable spec, its presets and its layer table.

A :class:`LeNetSpec` is a few numbers and words (no torch objects): the app edits it live, a
checkpoint stores it as a dict, and :func:`build_model` turns it into an ``nn.Sequential`` whose
layers carry LeNet's names (``conv1``, ``act1``, ``pool1``, ... ``fc3``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from lenet_viz.arithmetic import Layer, conv_output_size, coverage_warning, pool_output_size
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, Msg

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
class LayerInfo:
    """One row of the layer table."""

    name: str
    kind: str
    hyper: str
    output_shape: tuple[int, ...]
    params: int
    hyper_msg: Msg | None = field(default=None, compare=False)  # ``hyper`` in any language


@dataclass(frozen=True)
class LayerTable:
    rows: tuple[LayerInfo, ...] = field(default_factory=tuple)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def flatten_size(self) -> int:
        return next(r.output_shape[0] for r in self.rows if r.kind == "flatten")


def layer_table(spec: LeNetSpec) -> LayerTable:
    """Each layer's name, hyperparameters, output shape (C, H, W) and parameter count.

    Computed from the spec with :mod:`lenet_viz.arithmetic` alone; raises :class:`SpecError`
    naming the first layer that cannot be built.
    """
    rows: list[LayerInfo] = []
    channels, size = spec.in_channels, spec.input_size
    for i, block in enumerate(spec.conv, start=1):
        name = f"conv{i}"
        try:
            size = conv_output_size(size, block.kernel, block.stride, block.padding)
        except ValueError as exc:
            raise SpecError.keyed("error.layer_unbuildable", name=name, size=size, reason=exc) from exc
        params = block.out_channels * channels * block.kernel**2 + block.out_channels
        channels = block.out_channels
        hyper = Msg("table.conv_hyper", {"kernel": block.kernel, "stride": block.stride, "padding": block.padding})
        rows.append(LayerInfo(name, "conv", hyper.text(), (channels, size, size), params, hyper))
        rows.append(LayerInfo(f"act{i}", spec.activation, "", (channels, size, size), 0))
        if block.pool != "none":
            name = f"pool{i}"
            try:
                size = pool_output_size(size, block.pool_kernel, block.pool_stride)
            except ValueError as exc:
                raise SpecError.keyed("error.layer_unbuildable", name=name, size=size, reason=exc) from exc
            hyper = Msg("table.pool_hyper", {"pool": block.pool, "kernel": block.pool_kernel,
                                             "stride": block.pool_stride})
            rows.append(LayerInfo(name, f"{block.pool}pool", hyper.text(), (channels, size, size), 0, hyper))
    features = channels * size * size
    rows.append(LayerInfo("flatten", "flatten", "", (features,), 0))
    widths = (*spec.hidden, spec.num_classes)
    for j, width in enumerate(widths, start=1):
        rows.append(LayerInfo(f"fc{j}", "linear", f"{features}→{width}", (width,), features * width + width))
        features = width
        if j < len(widths):
            rows.append(LayerInfo(f"act{len(spec.conv) + j}", spec.activation, "", (width,), 0))
    return LayerTable(tuple(rows))


def describe(spec: LeNetSpec) -> str:
    """One line for a network, e.g. ``conv 6@5×5 pad 2 → avg pool 2 → … → fc 120 → 84 → 10 · sigmoid``."""
    parts = []
    for block in spec.conv:
        parts.append(f"conv {block.out_channels}@{block.kernel}×{block.kernel}"
                     + (f" stride {block.stride}" if block.stride > 1 else "")
                     + (f" pad {block.padding}" if block.padding else ""))
        if block.pool != "none":
            parts.append(f"{block.pool} pool {block.pool_kernel}"
                         + (f" stride {block.pool_stride}" if block.pool_stride != block.pool_kernel else ""))
    parts.append("fc " + " → ".join(str(w) for w in (*spec.hidden, spec.num_classes)))
    return " → ".join(parts) + f" · {spec.activation}"


def coverage_warnings(spec: LeNetSpec, lang: str = DEFAULT_LANG) -> list[str]:
    """For each conv/pool layer that leaves input cells unread (a stride that skips cells, or a
    last row that fills no window), the layer's name and a plain-words warning. Needs a
    buildable spec."""
    warnings, size = [], spec.input_size
    for i, block in enumerate(spec.conv, start=1):
        layers = [(f"conv{i}", Layer("conv", block.kernel, block.stride, block.padding))]
        if block.pool != "none":
            layers.append((f"pool{i}", Layer(f"{block.pool}pool", block.pool_kernel, block.pool_stride)))
        for name, layer in layers:
            if warning := coverage_warning(layer, size, "rows and columns", lang):
                warnings.append(Msg("coverage.layer", {"name": name, "size": size, "warning": warning}).text(lang))
            size = layer.output(size)
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
    layer_table(spec)


def _activation_layers() -> dict[str, type]:
    """Each activation name's torch layer (torch is imported on first use, not with this module)."""
    from torch import nn

    return {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def build_model(spec: LeNetSpec):
    """The ``nn.Sequential`` for a spec, layers named as in :func:`layer_table`."""
    from torch import nn

    validate_spec(spec)
    act = _activation_layers()[spec.activation]
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = spec.in_channels
    for i, block in enumerate(spec.conv, start=1):
        layers[f"conv{i}"] = nn.Conv2d(channels, block.out_channels, block.kernel, block.stride, block.padding)
        layers[f"act{i}"] = act()
        if block.pool == "avg":
            layers[f"pool{i}"] = nn.AvgPool2d(block.pool_kernel, block.pool_stride)
        elif block.pool == "max":
            layers[f"pool{i}"] = nn.MaxPool2d(block.pool_kernel, block.pool_stride)
        channels = block.out_channels
    layers["flatten"] = nn.Flatten()
    features = layer_table(spec).flatten_size
    widths = (*spec.hidden, spec.num_classes)
    for j, width in enumerate(widths, start=1):
        layers[f"fc{j}"] = nn.Linear(features, width)
        features = width
        if j < len(widths):
            layers[f"act{len(spec.conv) + j}"] = act()
    return nn.Sequential(layers)


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
