"""The Teach page's library: a learner's own classes and drawings, kept as a zip, and the network the
browser trained on them, kept as a checkpoint together with those drawings (the Train page continues
it on them).

The browser does the drawing and the training (``lenet_viz/netview/teach.js``); the server sees the
examples only when a zip is uploaded and the network only when the learner saves it. Both come from
anyone, so everything here is checked before it is used: :class:`TeachError` says what is wrong in
words fit for the page, and nothing half-read is ever returned.

The examples zip holds ``labels.json`` (the format tag, the class names in order, and one
``{"file", "class"}`` record per example) and one 28×28 gray PNG per example under ``images/``
(the network's input as the pad prepared it: light ink on black). File names inside the zip never
come from class names, so unzipping it elsewhere cannot write outside its folder.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import posixpath
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from lenet_viz.checkpoints import MAX_KEPT_EXAMPLES, CheckpointError, KeptExamples, checkpoint_bytes, load_checkpoint
from lenet_viz.errors import LenetVizError
from lenet_viz.history import (
    DEFAULT_SNAPSHOTS,
    HistoryError,
    Snapshot,
    bounded_snapshots,
    parse_history,
    thin,
    with_train_points,
)
from lenet_viz.i18n import Msg
from lenet_viz.models import LeNetSpec, SpecError, layer_plan
from lenet_viz.netview_payload import tensor_layout
from lenet_viz.preprocess import MAX_UPLOAD_BYTES

FORMAT = "lenet-viz-teach/1"
LABELS_FILE = "labels.json"
IMAGES_DIR = "images"
DATASET = "drawings"  # what a taught checkpoint says it was trained on
EXAMPLE_SIZE = 28  # the pad's drawings become the network's 28×28 input, as on Feature maps
MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_EXAMPLES_PER_CLASS = 5  # Train asks for this many drawings of each class
MAX_EXAMPLES = MAX_KEPT_EXAMPLES  # all classes together; more are cut to this many, and the page says so
MAX_NAME_CHARS = 40
MAX_ZIP_ENTRIES = 4 * MAX_EXAMPLES  # more files than this is not an examples zip: refused, not read
MAX_ENTRY_BYTES = 64 * 1024  # one 28×28 PNG is under 1 kB
MAX_LABELS_BYTES = 1024 * 1024
MAX_UNPACKED_BYTES = 32 * 1024 * 1024  # every entry together, uncompressed (no zip bombs)
MAX_TAUGHT_PARAMS = 5_000_000  # a taught network is a LeNet (~60 thousand); a wide custom one a few million
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CONFIG_KEYS = ("start", "base_model", "train_layers", "optimizer", "lr", "batch_size", "epochs", "held_out",
               "examples", "seed")


class TeachError(LenetVizError, ValueError):
    """An examples zip, a class name or a taught network that the Teach page cannot use."""


@dataclass(frozen=True, eq=False)
class Examples:
    """A learner's classes and drawings: ``images`` uint8 N×28×28 (light ink on black), ``labels``
    the class index of each; ``notes`` what reading them left out (more than :data:`MAX_EXAMPLES`)."""

    classes: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray
    notes: tuple[Msg, ...] = ()


# --- class names -----------------------------------------------------------------------------------

def name_key(name: str) -> str:
    """What two class names must not share: ``A`` and ``a``, full- and half-width ``Ａ`` and ``A``
    are the same class to a reader. ``teach.js`` compares names the same way."""
    return unicodedata.normalize("NFKC", name).strip().lower()


def check_class_name(name: Any, taken: Sequence[str] = ()) -> str:
    """``name`` stripped, if it can name a new class beside ``taken``; else :class:`TeachError`."""
    if not isinstance(name, str) or not name.strip():
        raise TeachError.keyed("teach.name_empty")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise TeachError.keyed("teach.name_too_long", name=name[:MAX_NAME_CHARS] + "…", limit=MAX_NAME_CHARS)
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise TeachError.keyed("teach.name_control")
    if name_key(name) in {name_key(other) for other in taken}:
        raise TeachError.keyed("teach.name_duplicate", name=name)
    return name


def class_list(names: Sequence[str]) -> str:
    """Class names as one short text for a label or a heading: ``一 · △ · JB``."""
    return " · ".join(str(name) for name in names)[:120]


def check_classes(names: Any) -> tuple[str, ...]:
    """A list of 2–10 distinct, valid class names, stripped; else :class:`TeachError`."""
    if not isinstance(names, (list, tuple)):
        raise TeachError.keyed("teach.zip_bad_labels", reason="classes")
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise TeachError.keyed("teach.class_count", count=len(names), least=MIN_CLASSES, most=MAX_CLASSES)
    checked: list[str] = []
    for name in names:
        checked.append(check_class_name(name, checked))
    return tuple(checked)


# --- the examples zip ---------------------------------------------------------------------------------

def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_examples_zip(examples: Examples) -> bytes:
    """The zip :func:`read_examples_zip` reads (the page's Download builds the same one in the browser)."""
    classes = check_classes(list(examples.classes))
    records = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for i, (image, label) in enumerate(zip(examples.images, examples.labels, strict=True)):
            name = f"{IMAGES_DIR}/{i + 1:04d}.png"
            z.writestr(name, _png(np.asarray(image, dtype=np.uint8)))
            records.append({"file": name, "class": classes[int(label)]})
        labels = {"format": FORMAT, "classes": list(classes), "examples": records}
        z.writestr(LABELS_FILE, json.dumps(labels, ensure_ascii=False, indent=1))
    return buffer.getvalue()


def _safe_entry(name: str) -> bool:
    """A zip entry name that stays inside the folder it is unpacked in (no ``..``, no absolute path,
    no drive letter, no backslash)."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in name.split("/") and posixpath.normpath(name) == name.rstrip("/")


def _read_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, reading at most ``limit`` + 1 whatever its header claims."""
    if info.file_size > limit:
        raise TeachError.keyed("teach.zip_entry_too_large", file=info.filename, limit=f"{limit // 1024}")
    with z.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TeachError.keyed("teach.zip_entry_too_large", file=info.filename, limit=f"{limit // 1024}")
    return data


def _example_image(name: str, data: bytes) -> np.ndarray:
    """One example PNG → uint8 28×28 gray; :class:`TeachError` for anything else."""
    if not data.startswith(PNG_SIGNATURE):
        raise TeachError.keyed("teach.zip_not_png", file=name)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
            if img.size != (EXAMPLE_SIZE, EXAMPLE_SIZE):  # checked before any pixel is decoded
                raise TeachError.keyed("teach.zip_wrong_size", file=name, width=img.width, height=img.height,
                                       size=EXAMPLE_SIZE)
            gray = np.asarray(img.convert("L"), dtype=np.uint8)
    except TeachError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for damaged files
        raise TeachError.keyed("teach.zip_not_png", file=name) from None
    return gray.copy()


def _labels(z: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> tuple[tuple[str, ...], list[dict]]:
    """The class names and example records of ``labels.json``, checked."""
    if LABELS_FILE not in infos:
        raise TeachError.keyed("teach.zip_no_labels", file=LABELS_FILE)
    try:
        raw = json.loads(_read_entry(z, infos[LABELS_FILE], MAX_LABELS_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise TeachError.keyed("teach.zip_bad_labels", reason="JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise TeachError.keyed("teach.zip_bad_labels", reason=f"format ≠ {FORMAT}")
    classes = check_classes(raw.get("classes"))
    records = raw.get("examples")
    if not isinstance(records, list) or not all(
            isinstance(r, dict) and isinstance(r.get("file"), str) and isinstance(r.get("class"), str)
            for r in records):
        raise TeachError.keyed("teach.zip_bad_labels", reason="examples")
    return classes, records


def read_examples_zip(data: bytes) -> Examples:
    """The classes and examples of an uploaded zip, all checked: size, number and names of its files,
    the labels, each PNG. More than :data:`MAX_EXAMPLES` examples are cut to the first ones (a note
    says so); anything else wrong raises :class:`TeachError` and nothing is kept."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TeachError.keyed("teach.zip_too_large", size=f"{len(data) / 1e6:.1f}",
                               limit=f"{MAX_UPLOAD_BYTES / 1e6:.0f}")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        # NotImplementedError: an entry asks for a newer zip version than Python reads
        raise TeachError.keyed("teach.zip_unreadable") from None
    with z:
        try:
            infos_list = z.infolist()
        except Exception:  # noqa: BLE001 - a damaged central directory
            raise TeachError.keyed("teach.zip_unreadable") from None
        if len(infos_list) > MAX_ZIP_ENTRIES:
            raise TeachError.keyed("teach.zip_too_many_files", count=len(infos_list), limit=MAX_ZIP_ENTRIES)
        unpacked = sum(info.file_size for info in infos_list)
        if unpacked > MAX_UNPACKED_BYTES:
            raise TeachError.keyed("teach.zip_unpacks_to", size=f"{unpacked / 1e6:,.0f}")
        infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos_list:
            if not _safe_entry(info.filename):
                raise TeachError.keyed("teach.zip_unsafe_path", file=info.filename[:120])
            if info.filename in infos:
                raise TeachError.keyed("teach.zip_duplicate_file", file=info.filename)
            infos[info.filename] = info
        try:
            classes, records = _labels(z, infos)
            notes: list[Msg] = []
            if len(records) > MAX_EXAMPLES:
                notes.append(Msg("teach.capped", count=len(records), limit=MAX_EXAMPLES))
                records = records[:MAX_EXAMPLES]
            index = {name_key(name): i for i, name in enumerate(classes)}
            images, labels, seen = [], [], set()
            for record in records:
                name, label = record["file"], index.get(name_key(record["class"]))
                if label is None:
                    raise TeachError.keyed("teach.zip_unknown_class", file=name[:120], name=record["class"][:60])
                if name in seen:
                    raise TeachError.keyed("teach.zip_duplicate_file", file=name[:120])
                if name not in infos:
                    raise TeachError.keyed("teach.zip_missing_file", file=name[:120])
                seen.add(name)
                images.append(_example_image(name, _read_entry(z, infos[name], MAX_ENTRY_BYTES)))
                labels.append(label)
        except TeachError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
            # damaged data, a bad CRC, an unsupported compression method, an encrypted entry
            raise TeachError.keyed("teach.zip_unreadable") from None
    return Examples(classes, np.asarray(images, dtype=np.uint8).reshape(-1, EXAMPLE_SIZE, EXAMPLE_SIZE),
                    np.asarray(labels, dtype=np.int64), tuple(notes))


def examples_payload(examples: Examples) -> dict[str, Any]:
    """Examples for the browser: class names, labels and every image as one base64 string of
    N×28×28 bytes (a 1,000-example set is ~1 MB of text)."""
    return {"classes": list(examples.classes), "labels": [int(v) for v in examples.labels],
            "size": EXAMPLE_SIZE, "images": base64.b64encode(np.ascontiguousarray(examples.images).tobytes()).decode()}


# --- the taught network ---------------------------------------------------------------------------------

def _decoded(text: Any, size: int, key: str, what: str) -> bytes:
    """Exactly ``size`` bytes from base64 ``text`` (refused before decoding when the text is longer
    than that needs); :class:`TeachError` ``key`` otherwise."""
    if not isinstance(text, str) or len(text) > 4 * math.ceil(size / 3) + 4:
        raise TeachError.keyed(key, what=what)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TeachError.keyed(key, what=what) from None
    if len(raw) != size:
        raise TeachError.keyed(key, what=what)
    return raw


def _floats(text: Any, count: int, what: str) -> np.ndarray:
    """``count`` little-endian float32 values from base64 ``text``; :class:`TeachError` otherwise."""
    values = np.frombuffer(_decoded(text, 4 * count, "teach.save_bad_weights", what), dtype="<f4")
    if not np.isfinite(values).all():
        raise TeachError.keyed("teach.save_not_finite", what=what)
    return values


def _state(spec: LeNetSpec, values: np.ndarray) -> dict[str, Any]:
    """Flat weights in the browser's tensor layout (``tensor_layout``) → a state dict of tensors."""
    import torch

    return {t["name"]: torch.from_numpy(values[t["offset"]:t["offset"] + math.prod(t["shape"])].copy())
            .reshape(t["shape"]) for t in tensor_layout(spec)}


def _optional_number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TeachError.keyed("teach.save_bad_field", what=what)
    return float(value)


def _snapshots(spec: LeNetSpec, raw: Any, params: int) -> list[Snapshot]:
    """The snapshots the browser took while training (float32 base64 each), as float16 snapshots,
    at most as many as a checkpoint holds (evenly thinned, first and last kept)."""
    import torch

    if not isinstance(raw, list) or len(raw) > 4 * DEFAULT_SNAPSHOTS:
        raise TeachError.keyed("teach.save_bad_field", what="snapshots")
    snapshots, last_step = [], -1
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise TeachError.keyed("teach.save_bad_field", what=f"snapshot {i}")
        step = entry.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or step <= last_step:
            raise TeachError.keyed("teach.save_bad_field", what=f"snapshot {i}: step")
        state = {k: v.to(torch.float16) for k, v in _state(spec, _floats(entry.get("weights"), params,
                                                                          f"snapshot {i}")).items()}
        metrics = {k: _optional_number(entry.get(k), f"snapshot {i}: {k}") for k in ("loss", "train_acc", "test_acc")}
        epoch = _optional_number(entry.get("epoch"), f"snapshot {i}: epoch")
        snapshots.append(Snapshot(step, epoch or 0.0, **metrics, state_dict=state))
        last_step = step
    return thin(snapshots, bounded_snapshots(len(snapshots), params))


def _kept_examples(raw: Any, classes: int) -> KeptExamples | None:
    """The drawings the network was trained on, as Save sends them (``images``: base64 of N×28×28
    bytes, ``labels``: class indices, ``held_out``: a flag each), to keep in its checkpoint so that
    Train can continue it; None when the page sent none. :class:`TeachError` for anything malformed."""
    import torch

    if raw is None:
        return None
    labels, held = (raw.get("labels"), raw.get("held_out")) if isinstance(raw, dict) else (None, None)
    if (not isinstance(labels, list) or not 1 <= len(labels) <= MAX_EXAMPLES
            or not all(type(v) is int and 0 <= v < classes for v in labels)):
        raise TeachError.keyed("teach.save_bad_field", what="examples: labels")
    if not isinstance(held, list) or len(held) != len(labels) or not all(type(v) is bool for v in held):
        raise TeachError.keyed("teach.save_bad_field", what="examples: held_out")
    side = EXAMPLE_SIZE * EXAMPLE_SIZE
    images = _decoded(raw.get("images"), len(labels) * side, "teach.save_bad_field", "examples: images")
    return KeptExamples(torch.frombuffer(bytearray(images), dtype=torch.uint8).reshape(-1, EXAMPLE_SIZE, EXAMPLE_SIZE),
                        torch.tensor(labels, dtype=torch.int64), torch.tensor(held, dtype=torch.bool))


def _config(raw: Any) -> dict[str, Any]:
    """How the network was taught, as the page reported it: known keys with plain values only."""
    if not isinstance(raw, dict):
        return {}
    config: dict[str, Any] = {"source": "teach"}
    for key in CONFIG_KEYS:
        value = raw.get(key)
        if isinstance(value, str):
            config[key] = value[:80]
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            config[key] = value
    return config


def taught_checkpoint(report: Mapping[str, Any]) -> bytes:
    """The checkpoint of a network the browser taught, from what the page sent when the learner
    pressed Save: ``spec`` (a LeNetSpec dict), ``classes``, ``weights`` (base64 float32 in the
    layout of ``netview_payload.tensor_layout``), ``history`` (progress records, as checkpoints keep
    them), ``snapshots`` (``step``, ``epoch``, metrics and ``weights`` each), ``config`` and
    ``examples`` (the drawings it was trained on, kept in the checkpoint: the Train page continues
    it on them).

    The result is in the project's one format (:mod:`lenet_viz.checkpoints`): it loads with
    ``weights_only=True`` wherever a saved model is offered. Raises :class:`TeachError`.
    """
    from lenet_viz.models import build_model

    if not isinstance(report, Mapping) or not isinstance(report.get("spec"), dict):
        raise TeachError.keyed("teach.save_bad_field", what="spec")
    try:
        spec = LeNetSpec.from_dict(report["spec"])
    except SpecError as exc:
        raise TeachError.keyed("teach.save_bad_spec", error=exc) from exc
    classes = check_classes(report.get("classes"))
    if spec.num_classes != len(classes) or spec.in_channels != 1 or spec.input_size != EXAMPLE_SIZE:
        raise TeachError.keyed("teach.save_bad_field", what="spec")
    params = layer_plan(spec).total_params
    if params > MAX_TAUGHT_PARAMS:
        raise TeachError.keyed("teach.save_too_large", params=f"{params:,}", limit=f"{MAX_TAUGHT_PARAMS:,}")
    model = build_model(spec)
    model.load_state_dict(_state(spec, _floats(report.get("weights"), params, "weights")))
    try:
        history = with_train_points(parse_history(report.get("history", [])))  # one event an epoch: split
    except HistoryError as exc:
        raise TeachError.keyed("teach.save_bad_field", what=f"history ({exc})") from exc
    snapshots = _snapshots(spec, report.get("snapshots", []), params)
    examples = _kept_examples(report.get("examples"), len(classes))
    data = checkpoint_bytes(model, spec, DATASET, classes, history, _config(report.get("config")), snapshots, examples)
    try:
        load_checkpoint(data)  # what every page will do with it: prove it now, before it is kept
    except CheckpointError as exc:
        raise TeachError.keyed("teach.save_bad_field", what=str(exc)) from exc
    return data
