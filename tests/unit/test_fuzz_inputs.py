"""Fuzz: many generated bad pictures and checkpoints through the functions the pages call.

Every input must become a valid network input (or a valid model), be found blank, or raise the
project's clear error type (:class:`ImageError`, :class:`CheckpointError`): never anything else.
``COUNTS`` tallies what was tried; the module prints it when its tests are done (``pytest -s``). Each
fuzz test also asserts its own share of the tally: that most of its examples ran and that they reached
each outcome it exists to exercise (a loader that refused every checkpoint would still give only
"clear errors", and a strategy filtered down to a few examples would prove little).
"""

import io
import os
import struct
import zipfile
import zlib
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from lenet_viz import activations, preprocess
from lenet_viz.checkpoints import CheckpointError, check_upload, checkpoint_bytes, load_checkpoint
from lenet_viz.history import Progress, take_snapshot
from lenet_viz.models import PRESETS, build_model

COUNTS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def print_tally():
    """Print what was tried once this module's tests are done, in whatever order they ran."""
    yield
    print(f"\nfuzz tally ({sum(COUNTS.values())} inputs):")
    for key, n in sorted(COUNTS.items()):
        print(f"  {n:5d}  {key}")


def outcomes_of(fuzz) -> Counter:
    """Run a Hypothesis-decorated function; the outcomes its examples added to ``COUNTS``."""
    before = COUNTS.copy()
    fuzz()
    return COUNTS - before


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                database=None, derandomize=True)
MODES = ["1", "L", "P", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "I", "F", "I;16", "I;16B", "LA", "PA", "La",
         "RGBa"]
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO", "TGA", "PCX"]


def upload_to_input(data: bytes) -> torch.Tensor | None:
    """What the Feature maps page does with an uploaded picture; None when the picture is blank."""
    prepared = preprocess.mnist_style(preprocess.load_upload(data), 28)
    return None if prepared is None else preprocess.to_tensor(prepared.image, 1)


def check_upload_outcome(data: bytes, kind: str) -> str:
    try:
        x = upload_to_input(data)
    except preprocess.ImageError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        outcome = "clear error"
    else:
        if x is None:
            outcome = "blank"
        else:
            assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
            assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
            outcome = "input"
    COUNTS[f"picture {kind}: {outcome}"] += 1
    return outcome


@pytest.mark.slow
def test_random_bytes_never_crash():
    @FUZZ
    @given(st.binary(max_size=2048))
    def fuzz(data):
        check_upload_outcome(data, "random bytes")

    tally = outcomes_of(fuzz)
    assert tally["picture random bytes: clear error"] >= 100, tally  # the decoders' refusals were reached


