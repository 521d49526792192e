"""Checkpoints: weights + spec + dataset + history + snapshots, written atomically, read with ``weights_only``.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so ``torch.load(...,
weights_only=True)`` reads it without unpickling code, and :func:`load_checkpoint` rebuilds the
exact network from its spec. Anything wrong with a file raises :class:`CheckpointError` with a
message fit for the user.

Snapshots (the weights at chosen steps of training, for the replay view) are stored as float16,
at most :data:`~lenet_viz.history.MAX_SNAPSHOTS` of them and
:data:`~lenet_viz.history.SNAPSHOT_BUDGET_BYTES` in all: a LeNet's 24 default ones add 3.0 MB.

A network taught on the Teach page also keeps the drawings it was trained on (:class:`KeptExamples`,
under ``"examples"``: at most :data:`MAX_KEPT_EXAMPLES`, 0.8 MB): they exist nowhere else, and the
Train page continues such a network on them. Checkpoints without them load as before.
"""

from __future__ import annotations

import glob
import io
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from lenet_viz.errors import LenetVizError
from lenet_viz.history import (
    HistoryError,
    Progress,
    Snapshot,
    history_dicts,
    last_test_acc,
    parse_history,
    parse_snapshots,
    with_train_points,
)
from lenet_viz.i18n import Msg
from lenet_viz.models import LeNetSpec, SpecError, build_model, layer_plan
from lenet_viz.preprocess import MAX_UPLOAD_BYTES

FORMAT = "lenet-viz/1"
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # a checkpoint's zip entries, uncompressed (no zip bombs)
MAX_PARAMS = 50_000_000  # LeNets have ~60 thousand; the widest Output-size-page network ~6 million
MAX_INPUT_SIZE = 256  # pixels per side: the app draws and upsamples inputs of this size
MAX_KEPT_EXAMPLES = 1000  # examples a checkpoint keeps: the most the Teach page holds (teach.MAX_EXAMPLES)


class CheckpointError(LenetVizError, ValueError):
    """A file that is not a usable lenet-viz checkpoint."""


@dataclass(frozen=True, eq=False)
class KeptExamples:
    """The examples a network was trained on, kept in its checkpoint because they are nowhere else
    (a taught network's drawings): ``images`` uint8 N×S×S (S the network's input size), ``labels``
    int64 N (class indices), ``held_out`` bool N (kept out of training to test on, as on the Teach page)."""

    images: torch.Tensor
    labels: torch.Tensor
    held_out: torch.Tensor

    def to_dict(self) -> dict[str, torch.Tensor]:
        return {"images": self.images.contiguous(), "labels": self.labels.contiguous(),
                "held_out": self.held_out.contiguous()}


