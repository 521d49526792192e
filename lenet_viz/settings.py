"""Every setting lenet-viz reads from the environment, in one place.

Each is read when it is used, not when a module is imported, so a test, a server started with a
changed environment, or a user who sets one after ``import lenet_viz`` gets what is set now.
A value that is not usable (``LENET_VIZ_MAX_RUNS=zero``) counts as not set: the caller's default.
Pure Python, so reading a setting never imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "LENET_VIZ_DATA"
"""A folder searched for the datasets' IDX files, after ``--data-dir`` and before the cache."""
CACHE_ENV = "XDG_CACHE_HOME"
"""The user's cache folder (``~/.cache`` when unset); lenet-viz keeps its files in ``lenet-viz/`` there."""
TRAIN_THREADS_ENV = "LENET_VIZ_TRAIN_THREADS"
"""CPU threads for a training run inside the app."""
MAX_RUNS_ENV = "LENET_VIZ_MAX_RUNS"
"""Training runs the app allows at once, over all its visitors."""
SESSION_MODELS_ENV = "LENET_VIZ_SESSION_MODELS"
"""Most checkpoints (saved and uploaded) one browser session may hold."""
SESSION_MB_ENV = "LENET_VIZ_SESSION_MB"
"""Most megabytes of checkpoints one browser session may hold."""


def data_dir() -> Path | None:
    """``$LENET_VIZ_DATA``, or None when unset or empty."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value) if value else None


def cache_root() -> Path:
    """Where lenet-viz keeps downloaded and unpacked data: ``$XDG_CACHE_HOME/lenet-viz`` (``~/.cache/lenet-viz``)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache") / "lenet-viz"


def _positive_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def train_threads() -> int | None:
    """``$LENET_VIZ_TRAIN_THREADS`` if a positive integer, else None."""
    return _positive_int(TRAIN_THREADS_ENV)


def max_runs() -> int | None:
    """``$LENET_VIZ_MAX_RUNS`` if a positive integer, else None."""
    return _positive_int(MAX_RUNS_ENV)


def _positive_number(name: str) -> float | None:
    try:
        value = float(os.environ.get(name, "").strip())
    except ValueError:
        return None
    return value if value > 0 else None


def session_models() -> int | None:
    """``$LENET_VIZ_SESSION_MODELS`` if a positive integer, else None."""
    return _positive_int(SESSION_MODELS_ENV)


def session_mb() -> float | None:
    """``$LENET_VIZ_SESSION_MB`` if a positive number, else None."""
    return _positive_number(SESSION_MB_ENV)
