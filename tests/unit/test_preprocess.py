"""Drawings and uploads become MNIST-style inputs; bad uploads give clear errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from lenet_viz import preprocess
from lenet_viz.preprocess import ImageError, center_of_mass, load_upload, mnist_style


def canvas(lines, size=280, width=20) -> np.ndarray:
    """An RGBA canvas like streamlit-drawable-canvas sends: white strokes on opaque black."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    ImageDraw.Draw(img).line(lines, fill=(255, 255, 255, 255), width=width)
    return np.asarray(img)


def encode(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def dark_digit(size=(300, 200), background=230, ink=20) -> Image.Image:
    """A dark 7 on light paper, as a photo or scan of a digit looks."""
    img = Image.new("L", size, background)
    ImageDraw.Draw(img).line([(60, 40), (240, 40), (130, 180)], fill=ink, width=16)
    return img


def test_rgba_composites_over_black():
    pixels = np.zeros((2, 2, 4), np.uint8)
    pixels[0, 0] = (255, 255, 255, 255)  # opaque white ink
    pixels[0, 1] = (255, 255, 255, 0)  # transparent: no ink
    pixels[1, 0] = (255, 255, 255, 128)  # half transparent
    gray = preprocess.rgba_to_gray(pixels)
    assert gray[0, 0] == 255 and gray[0, 1] == 0 and 126 <= gray[1, 0] <= 130 and gray[1, 1] == 0


def test_empty_canvas_is_none():
    assert mnist_style(preprocess.rgba_to_gray(np.zeros((280, 280, 4), np.uint8))) is None
    faint = np.full((280, 280), preprocess.EMPTY_LEVEL - 1, np.uint8)
    assert mnist_style(faint) is None


def test_drawn_seven_becomes_mnist_style():
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(70, 60), (210, 60), (120, 240)])))
    assert prepared.image.shape == (28, 28) and prepared.image.dtype == np.uint8
    assert max(prepared.scaled.shape) == 20
    top, left, bottom, right = prepared.bbox
    assert (top, left, bottom, right) == (51, 70, 245, 220)  # 20 px strokes from (70, 60) to (120, 240)
    cy, cx = center_of_mass(prepared.image)
    assert abs(cy - 13.5) <= 0.6 and abs(cx - 13.5) <= 0.6


def test_aspect_ratio_is_kept():
    """A tall thin stroke stays tall and thin: 20 px high, a few wide, not stretched to 20×20."""
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(140, 30), (140, 250)], width=24)))
    height, width = prepared.scaled.shape
    assert height == 20 and 1 <= width <= 4


def test_fashion_fill_uses_the_whole_image():
    """Fashion-MNIST items fill the image along their longest side, not a 20 px box."""
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(140, 30), (140, 250)], width=24)),
                           fill=preprocess.FASHION_FILL)
    assert prepared.scaled.shape[0] == 28 and (prepared.image > 0).any(axis=1).all()  # ink in every row


def test_ink_in_a_corner_is_moved_to_the_centre_whole():
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(5, 5), (60, 5), (30, 70)])))
    assert prepared.image.sum() == prepared.scaled.astype(np.int64).sum()  # nothing cut off
    cy, cx = center_of_mass(prepared.image)
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.integers(0, 80), st.integers(0, 80), st.integers(40, 255))
def test_any_blob_fits_and_is_centred(h, w, top, left, level):
    gray = np.zeros((280, 280), np.uint8)
    gray[top:top + h, left:left + w] = level
    prepared = mnist_style(gray)
    assert max(prepared.scaled.shape) == 20
    row, col = prepared.offset
    sh, sw = prepared.scaled.shape
    assert 0 <= row <= 28 - sh and 0 <= col <= 28 - sw
    assert prepared.image.astype(np.int64).sum() == prepared.scaled.astype(np.int64).sum()
    cy, cx = center_of_mass(prepared.image)
    assert abs(cy - 13.5) <= 4.5 and abs(cx - 13.5) <= 4.5  # a very flat blob can only move so far


