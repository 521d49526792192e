"""Output-size arithmetic of convolution and pooling layers, with PyTorch's exact rules.

Pure Python (no torch import), so the output-size explorer stays instant. Every function
returns the size PyTorch's layer produces, or raises :class:`LayerError` (a ``ValueError``) with a
message that names the offending parameter and says why, for every setting PyTorch rejects or that
leaves an empty output. Messages and warnings come from the catalogue (:mod:`lenet_viz.i18n`), so
the app can show them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, Msg, t

LayerKind = Literal["conv", "maxpool", "avgpool", "convtranspose"]


class LayerError(LenetVizError, ValueError):
    """Layer settings PyTorch refuses, or that leave no output; the message says which and why."""


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise LayerError.keyed("error.at_least_1", name=Msg(f"param.{name.replace(' ', '_')}"), value=value)


def _check_non_negative(name: str, value: int) -> None:
    if value < 0:
        raise LayerError.keyed("error.not_negative", name=Msg(f"param.{name.replace(' ', '_')}"), value=value)


def _effective_kernel(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: D·(F−1)+1 input cells."""
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """⌊(W + 2P − D(F−1) − 1)/S⌋ + 1, as ``nn.Conv2d`` computes it."""
    _check_positive("input size", size)
    _check_positive("kernel size", kernel)
    _check_positive("stride", stride)
    _check_non_negative("padding", padding)
    _check_positive("dilation", dilation)
    span = _effective_kernel(kernel, dilation)
    padded = size + 2 * padding
    if span > padded:
        raise LayerError.keyed("error.conv_kernel_too_large", span=span, dilation=dilation, kernel=kernel,
                               padded=padded, size=size, padding=padding)
    return (padded - span) // stride + 1


def pool_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output size of ``nn.MaxPool2d``/``nn.AvgPool2d`` (stride defaults to the kernel size).

    In ceil mode PyTorch rounds up, but drops a last window that would start in the right
    padding: every window must start inside the input or the left padding.
    """
    stride = kernel if stride is None else stride
    _check_positive("input size", size)
    _check_positive("kernel size", kernel)
    _check_positive("stride", stride)
    _check_non_negative("padding", padding)
    _check_positive("dilation", dilation)
    if padding > kernel // 2:
        raise LayerError.keyed("error.pool_padding_too_large", kernel=kernel, half=kernel // 2, padding=padding)
    span = _effective_kernel(kernel, dilation)
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise LayerError.keyed("error.pool_kernel_too_large", span=span, padded=size + 2 * padding, size=size,
                               padding=padding)
    return out


def conv_transpose_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """(W − 1)·S − 2P + D(F−1) + output_padding + 1, as ``nn.ConvTranspose2d`` computes it."""
    _check_positive("input size", size)
    _check_positive("kernel size", kernel)
    _check_positive("stride", stride)
    _check_non_negative("padding", padding)
    _check_non_negative("output padding", output_padding)
    _check_positive("dilation", dilation)
    if output_padding >= stride and output_padding >= dilation:
        raise LayerError.keyed("error.output_padding_too_large", stride=stride, dilation=dilation,
                               output_padding=output_padding)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise LayerError.keyed("error.transposed_padding_too_large", padding=padding, full=out + 2 * padding,
                               out=out)
    return out


def output_size(kind: LayerKind, size: int, kernel: int, stride: int | None = None, padding: int = 0,
                dilation: int = 1, ceil_mode: bool = False, output_padding: int = 0) -> int:
    """Dispatch to the right formula for a layer kind."""
    if kind == "conv":
        return conv_output_size(size, kernel, 1 if stride is None else stride, padding, dilation)
    if kind in ("maxpool", "avgpool"):
        if kind == "avgpool" and dilation != 1:
            raise LayerError.keyed("error.avgpool_dilation")
        return pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    if kind == "convtranspose":
        return conv_transpose_output_size(size, kernel, 1 if stride is None else stride, padding,
                                          output_padding, dilation)
    raise LayerError(f"unknown layer kind {kind!r}")  # a bug in the caller, never a user's choice


def formula_latex(layer: Layer, size: int) -> tuple[str, str]:
    """A layer's output-size formula in symbols and with its numbers substituted (no result).

    Returns ``(symbolic, substituted)`` LaTeX strings, e.g. for a conv layer
    ``\\left\\lfloor \\frac{W + 2P - D(F-1) - 1}{S} \\right\\rfloor + 1`` and
    ``\\left\\lfloor \\frac{28 + 2\\cdot 2 - 1\\cdot(5-1) - 1}{1} \\right\\rfloor + 1``.
    """
    s, padding, dilation, kernel = layer.step, layer.padding, layer.dilation, layer.kernel
    if layer.kind == "convtranspose":
        symbolic = r"O = (W - 1)\,S - 2P + D\,(F-1) + P_{out} + 1"
        substituted = (rf"O = ({size} - 1)\cdot {s} - 2\cdot {padding} + {dilation}\cdot({kernel}-1)"
                       rf" + {layer.output_padding} + 1")
        return symbolic, substituted
    bracket = (r"\left\lceil", r"\right\rceil") if layer.ceil_mode else (r"\left\lfloor", r"\right\rfloor")
    symbolic = rf"O = {bracket[0]} \frac{{W + 2P - D\,(F-1) - 1}}{{S}} {bracket[1]} + 1"
    substituted = (rf"O = {bracket[0]} \frac{{{size} + 2\cdot {padding} - {dilation}\cdot({kernel}-1) - 1}}"
                   rf"{{{s}}} {bracket[1]} + 1")
    return symbolic, substituted


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field after a layer: ``size`` input pixels seen by one unit, ``jump`` input
    pixels between neighbouring units, ``start`` centre of the first unit in input coordinates."""

    size: int
    jump: int
    start: float


