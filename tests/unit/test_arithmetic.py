"""lenet_viz.arithmetic against real PyTorch layers over many random settings."""

import random

import pytest
import torch
from torch import nn

from lenet_viz.arithmetic import (
    Layer,
    LayerError,
    conv_output_size,
    conv_transpose_output_size,
    formula_latex,
    output_size,
    pool_output_size,
    receptive_fields,
)

SETTINGS = 400


def torch_size(layer: nn.Module, size: int, channels: int = 1) -> int | None:
    """Output width PyTorch gives, or None when PyTorch refuses the setting."""
    try:
        with torch.no_grad():
            out = layer(torch.zeros(1, channels, size, size))
    except (RuntimeError, ValueError):
        return None
    return out.shape[-1] if out.numel() else None


def ours(fn, *args, **kwargs) -> int | None:
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


def test_seed_shapes():
    # The seed's classic network: 28 -pad2 conv5-> 28 -pool2-> 14 -conv5-> 10 -pool2-> 5.
    assert conv_output_size(28, 5, padding=2) == 28
    assert pool_output_size(28, 2, 2) == 14
    assert conv_output_size(14, 5) == 10
    assert pool_output_size(10, 2, 2) == 5
    # The second network (no padding): 28 -> 24 -> 12 -> 8 -> 4, hence 16*4*4.
    assert [conv_output_size(28, 5), pool_output_size(24, 2), conv_output_size(12, 5), pool_output_size(8, 2)] == [
        24, 12, 8, 4]


@pytest.mark.slow
def test_conv_matches_torch():
    rng = random.Random(1)
    agree = refused = 0
    for _ in range(SETTINGS):
        size, k, s = rng.randint(1, 20), rng.randint(1, 7), rng.randint(1, 4)
        p, d = rng.randint(0, 4), rng.randint(1, 3)
        expected = torch_size(nn.Conv2d(1, 1, k, s, p, d), size)
        assert ours(conv_output_size, size, k, s, p, d) == expected, (size, k, s, p, d)
        agree += expected is not None
        refused += expected is None
    assert agree > 100 and refused > 20  # both kinds of case were exercised


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_torch(kind):
    rng = random.Random(2)
    agree = refused = ceil_dropped = 0
    for _ in range(SETTINGS):
        size, k, s, p = rng.randint(1, 20), rng.randint(1, 6), rng.randint(1, 5), rng.randint(0, 3)
        d = rng.randint(1, 3) if kind == "max" else 1
        ceil = rng.random() < 0.5
        if kind == "max":
            layer = nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
        else:
            layer = nn.AvgPool2d(k, s, p, ceil_mode=ceil)
        expected = torch_size(layer, size)
        got = ours(pool_output_size, size, k, s, p, d, ceil)
        assert got == expected, (kind, size, k, s, p, d, ceil)
        agree += expected is not None
        refused += expected is None
        if ceil and got is not None:
            plain = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
            ceil_dropped += plain != got
    assert agree > 100 and refused > 20 and ceil_dropped > 0


def test_ceil_mode_drops_a_window_starting_in_right_padding():
    # size 5, kernel 2, stride 2, padding 1: ceil((5+2-2)/2)+1 = 4, but the 4th window would start
    # at padded index 6, inside the right padding, so PyTorch gives 3.
    assert pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == 3
    assert nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape[-1] == 3


@pytest.mark.slow
def test_conv_transpose_matches_torch():
    rng = random.Random(3)
    agree = refused = 0
    for _ in range(SETTINGS):
        size, k, s, p = rng.randint(1, 12), rng.randint(1, 6), rng.randint(1, 4), rng.randint(0, 4)
        op, d = rng.randint(0, 3), rng.randint(1, 3)
        expected = torch_size(nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d), size)
        assert ours(conv_transpose_output_size, size, k, s, p, op, d) == expected, (size, k, s, p, op, d)
        agree += expected is not None
        refused += expected is None
    assert agree > 100 and refused > 20


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: conv_output_size(5, 7), "kernel size"),
        (lambda: conv_output_size(5, 3, stride=0), "stride"),
        (lambda: conv_output_size(5, 3, padding=-1), "padding"),
        (lambda: conv_output_size(5, 3, dilation=0), "dilation"),
        (lambda: pool_output_size(8, 2, 2, padding=2), "padding"),
        (lambda: pool_output_size(3, 6, 1, padding=1), "kernel size"),
        (lambda: conv_transpose_output_size(4, 3, 2, output_padding=2), "output padding"),
        (lambda: conv_transpose_output_size(1, 1, 1, padding=1), "padding"),
        (lambda: output_size("avgpool", 8, 2, dilation=2), "dilation"),
    ],
)
def test_errors_name_the_parameter(call, words):
    with pytest.raises(LayerError, match=words):
        call()


def test_formula_substitutes_the_numbers():
    symbolic, substituted = formula_latex(Layer("conv", 5, 1, 2), 28)
    assert "W + 2P" in symbolic and "lfloor" in symbolic
    assert "28 + 2\\cdot 2 - 1\\cdot(5-1) - 1" in substituted and "{1}" in substituted
    symbolic, substituted = formula_latex(Layer("maxpool", 2, None, ceil_mode=True), 28)
    assert "lceil" in symbolic and "{2}" in substituted  # stride defaults to the kernel
    symbolic, substituted = formula_latex(Layer("convtranspose", 3, 2, 1, output_padding=1), 4)
    assert "P_{out}" in symbolic and "(4 - 1)\\cdot 2" in substituted


def test_receptive_field_of_classic_lenet():
    # conv5 p2, pool2, conv5, pool2: each unit of the last pooling layer sees 16x16 input pixels.
    lenet = [Layer("conv", 5, 1, 2), Layer("avgpool", 2, 2), Layer("conv", 5), Layer("avgpool", 2, 2)]
    fields = receptive_fields(lenet)
    assert [(f.size, f.jump) for f in fields] == [(5, 1), (6, 2), (14, 2), (16, 4)]
    assert fields[0].start == 0.5 - 2 + 2  # first conv unit centred on pixel 0's centre


def test_receptive_field_matches_gradient_support():
    """The receptive field size equals the input region a unit's gradient touches."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2), nn.AvgPool2d(2, 2), nn.Conv2d(1, 1, 3, stride=2))
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0)
    x = torch.rand(1, 1, 40, 40, requires_grad=True)
    out = net(x)
    out[0, 0, 1, 1].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    size = rows.max().item() - rows.min().item() + 1
    field = receptive_fields([Layer("conv", 3, dilation=2), Layer("avgpool", 2, 2), Layer("conv", 3, 2)])[-1]
    assert size == field.size
