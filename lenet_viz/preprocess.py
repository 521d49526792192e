"""Drawings, uploads and samples → the network's input, the way MNIST digits were made.

MNIST's recipe: crop the digit to its ink, scale the longest side to 20 pixels keeping the
aspect ratio (anti-aliased), then place it in a 28×28 field so that its centre of mass sits in
the middle. Every step is kept in :class:`Prepared` so the page can show it. Pixels stay
``uint8`` (white ink on black) until :func:`to_tensor`, which uses :func:`lenet_viz.data.to_input`.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from lenet_viz.errors import LenetVizError

if TYPE_CHECKING:
    import torch

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # as server.maxUploadSize in .streamlit/config.toml
MAX_UPLOAD_PIXELS = 40_000_000
MAX_SIDE = 1024  # larger pictures are first reduced by a whole factor: cheap, and the input is 28 px anyway
INK_LEVEL = 0.2  # share of the brightest pixel above which a pixel counts as ink when cropping
EMPTY_LEVEL = 16  # a picture whose brightest pixel is dimmer than this (of 255) is empty


class ImageError(LenetVizError, ValueError):
    """An upload that cannot become an input; the message is fit for the user."""


@dataclass(frozen=True)
class Prepared:
    """Each step from a picture to the network input (all ``uint8``, white ink on black)."""

    source: np.ndarray  # H×W, the picture as drawn or uploaded
    bbox: tuple[int, int, int, int]  # top, left, bottom, right (exclusive) of the ink in ``source``
    scaled: np.ndarray  # the crop with its longest side scaled to the box size
    offset: tuple[int, int]  # where ``scaled`` was placed (row, column)
    image: np.ndarray  # size×size, the network input

    def boxed(self) -> np.ndarray:
        """``scaled`` centred in a black square as large as its longest side (the 20×20 box)."""
        h, w = self.scaled.shape
        side = max(h, w)
        out = np.zeros((side, side), np.uint8)
        out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = self.scaled
        return out


def rgba_to_gray(pixels: np.ndarray) -> np.ndarray:
    """A canvas image (H×W×4 RGBA, H×W×3 or H×W) → H×W ``uint8`` ink, composited over black."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        return arr.astype(np.uint8, copy=False)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ImageError(f"expected an H×W×3 or H×W×4 image, got shape {arr.shape}.")
    rgb = arr[..., :3].astype(np.float32)
    gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if arr.shape[2] == 4:
        gray *= arr[..., 3].astype(np.float32) / 255.0
    return np.clip(gray + 0.5, 0, 255).astype(np.uint8)