def receptive_fields(layers: Iterable[Layer]) -> list[ReceptiveField]:
    """Receptive field after each layer of a stack (convolutions and pooling).

    r_out = r_in + (D(F−1)+1 − 1)·j_in, j_out = j_in·S, start_out = start_in + ((D(F−1)+1 − 1)/2 − P)·j_in.
    """
    size, jump, start = 1, 1, 0.5
    fields = []
    for layer in layers:
        size = size + (layer.span - 1) * jump
        start = start + ((layer.span - 1) / 2 - layer.padding) * jump
        jump = jump * layer.step
        fields.append(ReceptiveField(size, jump, start))
    return fields


@dataclass(frozen=True)
class Layer:
    """One layer's hyperparameters, the same along height and width (stride ``None``: pooling
    defaults to the kernel size, convolutions to 1)."""

    kind: LayerKind = "conv"
    kernel: int = 5
    stride: int | None = 1
    padding: int = 0
    dilation: int = 1
    ceil_mode: bool = False
    output_padding: int = 0

    @property
    def step(self) -> int:
        """The stride actually used."""
        if self.stride is not None:
            return self.stride
        return self.kernel if self.kind in ("maxpool", "avgpool") else 1

    @property
    def span(self) -> int:
        """Cells covered by the (dilated) kernel: D·(F−1)+1."""
        return _effective_kernel(self.kernel, self.dilation)

    def output(self, size: int) -> int:
        """Output size along one axis; :class:`LayerError` if the layer cannot be built."""
        return output_size(self.kind, size, self.kernel, self.step, self.padding, self.dilation,
                           self.ceil_mode, self.output_padding)

    def taps(self, index: int) -> list[int]:
        """The cells one kernel placement touches along one axis.

        For convolution and pooling: the input cells that output ``index`` reads (below 0 or
        past the input: padding). For transposed convolution: the output cells that input
        ``index`` writes (below 0 or past the output: cropped by the padding). Both are
        ``index·S − P + k·D`` for k = 0…F−1.
        """
        start = index * self.step - self.padding
        return [start + k * self.dilation for k in range(self.kernel)]


def missed_cells(layer: Layer, size: int) -> list[int]:
    """Cells of one axis that no kernel placement touches.

    Convolution and pooling: real input cells no window reads (their content is lost).
    Transposed convolution: output cells no input writes (they hold only the bias).
    """
    out = layer.output(size)
    if layer.kind == "convtranspose":
        touched = {t for i in range(size) for t in layer.taps(i)}
        return [o for o in range(out) if o not in touched]
    touched = {t for o in range(out) for t in layer.taps(o)}
    return [i for i in range(size) if i not in touched]


def _cell_list(cells: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(c) for c in cells[:limit])
    return shown + (", …" if len(cells) > limit else "")


def _why_skipped(layer: Layer, lang: str) -> str:
    if layer.step > layer.span:
        return t("coverage.why_stride", lang, stride=layer.step, span=layer.span)
    return t("coverage.why_taps", lang, dilation=layer.dilation, stride=layer.step)


