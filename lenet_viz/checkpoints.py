"""Checkpoints: weights + spec + dataset + history, written atomically, read with ``weights_only``.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so ``torch.load(...,
weights_only=True)`` reads it without unpickling code, and :func:`load_checkpoint` rebuilds the
exact network from its spec. Anything wrong with a file raises :class:`CheckpointError` with a
message fit for the user.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from lenet_viz.models import LeNetSpec, SpecError, build_model

FORMAT = "lenet-viz/1"


class CheckpointError(ValueError):
    """A file that is not a usable lenet-viz checkpoint."""


@dataclass
class Checkpoint:
    model: nn.Module
    spec: LeNetSpec
    dataset: str
    classes: tuple[str, ...]
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    created: str = ""

    @property
    def test_acc(self) -> float | None:
        """The last test accuracy in the history, if any."""
        return next((h["test_acc"] for h in reversed(self.history) if h.get("test_acc") is not None), None)


def checkpoint_dict(model: nn.Module, spec: LeNetSpec, dataset: str, classes: tuple[str, ...],
                    history: list = (), config: dict | None = None) -> dict[str, Any]:
    """The dict that :func:`save_checkpoint` writes."""
    return {
        "format": FORMAT,
        "spec": spec.to_dict(),
        "dataset": dataset,
        "classes": list(classes),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "history": [h if isinstance(h, dict) else asdict(h) for h in history],
        "config": dict(config or {}),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save_checkpoint(path: str | Path, model: nn.Module, spec: LeNetSpec, dataset: str,
                    classes: tuple[str, ...], history: list = (), config: dict | None = None) -> Path:
    """Write a checkpoint atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(checkpoint_dict(model, spec, dataset, classes, history, config), f)
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


def load_checkpoint(source: str | Path | bytes | BinaryIO) -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes or a file object (on the CPU)."""
    name = str(source) if isinstance(source, (str, Path)) else "the uploaded file"
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        raw = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{name} does not exist.") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for bad files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{name} is not a readable checkpoint ({reason[:200]}).") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a lenet-viz checkpoint (no '{FORMAT}' format tag).")
    try:
        spec = LeNetSpec.from_dict(raw["spec"])
        model = build_model(spec)
        state = raw["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{name}: the weights are not a dict of tensors.")
        model.load_state_dict(state)
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            raise CheckpointError(f"{name}: some weights are NaN or infinite.")
        classes = tuple(str(c) for c in raw["classes"])
        if len(classes) != spec.num_classes:
            raise CheckpointError(f"{name}: {len(classes)} class names for {spec.num_classes} outputs.")
        history = [dict(h) for h in raw.get("history", [])]
    except CheckpointError:
        raise
    except SpecError as exc:
        raise CheckpointError(f"{name}: {exc}") from exc
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0]
        raise CheckpointError(f"{name} does not match its network spec ({reason[:200]}).") from exc
    model.eval()
    return Checkpoint(model, spec, str(raw.get("dataset", "")), classes, history,
                      dict(raw.get("config", {})), str(raw.get("created", "")))