def encoded(mode: str, fmt: str, w: int, h: int, seed: int, frames: int) -> bytes | None:
    """A noisy picture in ``mode`` with a bright blob (ink) somewhere, saved as ``fmt``."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
    top, left = rng.integers(0, h), rng.integers(0, w)
    pixels[top:top + max(1, h // 3), left:left + max(1, w // 4)] = rng.integers(150, 256, 3)
    rgb = Image.fromarray(pixels)
    try:
        img = rgb.convert(mode)
        extra = [rgb.rotate(90 * i).convert(mode) for i in range(1, frames)]
        out = io.BytesIO()
        img.save(out, fmt, **({"save_all": True, "append_images": extra} if extra else {}))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # Pillow cannot write this mode in this format: nothing to test
    return out.getvalue()


WRITABLE = [(m, f) for m in MODES for f in FORMATS if encoded(m, f, 2, 2, 0, 1) is not None]


@FUZZ
@given(mode_fmt=st.sampled_from(WRITABLE),
       w=st.one_of(st.integers(1, 8), st.integers(9, 300)), h=st.one_of(st.integers(1, 8), st.integers(9, 300)),
       seed=st.integers(0, 2**16), frames=st.sampled_from([1, 1, 3]),
       damage=st.sampled_from(["none", "truncate", "flip bytes"]), where=st.floats(0.0, 1.0))
def fuzz_generated_pictures(mode_fmt, w, h, seed, frames, damage, where):
    mode, fmt = mode_fmt
    data = encoded(mode, fmt, w, h, seed, frames)
    if data is None:  # e.g. more frames than the format takes
        data = encoded(mode, fmt, w, h, seed, 1)
    assume(data is not None)  # e.g. a size the format cannot hold (ICO: at most 256 px)
    if damage == "truncate":
        data = data[:int(len(data) * where)]
    elif damage == "flip bytes":
        buf = bytearray(data)
        rng = np.random.default_rng(seed)
        for i in rng.integers(0, len(buf), 8):
            buf[i] ^= 0xFF
        data = bytes(buf)
    outcome = check_upload_outcome(data, f"generated, {damage}")
    if damage == "none" and fmt in ("PNG", "TIFF") and mode not in ("LAB", "HSV"):
        assert outcome != "clear error", f"a valid {mode} {fmt} {w}×{h} picture was refused"


@pytest.mark.slow
def test_generated_pictures_become_inputs_or_clear_errors():
    tally = outcomes_of(fuzz_generated_pictures)
    by_outcome = Counter({outcome: sum(n for key, n in tally.items() if key.endswith(f": {outcome}"))
                          for outcome in ("input", "blank", "clear error")})
    assert by_outcome["input"] >= 20 and by_outcome["clear error"] >= 20 and by_outcome["blank"] >= 1, tally
    assert by_outcome.total() >= 100, tally  # most examples got past the filters


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("w, h", [(100_000, 100_000), (20_000, 20_000), (7_000, 7_000), (2**31 - 1, 1)])
def test_decompression_bomb_headers_are_refused(w, h):
    with pytest.raises(preprocess.ImageError, match="too large|million pixels"):
        upload_to_input(png_claiming(w, h))
    COUNTS["picture decompression-bomb header: clear error"] += 1


@pytest.mark.slow
def test_a_real_bomb_of_flat_pixels_is_cheap():
    """A 6000×6000 RGBA PNG is 150 kB on disk: it is shrunk before any float conversion."""
    img = Image.new("RGBA", (6000, 6000), (0, 0, 0, 0))
    img.paste((255, 255, 255, 255), (2000, 1500, 4000, 4500))
    out = io.BytesIO()
    img.save(out, "PNG")
    x = upload_to_input(out.getvalue())
    assert x is not None and x.max() == 1
    COUNTS["picture 6000×6000 flat RGBA: input"] += 1


def test_oversized_uploads_are_refused_in_code():
    with pytest.raises(preprocess.ImageError, match="MB"):
        preprocess.load_upload(b"\0" * (preprocess.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(CheckpointError, match="MB"):
        check_upload(b"\0" * (5 * 1024 * 1024 + 1))
    COUNTS["oversized uploads: clear error"] += 2


# --- checkpoints ---------------------------------------------------------------------------------

SPEC = PRESETS["modern"]
MODEL = build_model(SPEC)
GOOD = checkpoint_bytes(MODEL, SPEC, "mnist", tuple("0123456789"),
                        [Progress(epoch=1.0, step=1, total_steps=1, train_loss=0.5, train_acc=0.8, test_acc=0.8,
                                  examples_per_sec=1.0, elapsed_s=1.0)], {"model": "modern"},
                        [take_snapshot(MODEL, 0, 0.0, None, None, None), take_snapshot(MODEL, 1, 1.0, 0.5, 0.8, 0.8)])
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=4),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
                 st.sampled_from([torch.zeros(3), torch.full((2, 2), float("nan")),
                                  torch.ones(10, 10, dtype=torch.int64), torch.tensor(1e30)]))


def page_uses(ckpt) -> None:
    """What the Feature maps page does with a loaded checkpoint."""
    acc = f"{ckpt.test_acc:.1%}" if ckpt.test_acc is not None else ""
    caption = f"{ckpt.dataset} {ckpt.spec.activation} {acc}"
    size = ckpt.spec.input_size
    acts = activations.run(ckpt.model, ckpt.spec, preprocess.to_tensor(np.zeros((size, size), np.uint8),
                                                                       ckpt.spec.in_channels))
    assert caption and ckpt.classes[acts.prediction]


def check_checkpoint_outcome(data: bytes, kind: str) -> None:
    try:
        ckpt = load_checkpoint(data)
    except CheckpointError as exc:
        assert "The uploaded file" in str(exc)
        COUNTS[f"checkpoint {kind}: clear error"] += 1
    else:
        page_uses(ckpt)
        COUNTS[f"checkpoint {kind}: loaded and used"] += 1


def mutate(raw: dict, path: list, value) -> None:
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value


PATHS = [["format"], ["spec"], ["spec", "conv"], ["spec", "conv", 0, "out_channels"], ["spec", "conv", 1, "kernel"],
         ["spec", "conv", 0, "stride"], ["spec", "conv", 0, "pool"], ["spec", "hidden"], ["spec", "activation"],
         ["spec", "input_size"], ["spec", "in_channels"], ["spec", "num_classes"], ["state_dict"],
         ["state_dict", "conv1.weight"], ["state_dict", "fc3.bias"], ["classes"], ["history"], ["history", 0],
         ["history", 0, "test_acc"], ["config"], ["dataset"], ["created"], ["snapshots"], ["snapshots", 0],
         ["snapshots", 1, "step"], ["snapshots", 0, "epoch"], ["snapshots", 1, "loss"], ["snapshots", 1, "test_acc"],
         ["snapshots", 0, "state_dict"], ["snapshots", 1, "state_dict", "fc3.weight"],
         ["snapshots", 0, "state_dict", "conv1.bias"]]


@pytest.mark.slow
def test_mutated_checkpoints_load_or_give_clear_errors():
    @FUZZ
    @given(path=st.sampled_from(PATHS), value=st.one_of(JUNK, st.just(KeyError), st.integers(0, 5000)))
    def fuzz(path, value):
        raw = torch.load(io.BytesIO(GOOD), weights_only=True)
        mutate(raw, path, value)
        out = io.BytesIO()
        torch.save(raw, out)
        check_checkpoint_outcome(out.getvalue(), "field mutation")

    tally = outcomes_of(fuzz)
    # most mutations break the file, some are harmless (a date, a history value): both paths were taken
    assert tally["checkpoint field mutation: clear error"] >= 50, tally
    assert tally["checkpoint field mutation: loaded and used"] >= 5, tally


@pytest.mark.slow
def test_damaged_checkpoint_files_give_clear_errors():
    @FUZZ
    @given(cut=st.floats(0.0, 1.0), flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=6))
    def fuzz(cut, flips):
        buf = bytearray(GOOD[:max(1, int(len(GOOD) * cut))] if cut < 0.98 else GOOD)
        for where, xor in flips:
            buf[min(int(where * len(buf)), len(buf) - 1)] ^= xor
        check_checkpoint_outcome(bytes(buf), "damaged bytes")

    tally = outcomes_of(fuzz)
    assert tally["checkpoint damaged bytes: clear error"] >= 100, tally  # the damage reached the loader's checks


@pytest.mark.slow
def test_random_bytes_as_a_checkpoint_are_damaged_not_dangerous():
    @FUZZ
    @given(st.binary(max_size=4096))
    def fuzz(data):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(data)
        assert "damaged or incomplete" in str(info.value) and "could run code" not in str(info.value)
        COUNTS["checkpoint random bytes: damaged"] += 1

    assert outcomes_of(fuzz)["checkpoint random bytes: damaged"] >= 100


class Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_payloads_never_run(tmp_path):
    marker = tmp_path / "pwned"
    raw = torch.load(io.BytesIO(GOOD), weights_only=True)
    for where in (["spec"], ["config"], ["history", 0], ["state_dict", "fc3.bias"], ["classes"],
                  ["snapshots", 0, "state_dict", "fc3.bias"], ["snapshots", 1]):
        hostile = torch.load(io.BytesIO(GOOD), weights_only=True)
        mutate(hostile, where, Payload(str(marker)))
        out = io.BytesIO()
        torch.save(hostile, out)
        with pytest.raises(CheckpointError, match="could run code"):
            load_checkpoint(out.getvalue())
        COUNTS["checkpoint pickle payload: clear error"] += 1
    assert not marker.exists() and raw["format"] == "lenet-viz/1"


@pytest.mark.slow
def test_a_zip_bomb_and_a_huge_network_spec_are_refused_before_use():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, ~300 kB packed
    assert len(bomb.getvalue()) < 1_000_000
    with pytest.raises(CheckpointError, match="unpacks to"):
        load_checkpoint(bomb.getvalue())
    for field, value in (("input_size", 100_000), ("hidden", [10**9, 84])):
        raw = torch.load(io.BytesIO(GOOD), weights_only=True)
        raw["spec"][field] = value
        if field == "input_size":
            raw["spec"]["conv"][0].update(kernel=1, stride=5000)
        out = io.BytesIO()
        torch.save(raw, out)
        with pytest.raises(CheckpointError, match="at most|parameters"):
            load_checkpoint(out.getvalue())
    COUNTS["checkpoint zip bomb / huge spec: clear error"] += 3