def _fix_skipped(layer: Layer, lang: str) -> str:
    if layer.step > layer.span:
        return t("coverage.fix_stride", lang, span=layer.span)
    return t("coverage.fix_dilation_or_stride" if layer.step > 1 else "coverage.fix_dilation", lang)


def coverage_warning(layer: Layer, size: int, axis: str, lang: str = DEFAULT_LANG) -> str | None:
    """Plain-words warning when cells of one axis (``axis``: "rows", "columns" or "rows and columns")
    are missed, saying why and what to change; ``None`` when every cell is covered. Needs a
    buildable layer."""
    missed = missed_cells(layer, size)
    if not missed:
        return None
    s, span = layer.step, layer.span
    axis_text = t(f"coverage.axis_{axis.replace(' ', '_')}", lang)
    if layer.kind == "convtranspose":
        return t("coverage.transposed", lang, axis=axis_text, cells=_cell_list(missed),
                 why=_why_skipped(layer, lang), fix=_fix_skipped(layer, lang))
    # Dropped: cells past the last window that a further window would read (in ceil mode every window
    # starting inside the input exists, so none is). The others fall in the gaps of the taps and stride.
    out = layer.output(size)
    last_read = max(t for o in range(out) for t in layer.taps(o))
    further = {t for o in range(out, out + span + 1) for t in layer.taps(o)}
    dropped = [c for c in missed if c > last_read and c in further and not layer.ceil_mode]
    skipped = [c for c in missed if c not in dropped]
    parts = []
    if skipped:
        parts.append(t("coverage.skipped", lang, axis=axis_text, cells=_cell_list(skipped),
                       why=_why_skipped(layer, lang), fix=_fix_skipped(layer, lang)))
    if dropped:
        leftover = size + 2 * layer.padding - span
        pooling = layer.kind in ("maxpool", "avgpool")
        short = leftover % s
        parts.append(t("coverage.dropped_pool" if pooling else "coverage.dropped", lang, axis=axis_text,
                       cells=_cell_list(dropped), leftover=leftover, stride=s, fit=size + s - short))
    return t("coverage.joiner", lang).join(parts)


def ceil_drops_last_window(layer: Layer, size: int) -> bool:
    """True when ceil-mode pooling removes a last window that would start in the right padding."""
    if layer.kind not in ("maxpool", "avgpool") or not layer.ceil_mode:
        return False
    numerator = size + 2 * layer.padding - layer.span + layer.step - 1
    return (numerator // layer.step) * layer.step >= size + layer.padding


def formula_line(layer: Layer, size: int, symbol: str, lang: str = DEFAULT_LANG) -> str:
    """LaTeX for one axis, on two aligned lines: the formula with the numbers substituted, then
    evaluated step by step to the result, e.g. ``H_{out} &= ⌊(28 + 2·2 − 1·(5−1) − 1)/1⌋ + 1``
    and ``&= ⌊27/1⌋ + 1 = 27 + 1 = 28``.

    The value is computed even when it is not a valid size (zero or negative), to show why."""
    _, substituted = formula_latex(layer, size)
    substituted = substituted.replace("O =", f"{symbol}_{{out}} &=", 1)
    s, p, d, f = layer.step, layer.padding, layer.dilation, layer.kernel
    if layer.kind == "convtranspose":
        result = (size - 1) * s - 2 * p + d * (f - 1) + layer.output_padding + 1
        steps = rf"{(size - 1) * s} - {2 * p} + {d * (f - 1)} + {layer.output_padding} + 1 = {result}"
    else:
        numerator = size + 2 * p - d * (f - 1) - 1
        if layer.ceil_mode:
            rounded, bracket = -(-numerator // s), (r"\left\lceil", r"\right\rceil")
        else:
            rounded, bracket = numerator // s, (r"\left\lfloor", r"\right\rfloor")
        steps = rf"{bracket[0]} \frac{{{numerator}}}{{{s}}} {bracket[1]} + 1 = {rounded} + 1"
        if ceil_drops_last_window(layer, size):
            # Two lines where the words are narrow enough to stack; one where a language's glyphs have
            # no KaTeX metrics (CJK), since stacked lines of those overlap.
            first, second = t("formula.last_window_1", lang), t("formula.last_window_2", lang)
            note = rf"\substack{{\text{{{first}}}\\ \text{{{second}}}}}" if second else rf"\text{{{first}}}"
            steps += rf" \underbrace{{-\,1}}_{{{note}}} = {rounded}"
        else:
            steps += rf" = {rounded + 1}"
    return rf"\begin{{aligned}} {substituted} \\ &= {steps} \end{{aligned}}"
