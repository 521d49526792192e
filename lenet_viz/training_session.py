"""A training run in a background thread, with live state that a page polls.

The worker thread never touches Streamlit: it appends :class:`~lenet_viz.history.Progress`
events and :class:`~lenet_viz.history.Snapshot` s to a :class:`TrainingSession` under a lock, and
the page draws :meth:`TrainingSession.view` a few times a second. The server-wide
:class:`~lenet_viz.run_slots.RunSlots` caps how many runs train at once.

No run outlives its usefulness: the page caps the epochs, Stop ends a run within a training step,
and a run whose browser session has been gone for :data:`ABANDON_AFTER_S` seconds (the caller's
``is_alive`` check) is stopped. The slot is released when the worker ends, whatever the reason.

A continued run counts on from where the earlier ones ended (epochs, steps, time; see
:func:`~lenet_viz.history.offset_after`); its snapshots are appended with those global steps, the
continuation's step 0 left out where it repeats the last one kept, and the whole list thinned to
:data:`~lenet_viz.history.MAX_SNAPSHOTS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from lenet_viz.advice import StuckDetector, chance_hint, stuck_message
from lenet_viz.checkpoints import Checkpoint, checkpoint_bytes
from lenet_viz.data import to_input
from lenet_viz.history import (
    DEFAULT_SNAPSHOTS,
    MAX_SNAPSHOTS,
    Offset,
    Progress,
    Snapshot,
    bounded_snapshots,
    offset_after,
    thin,
)
from lenet_viz.i18n import Msg
from lenet_viz.models import LeNetSpec, build_model
from lenet_viz.run_data import RunData, trainable_problem
from lenet_viz.run_slots import SLOTS, RunRefused, RunSlots
from lenet_viz.threads import app_training_threads, thread_limit
from lenet_viz.training import TrainConfig, TrainResult, predict, train

ABANDON_AFTER_S = 120.0  # Streamlit's default server.disconnectedSessionTTL
CHECK_EVERY_S = 2.0  # how often the worker checks for a stuck network and an abandoned session

RunStatus = Literal["idle", "running", "finished", "stopped", "diverged", "error"]


def remaining_s(progress: Progress) -> float | None:
    """Time left in a run, extrapolated from its elapsed time and steps done."""
    if progress.step <= 0:
        return None
    return progress.elapsed_s * (progress.total_steps - progress.step) / progress.step


class _Watchdog:
    """Stops a run that can no longer learn (stuck) or whose browser session has gone: checked
    from the worker's progress callback, at every epoch end and every :data:`CHECK_EVERY_S` seconds."""

    def __init__(self, detector: StuckDetector, is_alive: Callable[[], bool] | None, stop: threading.Event):
        self.detector, self.is_alive, self.stop = detector, is_alive, stop
        self.checked, self.gone_since, self.stuck_at = time.monotonic(), None, None

    def due(self) -> bool:
        return time.monotonic() - self.checked >= CHECK_EVERY_S

    @property
    def abandoned(self) -> bool:
        return self.gone_since is not None

    def check(self, epoch: float, epoch_loss: float | None) -> None:
        """Check now; ``epoch_loss`` at an epoch's end (the stuck test needs it for ReLU networks)."""
        self.checked = time.monotonic()
        if self.is_alive is not None:
            if self.is_alive():
                self.gone_since = None
            elif self.gone_since is None:
                self.gone_since = self.checked
            elif self.checked - self.gone_since > ABANDON_AFTER_S:
                self.stop.set()
        if self.stuck_at is None and self.detector.stuck(epoch_loss):
            self.stuck_at = epoch
            self.stop.set()

@dataclass(frozen=True)
class SessionView:
    """A consistent copy of a session's state for drawing."""

    status: RunStatus
    busy: bool  # the worker thread is alive (training, or computing the final predictions)
    stop_requested: bool
    message: str
    history: tuple[Progress, ...]  # every run of this model, epochs and times continued
    current: Progress | None  # the latest event of the current run, as the engine reported it
    end_epoch: float  # where the current run will end, counting the epochs of earlier runs
    summary: str  # the seed's closing lines
    hint: str  # advice while the loss sits at chance level
    predictions: torch.Tensor | None  # test-set predictions after the last run
    run: int  # how many runs this session has started
    resumed: bool = False  # the network came from a checkpoint: Continue can go on without a run here
    snapshots: int = 0  # weight snapshots kept so far (all runs)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def phase(self) -> tuple[bool, str, bool]:
        """Changes when the page must be redrawn as a whole: a run ends or its results arrive."""
        return self.busy, self.status, self.predictions is not None


