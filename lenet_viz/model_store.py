"""Where models come from: the bundled defaults in ``assets/models`` and checkpoints a user saved.

Bundled models are files shipped with the app, described in ``assets/models/models.json``.
Saved models belong to one browser session (a hosted demo never shows one user's model to
another): the app keeps them as checkpoint bytes in that session's state.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lenet_viz.i18n import has, t

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MODELS_DIR = ASSETS / "models"
SAMPLES_DIR = ASSETS / "samples"


@dataclass(frozen=True)
class BundledModel:
    """One entry of ``assets/models/models.json``."""

    key: str
    label: str
    path: Path
    dataset: str
    description: str

    def title(self, lang: str) -> str:
        """The label as the reader calls it (``model.<key>`` in the catalogue; the label if none)."""
        return t(f"model.{self.key}", lang) if has(f"model.{self.key}") else self.label


def bundled_models() -> list[BundledModel]:
    """The bundled models whose files are present, default first."""
    index = MODELS_DIR / "models.json"
    if not index.exists():
        return []
    entries = json.loads(index.read_text())["models"]
    models = [BundledModel(e["key"], e["label"], MODELS_DIR / e["file"], e["dataset"], e["description"])
              for e in entries]
    return [m for m in models if m.path.exists()]


@dataclass(frozen=True)
class Samples:
    """Bundled test images of one dataset: uint8 N×28×28, labels, class names, test-set indices."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    indices: np.ndarray


def save_samples(path: Path, images, labels, classes: tuple[str, ...], indices: list[int]) -> None:
    """Write sample images to an ``.npz`` file (no pickles: plain arrays only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=np.asarray(images, dtype=np.uint8), labels=np.asarray(labels, dtype=np.int64),
                        classes=np.asarray(classes, dtype=str), indices=np.asarray(indices, dtype=np.int64))


_SAMPLES_LOCK = threading.Lock()
_samples_read: dict[tuple, Samples] = {}  # by (path, mtime, size): a changed file is read again


def load_samples(dataset: str) -> Samples | None:
    """The bundled samples of a dataset (``assets/samples/<dataset>.npz``), or None if absent.

    Read once per process and shared, read-only, by every session: pages ask on every run, and
    ``np.load`` parses each array's header with ``ast``, which Python 3.11 can get wrong when threads
    do it at once (a page showed "SystemError: AST constructor recursion depth mismatch" when 200
    sessions opened together, benchmarks/README.md), so the one read happens under a lock."""
    path = SAMPLES_DIR / f"{dataset}.npz"
    with _SAMPLES_LOCK:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in _samples_read:
            _samples_read[key] = _read_samples(path)
        return _samples_read[key]


def _read_samples(path: Path) -> Samples:
    with np.load(path, allow_pickle=False) as f:
        samples = Samples(f["images"], f["labels"].astype(np.int64), tuple(str(c) for c in f["classes"]),
                          f["indices"])
    if samples.images.ndim != 3 or samples.images.dtype != np.uint8 or len(samples.images) != len(samples.labels):
        raise ValueError(f"{path.name}: expected uint8 images N×H×W and N labels, got {samples.images.dtype} "
                         f"{samples.images.shape} and {samples.labels.shape}.")
    for array in (samples.images, samples.labels, samples.indices):
        array.setflags(write=False)
    return samples


def example_index(samples: Samples, label: int = 7) -> int:
    """The sample shown before anything is drawn: the first of class ``label`` (a 7, a sneaker)."""
    matches = np.flatnonzero(samples.labels == label)
    return int(matches[0]) if len(matches) else 0
