"""Output-size arithmetic of convolution and pooling layers, with PyTorch's exact rules.

Pure Python (no torch import), so the output-size explorer stays instant. Every function
returns the size PyTorch's layer produces, or raises ``ValueError`` with a message that names
the offending parameter and says why, for every setting PyTorch rejects or that leaves an
empty output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

LayerKind = Literal["conv", "maxpool", "avgpool", "convtranspose"]


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}.")


def _check_non_negative(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}.")


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
        raise ValueError(
            f"kernel size too large: the kernel spans {span} cells (dilation {dilation} × "
            f"(kernel {kernel} − 1) + 1) but the padded input has only {padded} "
            f"({size} + 2×{padding}). Use a smaller kernel or dilation, or more padding."
        )
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
        raise ValueError(
            f"padding too large: pooling padding may be at most half the kernel size "
            f"(⌊{kernel}/2⌋ = {kernel // 2}), got {padding}. Otherwise a window could see only padding."
        )
    span = _effective_kernel(kernel, dilation)
    numerator = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError(
            f"kernel size too large: the pooling window spans {span} cells but the padded input "
            f"has only {size + 2 * padding} ({size} + 2×{padding}). Use a smaller kernel or more padding."
        )
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
        raise ValueError(
            f"output padding too large: it must be smaller than the stride ({stride}) or the "
            f"dilation ({dilation}), got {output_padding}."
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"padding too large: it removes 2×{padding} cells from an output of only "
            f"{out + 2 * padding}, leaving {out}. Use less padding or a larger kernel or stride."
        )
    return out


def output_size(kind: LayerKind, size: int, kernel: int, stride: int | None = None, padding: int = 0,
                dilation: int = 1, ceil_mode: bool = False, output_padding: int = 0) -> int:
    """Dispatch to the right formula for a layer kind."""
    if kind == "conv":
        return conv_output_size(size, kernel, 1 if stride is None else stride, padding, dilation)
    if kind in ("maxpool", "avgpool"):
        if kind == "avgpool" and dilation != 1:
            raise ValueError("dilation is not supported by average pooling: set it to 1.")
        return pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    if kind == "convtranspose":
        return conv_transpose_output_size(size, kernel, 1 if stride is None else stride, padding,
                                          output_padding, dilation)
    raise ValueError(f"unknown layer kind {kind!r}")


def unread_input_cells(size: int, kernel: int, stride: int, padding: int = 0, dilation: int = 1) -> int:
    """Number of real input cells (of one row) that no window of a conv/pool layer reads.

    Non-zero when the stride skips over cells, or the last cells do not fill a window.
    """
    out = conv_output_size(size, kernel, stride, padding, dilation)
    read: set[int] = set()
    for o in range(out):
        start = o * stride - padding
        read.update(start + k * dilation for k in range(kernel))
    return sum(1 for i in range(size) if i not in read)


def formula_latex(kind: LayerKind, size: int, kernel: int, stride: int | None = None, padding: int = 0,
                  dilation: int = 1, ceil_mode: bool = False, output_padding: int = 0) -> tuple[str, str]:
    """The formula of a layer kind in symbols and with the numbers substituted (no result).

    Returns ``(symbolic, substituted)`` LaTeX strings, e.g. for a conv layer
    ``\\left\\lfloor \\frac{W + 2P - D(F-1) - 1}{S} \\right\\rfloor + 1`` and
    ``\\left\\lfloor \\frac{28 + 2\\cdot 2 - 1\\cdot(5-1) - 1}{1} \\right\\rfloor + 1``.
    """
    s = (kernel if kind in ("maxpool", "avgpool") else 1) if stride is None else stride
    if kind == "convtranspose":
        symbolic = r"O = (W - 1)\,S - 2P + D\,(F-1) + P_{out} + 1"
        substituted = (rf"O = ({size} - 1)\cdot {s} - 2\cdot {padding} + {dilation}\cdot({kernel}-1)"
                       rf" + {output_padding} + 1")
        return symbolic, substituted
    bracket = (r"\left\lceil", r"\right\rceil") if ceil_mode else (r"\left\lfloor", r"\right\rfloor")
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


def receptive_fields(layers: Iterable[tuple[int, int, int, int]]) -> list[ReceptiveField]:
    """Receptive field after each layer of a stack given as ``(kernel, stride, padding, dilation)``.

    r_out = r_in + (D(F−1)+1 − 1)·j_in, j_out = j_in·S, start_out = start_in + ((D(F−1)+1 − 1)/2 − P)·j_in.
    """
    size, jump, start = 1, 1, 0.5
    fields = []
    for kernel, stride, padding, dilation in layers:
        span = _effective_kernel(kernel, dilation)
        size = size + (span - 1) * jump
        start = start + ((span - 1) / 2 - padding) * jump
        jump = jump * stride
        fields.append(ReceptiveField(size, jump, start))
    return fields