class TrainingSession:
    """One network, its data and its runs; lives in a browser session's state.

    :meth:`start` trains in a daemon thread; a second start while it runs raises
    :class:`RunRefused` (one run per session), and so does a full server (:class:`RunSlots`).
    Each run keeps ``snapshots`` weight snapshots (bounded by :func:`~lenet_viz.history.bounded_snapshots`).
    """

    def __init__(self, spec: LeNetSpec, data: RunData, network: str, slots: RunSlots = SLOTS,
                 snapshots: int = DEFAULT_SNAPSHOTS):
        self.spec, self.data, self.network, self.slots = spec, data, network, slots
        self.model = build_model(spec)
        params = sum(p.numel() for p in self.model.parameters())
        self.snapshot_count = bounded_snapshots(snapshots, params)  # per run
        self._snapshot_cap = bounded_snapshots(MAX_SNAPSHOTS, params)  # all runs together
        self.config: TrainConfig | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: RunStatus = "idle"
        self._message = self._summary = self._hint = ""
        self._history: list[Progress] = []
        self._snapshots: list[Snapshot] = []
        self._current: Progress | None = None
        self._offset = Offset()  # where the current run started, counting earlier runs
        self._runs = 0
        self._predictions: torch.Tensor | None = None
        self._checkpoint: bytes | None = None
        self._resumed = False  # loaded from a checkpoint: Continue goes on from its weights

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, data: RunData, network: str,
                        slots: RunSlots = SLOTS, snapshots: int = DEFAULT_SNAPSHOTS) -> TrainingSession:
        """A session holding a saved network (a copy: the checkpoint may be shared), ready to Continue.

        Raises :class:`RunRefused` when the network cannot go on training on ``data`` (examples a
        checkpoint keeps fit its network: :func:`~lenet_viz.checkpoints.parse_kept_examples` checked them).
        """
        if data.examples is None and (problem := trainable_problem(ckpt.spec)):
            raise RunRefused(problem)
        if ckpt.dataset and ckpt.dataset != data.dataset:
            raise RunRefused.keyed("training.wrong_dataset", trained=ckpt.dataset, chosen=data.dataset)
        session = cls(ckpt.spec, data, network, slots, snapshots)
        session.model.load_state_dict(ckpt.model.state_dict())
        session._history = list(ckpt.history)
        session._snapshots = list(ckpt.snapshots)
        session._resumed = True
        return session

    # -- control (page thread) ------------------------------------------------------------

    def start(self, config: TrainConfig, *, fresh: bool = True,
              is_alive: Callable[[], bool] | None = None) -> None:
        """Train in the background: from fresh weights, or on from the current ones."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RunRefused.keyed("training.session_busy")
            if not fresh and not (self._history or self._resumed):
                raise RunRefused.keyed("training.nothing_to_continue")
            self.slots.acquire()
            if fresh:
                self._history, self._snapshots = [], []
            self.config = config
            self._stop.clear()
            self._runs += 1
            self._status, self._message, self._summary, self._hint = "running", "", "", ""
            self._current, self._predictions, self._checkpoint = None, None, None
            self._offset = offset_after(self._history)
            self._thread = threading.Thread(target=self._work, args=(config, fresh, is_alive),
                                            name="lenet-viz-train", daemon=True)
            try:
                self._thread.start()
            except RuntimeError as exc:
                self.slots.release()
                self._status = "idle"
                raise RunRefused.keyed("training.thread_failed", error=str(exc)) from exc

    def stop(self) -> None:
        """Ask the run to end after the current step, keeping what it learned."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end; True if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def view(self) -> SessionView:
        with self._lock:
            busy = self._thread is not None and self._thread.is_alive()
            return SessionView(self._status, busy, self._stop.is_set(), self._message, tuple(self._history),
                               self._current, self._offset.epoch + (self.config.epochs if self.config else 0),
                               self._summary, self._hint, self._predictions, self._runs, self._resumed,
                               len(self._snapshots))

    def checkpoint(self) -> bytes:
        """The trained network as checkpoint bytes, with its snapshots and the examples its data keeps
        (made once per run; not while training)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RunRefused.keyed("training.still_training")
            if self._checkpoint is None:
                config = {**(self.config.to_dict() if self.config else {}), "model": self.network,
                          "train_images": len(self.data.train[0])}
                self._checkpoint = checkpoint_bytes(self.model, self.spec, self.data.dataset, self.data.classes,
                                                    self._history, config, self._snapshots, self.data.examples)
            return self._checkpoint

    # -- worker thread ----------------------------------------------------------------------

    def _last_loss(self) -> float | None:
        with self._lock:
            return self._history[-1].train_loss if self._history else None

    def _on_progress(self, p: Progress, config: TrainConfig, watchdog: _Watchdog) -> None:
        shown = self._offset.shift(p)
        with self._lock:
            self._history.append(shown)
            self._current = p
            if p.test_acc is not None:
                self._hint = chance_hint(p.train_loss, shown.epoch, self.spec.activation, config)
        if p.test_acc is not None:
            watchdog.check(shown.epoch, p.train_loss)
        elif watchdog.due():
            watchdog.check(shown.epoch, None)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        kept = self._offset.shift_snapshot(snapshot)
        with self._lock:
            if not self._snapshots or self._snapshots[-1].step != kept.step:  # a continuation's step 0 repeats
                self._snapshots.append(kept)

    def _outcome(self, config: TrainConfig, result: TrainResult, watchdog: _Watchdog) -> tuple[RunStatus, str]:
        """How the run ended, in words: a stuck network and a closed browser say more than 'stopped'."""
        status: RunStatus = result.status
        message = result.message
        if status == "finished" and self._offset.epoch:
            message = Msg("training.finished_more_one" if config.epochs == 1 else "training.finished_more",
                          epochs=config.epochs, total=f"{round(self._offset.epoch + config.epochs, 2):g}")
        if status not in ("diverged", "error") and watchdog.stuck_at is None and watchdog.detector.stuck():
            watchdog.stuck_at = self._history[-1].epoch if self._history else 0.0
        if watchdog.stuck_at is not None and status != "diverged":  # a blown-up loss says more than a stuck output
            return "diverged", stuck_message(config, watchdog.stuck_at, self.spec.activation, self._last_loss())
        if status == "stopped" and watchdog.abandoned:
            message = Msg("training.stopped_closed")
        return status, message

    def _predict(self) -> None:
        """Test-set predictions for the confusion matrix; the weights stay usable if this fails."""
        try:
            predictions = predict(self.model, self.data.test[0])
        except Exception as exc:  # noqa: BLE001 - the weights stay usable without the confusion matrix
            with self._lock:
                self._message = Msg("training.then", a=self._message,
                                    b=Msg("training.predictions_failed", error=f"{type(exc).__name__}: {exc}"))
        else:
            with self._lock:
                self._predictions = predictions

    def _work(self, config: TrainConfig, fresh: bool, is_alive: Callable[[], bool] | None) -> None:
        try:
            detector = StuckDetector(self.model, to_input(self.data.test[0][:128]), self.spec.activation == "relu")
            watchdog = _Watchdog(detector, is_alive, self._stop)
            with thread_limit(app_training_threads()):
                result = train(self.model, self.data.train, self.data.test, config,
                               lambda p: self._on_progress(p, config, watchdog), self._stop, fresh_weights=fresh,
                               snapshots=self.snapshot_count, on_snapshot=self._on_snapshot)
            status, message = self._outcome(config, result, watchdog)
            with self._lock:
                self._snapshots = thin(self._snapshots, self._snapshot_cap)
                self._status, self._message = status, message
                self._summary = Msg("cuda_graph.summary", a=result.summary(), b=result.step_path)
            if status != "diverged":
                self._predict()
        except Exception as exc:  # noqa: BLE001 - any failure must reach the page, not kill the thread silently
            with self._lock:
                self._status, self._message = "error", Msg("training.failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            self.slots.release()