def test_other_input_sizes_scale_the_box():
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(140, 30), (140, 250)])), size=32)
    assert prepared.image.shape == (32, 32) and max(prepared.scaled.shape) == round(32 * 20 / 28)


def test_to_tensor_matches_training_normalisation():
    image = np.array([[0, 255], [51, 102]], np.uint8)
    x = preprocess.to_tensor(image)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    assert torch.allclose(x[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    assert preprocess.to_tensor(image, in_channels=3).shape == (1, 3, 2, 2)


def test_as_input_keeps_or_resizes_samples():
    sample = np.arange(784, dtype=np.uint8).reshape(28, 28)
    assert np.array_equal(preprocess.as_input(sample).image, sample)
    assert preprocess.as_input(sample, 32).image.shape == (32, 32)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "1", "CMYK", "I;16", "RGBA", "LA"])
def test_dark_on_light_uploads_of_any_mode_are_inverted(mode):
    img = dark_digit()
    if mode == "I;16":
        img = Image.fromarray(np.asarray(img).astype(np.uint16) * 257)
    else:
        img = img.convert(mode)
    gray = load_upload(encode(img, "JPEG" if mode == "CMYK" else "PNG"))
    assert gray.shape == (200, 300)
    assert gray[5, 5] < 30  # the light paper became the black background
    assert gray[40, 150] > 200  # the dark ink became bright


def test_photo_noise_is_removed():
    rng = np.random.default_rng(0)
    noisy = np.clip(np.asarray(dark_digit(), float) + rng.normal(0, 8, (200, 300)), 0, 255).astype(np.uint8)
    gray = load_upload(encode(Image.fromarray(noisy).convert("RGB"), "JPEG", quality=85))
    assert np.median(gray) == 0 and gray[40, 150] > 200


def test_transparent_backgrounds():
    """Ink on a transparent background, dark or light, always comes out light on black."""
    for ink in ((0, 0, 0, 255), (255, 255, 255, 255)):
        img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
        ImageDraw.Draw(img).line([(20, 50), (80, 50)], fill=ink, width=10)
        gray = load_upload(encode(img))
        assert gray[50, 50] > 200 and gray[5, 5] < 30


def test_palette_with_transparency():
    img = dark_digit().convert("P")
    img.info["transparency"] = img.getpixel((0, 0))
    gray = load_upload(encode(img, transparency=img.getpixel((0, 0))))
    assert gray[40, 150] > 200 and gray[5, 5] < 30


def test_animated_gif_uses_first_frame():
    first = dark_digit().convert("P")
    blank = Image.new("L", (300, 200), 230).convert("P")
    data = encode(first, "GIF", save_all=True, append_images=[blank], duration=100, loop=0)
    assert load_upload(data)[40, 150] > 200


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"this is not a picture at all", "not a picture"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a picture"),
])
def test_bad_files_give_clear_messages(data, message):
    with pytest.raises(ImageError, match=message):
        load_upload(data)


def test_truncated_png_gives_clear_message():
    data = encode(dark_digit())
    with pytest.raises(ImageError, match="could not be decoded"):
        load_upload(data[: len(data) // 2])


def test_too_large_files_and_pictures_are_refused():
    data = encode(dark_digit())
    with pytest.raises(ImageError, match="MB"):
        load_upload(data, max_bytes=len(data) - 1)
    with pytest.raises(ImageError, match="million pixels"):
        load_upload(data, max_pixels=300 * 200 - 1)


def test_display_helpers():
    assert preprocess.enlarge(np.ones((28, 28), np.uint8), 140).shape == (140, 140)
    shown = preprocess.outline(np.zeros((280, 200), np.uint8), (10, 20, 100, 120), 140)
    assert shown.shape == (140, 100, 3) and tuple(shown[5, 20]) == (255, 176, 0)


def test_boxed_shows_the_scaled_digit_in_its_square():
    prepared = mnist_style(preprocess.rgba_to_gray(canvas([(140, 30), (140, 250)], width=24)))
    boxed = prepared.boxed()
    assert boxed.shape == (20, 20) and boxed.sum() == prepared.scaled.astype(np.int64).sum()
