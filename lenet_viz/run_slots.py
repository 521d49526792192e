"""The server-wide cap on training runs: every session of a server process shares one
:class:`RunSlots`, so a crowd of visitors cannot start more runs than the machine can train
(``LENET_VIZ_MAX_RUNS``; default 1 on the CPU, 2 with a CUDA GPU).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from lenet_viz import settings
from lenet_viz.errors import LenetVizError
from lenet_viz.settings import MAX_RUNS_ENV


class RunRefused(LenetVizError, RuntimeError):
    """A run that cannot start now; the message says why."""


def default_max_runs() -> int:
    """1 concurrent run on the CPU, 2 with a CUDA GPU."""
    return 2 if torch.cuda.is_available() else 1


def max_runs() -> int:
    """The server-wide cap on concurrent runs: ``$LENET_VIZ_MAX_RUNS`` if a positive int, else the default.

    Read at each call (not at import), so a changed setting applies to the next run.
    """
    return settings.max_runs() or default_max_runs()


class RunSlots:
    """A counter of running trainings, shared by every session of the server process."""

    def __init__(self, limit: Callable[[], int] = max_runs):
        self._limit, self._lock, self._active = limit, threading.Lock(), 0

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def acquire(self) -> None:
        """Take a slot or raise :class:`RunRefused`."""
        with self._lock:
            limit = self._limit()
            if self._active >= limit:
                raise RunRefused.keyed("training.busy_server_one" if self._active == 1 else "training.busy_server",
                                      active=self._active, env=MAX_RUNS_ENV, limit=limit)
            self._active += 1

    def release(self) -> None:
        with self._lock:
            self._active = max(self._active - 1, 0)


SLOTS = RunSlots()