def _tensor(raw: dict, name: str, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    """``raw[name]`` if it is a tensor of ``dtype`` and ``shape`` (a copy: a loaded file's storage may be
    shared); else the name of what is wrong, as a :class:`ValueError`."""
    value = raw.get(name)
    if not isinstance(value, torch.Tensor) or value.dtype != dtype or tuple(value.shape) != shape:
        raise ValueError(name)
    return value.clone().contiguous()


def parse_kept_examples(raw: Any, spec: LeNetSpec, name: str | Msg) -> KeptExamples:
    """The ``"examples"`` of a checkpoint of ``spec``, checked: at most :data:`MAX_KEPT_EXAMPLES` grey
    images of the network's input size, a label below its number of outputs for each, and at least one
    example to train on. Raises :class:`CheckpointError` naming what is wrong."""
    try:
        given = raw.get("images") if isinstance(raw, dict) else None
        count = len(given) if isinstance(given, torch.Tensor) and given.dim() == 3 else 0
        if spec.in_channels != 1 or not 1 <= count <= MAX_KEPT_EXAMPLES:
            raise ValueError("images")
        images = _tensor(raw, "images", torch.uint8, (count, spec.input_size, spec.input_size))
        labels = _tensor(raw, "labels", torch.int64, (count,))
        held_out = _tensor(raw, "held_out", torch.bool, (count,))
        if labels.min() < 0 or labels.max() >= spec.num_classes:
            raise ValueError("labels")
        if held_out.all():
            raise ValueError("held_out")
    except ValueError as exc:
        raise CheckpointError.keyed("train.taught_bad_examples", name=name, what=str(exc)) from None
    return KeptExamples(images, labels, held_out)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the network (final weights in ``model`` and ``state_dict``), what it was
    trained on, its history, its snapshots (oldest first; empty when none were kept) and the examples
    it keeps (a taught network's drawings; None for the others)."""

    model: nn.Module
    spec: LeNetSpec
    dataset: str
    classes: tuple[str, ...]
    history: tuple[Progress, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    snapshots: tuple[Snapshot, ...] = ()
    examples: KeptExamples | None = None

    @property
    def test_acc(self) -> float | None:
        """The last test accuracy in the history, if any."""
        return last_test_acc(self.history)

    @property
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The final weights (float32)."""
        return self.model.state_dict()


def checkpoint_dict(model: nn.Module, spec: LeNetSpec, dataset: str, classes: tuple[str, ...],
                    history: Sequence[Progress] = (), config: dict | None = None,
                    snapshots: Sequence[Snapshot] = (), examples: KeptExamples | None = None) -> dict[str, Any]:
    """The dict that :func:`save_checkpoint` writes (``"examples"`` only when there are some)."""
    raw = {
        "format": FORMAT,
        "spec": spec.to_dict(),
        "dataset": dataset,
        "classes": list(classes),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "history": history_dicts(history),
        "config": dict(config or {}),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshots": [s.to_dict() for s in snapshots],
    }
    if examples is not None:
        raw["examples"] = examples.to_dict()
    return raw


def save_checkpoint(path: str | Path, model: nn.Module, spec: LeNetSpec, dataset: str,
                    classes: tuple[str, ...], history: Sequence[Progress] = (), config: dict | None = None,
                    snapshots: Sequence[Snapshot] = (), examples: KeptExamples | None = None) -> Path:
    """Write a checkpoint atomically: a temporary file in the same folder, then a rename (``examples``:
    a taught network's drawings, kept with it because they exist nowhere else).

    Temporary files that a killed writer left beside ``path`` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(checkpoint_dict(model, spec, dataset, classes, history, config, snapshots, examples), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def checkpoint_bytes(*args: Any, **kwargs: Any) -> bytes:
    """A checkpoint as bytes (for a download button); same arguments as :func:`checkpoint_dict`."""
    buffer = io.BytesIO()
    torch.save(checkpoint_dict(*args, **kwargs), buffer)
    return buffer.getvalue()


CHECKPOINT_SUFFIXES = (".pt", ".pth")
"""The file names a checkpoint upload may have (the uploaders take any file, so that this is said on the page)."""


def check_upload_name(name: str) -> None:
    """Refuse an uploaded file whose name is not a checkpoint's (``.pt``, ``.pth``), saying so: the
    uploaders accept any file, as a browser's own refusal shows only in a tooltip."""
    if not name.lower().endswith(CHECKPOINT_SUFFIXES):
        raise CheckpointError.keyed("checkpoint.wrong_type", name=name, suffixes=" / ".join(CHECKPOINT_SUFFIXES))


def check_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse an uploaded file larger than the app accepts (Streamlit checks it too)."""
    if len(data) > max_bytes:
        raise CheckpointError.keyed("checkpoint.too_large", size=f"{len(data) / 1e6:.1f}",
                                    limit=f"{max_bytes / 1e6:.0f}")


def _unpacked_size(source: BinaryIO) -> int:
    """Total uncompressed size of a zip file's entries (0 for other files)."""
    if not zipfile.is_zipfile(source):
        return 0
    source.seek(0)
    with zipfile.ZipFile(source) as z:
        return sum(info.file_size for info in z.infolist())


def _check_spec_size(name: str | Msg, spec: LeNetSpec, state: dict[str, torch.Tensor]) -> None:
    """Refuse a spec that would build a huge network, or one its weights do not fill, before building it."""
    if spec.input_size > MAX_INPUT_SIZE:
        raise CheckpointError.keyed("checkpoint.input_too_large", name=name, size=spec.input_size, limit=MAX_INPUT_SIZE)
    params = layer_plan(spec).total_params
    stored = sum(math.prod(t.shape) for t in state.values())
    if params > MAX_PARAMS or params != stored:
        raise (CheckpointError.keyed("checkpoint.weights_mismatch", name=name, params=f"{params:,}",
                                     stored=f"{stored:,}") if params <= MAX_PARAMS else
               CheckpointError.keyed("checkpoint.too_many_params", name=name, params=f"{params:,}",
                                     limit=f"{MAX_PARAMS:,}"))


_REFUSED_GLOBAL = re.compile(
    r"(?:Unsupported global: GLOBAL|Trying to load unsupported GLOBAL) "
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)* (?:was not an allowed global|whose module)", re.ASCII)
"""How ``torch.load(weights_only=True)`` refuses a pickle that asks for a function or class it does not
allow (``os.system``, a custom class), naming it; the name must be a Python name, so that random bytes
that happen to hold a GLOBAL opcode are not taken for one."""


def _unreadable_reason(exc: Exception) -> Msg:
    """A short, plain reason for a file ``torch.load`` refused: "could run code" only for a real pickle
    that asks for a global that is not allowed; anything else (random bytes, a text file, a truncated
    checkpoint, a pickle torch cannot read) is damaged or not a checkpoint."""
    if _REFUSED_GLOBAL.search(str(exc)):
        return Msg("checkpoint.unsafe")
    return Msg("checkpoint.damaged")


def load_checkpoint(source: str | Path | bytes | BinaryIO) -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes or a file object (on the CPU)."""
    name = str(source) if isinstance(source, (str, Path)) else Msg("checkpoint.the_upload")
    try:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as f:
                unpacked = _unpacked_size(f)
        else:
            source = io.BytesIO(source) if isinstance(source, bytes) else source
            unpacked = _unpacked_size(source)
            source.seek(0)
        if unpacked > MAX_UNPACKED_BYTES:
            raise CheckpointError.keyed("checkpoint.unpacks_to", name=name, size=f"{unpacked / 1e6:,.0f}")
        raw = torch.load(source, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError.keyed("checkpoint.missing", name=name) from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for bad files
        raise CheckpointError.keyed("checkpoint.unreadable", name=name, reason=_unreadable_reason(exc)) from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError.keyed("checkpoint.no_format", name=name)
    try:
        if not isinstance(raw["spec"], dict):
            raise CheckpointError.keyed("checkpoint.spec_not_dict", name=name)
        spec = LeNetSpec.from_dict(raw["spec"])
        state = raw["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError.keyed("checkpoint.weights_not_tensors", name=name)
        _check_spec_size(name, spec, state)
        model = build_model(spec)
        model.load_state_dict(state)
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            raise CheckpointError.keyed("checkpoint.not_finite", name=name)
        classes = tuple(str(c) for c in raw["classes"])
        if len(classes) != spec.num_classes:
            raise CheckpointError.keyed("checkpoint.class_count", name=name, count=len(classes),
                                        outputs=spec.num_classes)
        history = parse_history(raw.get("history", []))
        snapshots = parse_snapshots(raw.get("snapshots", []), state)
        config = dict(raw.get("config", {}))
        if config.get("source") == "teach":  # saved by the Teach page before its events were split on Save
            history = with_train_points(history)
        examples = parse_kept_examples(raw["examples"], spec, name) if raw.get("examples") is not None else None
    except CheckpointError:
        raise
    except HistoryError as exc:
        raise CheckpointError.keyed("checkpoint.bad_history", name=name, error=str(exc)) from exc
    except SpecError as exc:
        raise CheckpointError.keyed("checkpoint.bad_spec", name=name, error=exc) from exc
    except Exception as exc:  # noqa: BLE001 - a hostile file can break the rebuild in many ways
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise CheckpointError.keyed("checkpoint.mismatch", name=name, reason=reason[:200]) from exc
    model.eval()
    return Checkpoint(model, spec, str(raw.get("dataset", "")), classes, history, config,
                      str(raw.get("created", "")), snapshots, examples)
