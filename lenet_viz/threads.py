"""Per-thread limits on torch's CPU threads, so the app's work does not fight over the cores.

``torch.set_num_threads`` is process-wide; OpenMP's ``omp_set_num_threads`` sets the number for the
calling thread only, and torch's CPU kernels follow it. The app uses this to run a single-image
forward pass on one thread (waking a second costs more than the work) and a training run on all
cores but one, leaving one for the web server and other users: with every core taken, a busy
neighbour made a 2-thread run three times slower than a 1-thread one here (``benchmarks/README.md``).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import torch

from lenet_viz import settings


@cache
def _openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime torch ships (libgomp on Linux), if there is one."""
    for path in sorted((Path(torch.__file__).parent / "lib").glob("lib*omp*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
            lib.omp_get_max_threads, lib.omp_set_num_threads  # noqa: B018 - both must exist
            return lib
        except (OSError, AttributeError):
            continue
    return None


@contextmanager
def thread_limit(n: int) -> Iterator[None]:
    """At most ``n`` intra-op threads for torch ops run by *this* thread (others keep theirs)."""
    lib = _openmp()
    if lib is None:
        yield
        return
    before = lib.omp_get_max_threads()
    lib.omp_set_num_threads(max(1, min(n, before)))
    try:
        yield
    finally:
        lib.omp_set_num_threads(before)


def app_training_threads() -> int:
    """Threads for a training run inside the app: ``$LENET_VIZ_TRAIN_THREADS``, else all cores but one."""
    return settings.train_threads() or max(1, torch.get_num_threads() - 1)