def ink_bbox(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (top, left, bottom, right) of the ink, or ``None`` for an empty picture."""
    peak = int(gray.max(initial=0))
    if peak < EMPTY_LEVEL:
        return None
    rows = np.flatnonzero((gray > peak * INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((gray > peak * INK_LEVEL).any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, column) of an image; its centre if it is all black."""
    weights = image.astype(np.float64)
    total = weights.sum()
    if total == 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows = np.arange(image.shape[0]) @ weights.sum(axis=1) / total
    cols = np.arange(image.shape[1]) @ weights.sum(axis=0) / total
    return float(rows), float(cols)


MNIST_FILL = 20 / 28  # MNIST digits fill a 20×20 box of the 28×28 image
FASHION_FILL = 1.0  # Fashion-MNIST items fill the image along their longest side


def mnist_style(gray: np.ndarray, size: int = 28, fill: float = MNIST_FILL) -> Prepared | None:
    """Crop to the ink, scale the longest side to ``fill`` of the image (20 of 28 px as MNIST),
    centre by centre of mass; ``None`` if empty."""
    bbox = ink_bbox(gray)
    if bbox is None:
        return None
    top, left, bottom, right = bbox
    crop = gray[top:bottom, left:right]
    box = max(1, round(size * fill))
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    scaled = np.asarray(Image.fromarray(crop).resize((new_w, new_h), resample))
    cy, cx = center_of_mass(scaled)
    row = int(np.clip(round((size - 1) / 2 - cy), 0, size - new_h))
    col = int(np.clip(round((size - 1) / 2 - cx), 0, size - new_w))
    image = np.zeros((size, size), dtype=np.uint8)
    image[row:row + new_h, col:col + new_w] = scaled
    return Prepared(gray, bbox, scaled, (row, col), image)


def as_input(image: np.ndarray, size: int = 28) -> Prepared:
    """An image already in MNIST form (a bundled sample): resized only if the network needs it."""
    if image.shape != (size, size):
        image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
    return Prepared(image, (0, 0, *image.shape), image, (0, 0), image)


def _first_frame_gray(img: Image.Image) -> np.ndarray:
    """Any PIL mode → ``uint8`` gray, with transparency composited behind the ink."""
    img.seek(0)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img.convert("F") if img.mode != "F" else img, dtype=np.float64)
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(arr.min()), float(arr.max())
        return np.zeros(arr.shape, np.uint8) if high <= low else ((arr - low) * (255 / (high - low))).astype(np.uint8)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3:] / 255.0
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        opaque = alpha[..., 0] > 0.5
        ink_is_dark = opaque.any() and gray[opaque].mean() < 128
        behind = 255.0 if ink_is_dark else 0.0  # a background the ink stands out from
        return np.clip(gray * alpha[..., 0] + behind * (1 - alpha[..., 0]) + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(img.convert("L"))


def _reduced(img: Image.Image) -> Image.Image:
    """A picture whose longest side exceeds :data:`MAX_SIDE`, shrunk by a whole factor (box average)
    before any float conversion: a small PNG of a huge flat picture must not cost gigabytes."""
    factor = math.ceil(max(img.size) / MAX_SIDE)
    if factor <= 1:
        return img
    if img.mode in ("1", "P", "PA") or img.mode.startswith("I;16"):  # averaging needs real levels
        alpha = "A" in img.mode or "transparency" in img.info
        img = img.convert("I" if img.mode.startswith("I;16") else "RGBA" if alpha else "L")
    return img.reduce(factor)


def light_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a dark-on-light picture (judged by its border), drop the paper's level and noise, and
    stretch the ink to 0…255."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray = 255 - gray
        border = 255 - border
    median = float(np.median(border))
    background = median + 3.7 * float(np.median(np.abs(border - median)))  # 2.5 σ above the paper, robustly
    ink = gray.astype(np.float32) - background
    peak = float(ink.max(initial=0))
    if peak < EMPTY_LEVEL:
        return np.zeros(gray.shape, np.uint8)
    return np.clip(ink * (255 / peak), 0, 255).astype(np.uint8)


def load_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS) -> np.ndarray:
    """An uploaded picture of any size and mode → ``uint8`` light-on-dark gray; raises :class:`ImageError`."""
    if len(data) > max_bytes:
        raise ImageError.keyed("error.file_too_large", size=f"{len(data) / 1e6:.1f}", limit=f"{max_bytes / 1e6:.0f}")
    if not data:
        raise ImageError.keyed("error.file_empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_pixels:
                raise ImageError.keyed("error.too_many_pixels", width=img.width, height=img.height,
                                       limit=f"{max_pixels / 1e6:.0f}")
            if img.format == "JPEG":
                img.draft(img.mode, (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
            img.seek(0)
            small = _reduced(img)
            gray = _first_frame_gray(ImageOps.exif_transpose(small) or small)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError.keyed("error.not_a_picture") from None
    except (Image.DecompressionBombError, MemoryError):
        raise ImageError.keyed("error.picture_too_large") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise many kinds for damaged files
        raise ImageError.keyed("error.undecodable", reason=str(exc)[:120] or type(exc).__name__) from None
    return light_on_dark(gray)


def to_tensor(image: np.ndarray, in_channels: int = 1) -> torch.Tensor:
    """A ``uint8`` H×W input → float 1×C×H×W in [0, 1] (the gray repeated for C > 1). The one function
    here that needs torch, imported here: Feature maps prepares its input before torch is loaded."""
    import torch

    from lenet_viz.data import to_input

    x = to_input(torch.tensor(image, dtype=torch.uint8)[None])
    return x.repeat(1, in_channels, 1, 1) if in_channels > 1 else x


def enlarge(image: np.ndarray, size: int = 140) -> np.ndarray:
    """Scale a small image up with square pixels (nearest neighbour) for display."""
    factor = max(1, size // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def outline(gray: np.ndarray, bbox: tuple[int, int, int, int], size: int = 140) -> np.ndarray:
    """A picture shrunk to ``size`` px (RGB) with its ink box drawn in amber, for display."""
    scale = size / max(gray.shape)
    shape = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    img = Image.fromarray(gray).resize(shape, Image.Resampling.BOX).convert("RGB")
    top, left, bottom, right = (round(v * scale) for v in bbox)
    ImageDraw.Draw(img).rectangle((left, top, max(left, right - 1), max(top, bottom - 1)), outline=(255, 176, 0))
    return np.asarray(img)
