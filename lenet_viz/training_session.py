"""A training run in a background thread, with live state that a page polls.

The worker thread never touches Streamlit: it appends :class:`~lenet_viz.training.Progress`
events to a :class:`TrainingSession` under a lock, and the page draws :meth:`TrainingSession.snapshot`
a few times a second. A server-wide :class:`RunSlots` caps how many runs train at once
(``LENET_VIZ_MAX_RUNS``; default 1 on the CPU, 2 with a CUDA GPU).

No run outlives its usefulness: the page caps the epochs, Stop ends a run within a training step,
and a run whose browser session has been gone for :data:`ABANDON_AFTER_S` seconds (the caller's
``is_alive`` check) is stopped. The slot is released when the worker ends, whatever the reason.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import nn

from lenet_viz.checkpoints import Checkpoint, checkpoint_bytes
from lenet_viz.data import load_dataset, take_subset, to_input
from lenet_viz.errors import LenetVizError
from lenet_viz.models import PRESETS, LeNetSpec, build_model
from lenet_viz.threads import app_training_threads, thread_limit
from lenet_viz.training import Progress, Split, TrainConfig, loss_text, predict, suggested_lr, train

MAX_RUNS_ENV = "LENET_VIZ_MAX_RUNS"
ABANDON_AFTER_S = 120.0  # Streamlit's default server.disconnectedSessionTTL
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
CHANCE_MARGIN = 0.05  # a loss within this below CHANCE_LOSS counts as "at chance level"...
CHANCE_CEILING = 0.5  # ... and up to this above it (higher: the network is confidently wrong, or blown up)
CHECK_EVERY_S = 2.0  # how often the worker checks for a stuck network and an abandoned session
DEAD_SPREAD = 1e-6  # output spread across images below which the network ignores its input
NEARLY_DEAD_SPREAD = 1e-3  # ... and below which a ReLU network at chance level is taken as stuck
FLAT_EPOCHS = 2  # epochs at chance level with a nearly dead output before a ReLU network is stopped

RunStatus = Literal["idle", "running", "finished", "stopped", "diverged", "error"]


def default_max_runs() -> int:
    """1 concurrent run on the CPU, 2 with a CUDA GPU."""
    return 2 if torch.cuda.is_available() else 1


def max_runs() -> int:
    """The server-wide cap on concurrent runs: ``$LENET_VIZ_MAX_RUNS`` if a positive int, else the default."""
    try:
        value = int(os.environ.get(MAX_RUNS_ENV, ""))
    except ValueError:
        return default_max_runs()
    return value if value > 0 else default_max_runs()


class RunRefused(LenetVizError, RuntimeError):
    """A run that cannot start now; the message says why."""


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
                raise RunRefused(
                    f"The server is already training {self._active} network(s), its limit "
                    f"(${MAX_RUNS_ENV}={limit}). Please try again when that run ends."
                )
            self._active += 1

    def release(self) -> None:
        with self._lock:
            self._active = max(self._active - 1, 0)


SLOTS = RunSlots()


@dataclass(frozen=True)
class RunData:
    """The images a session trains and tests on."""

    dataset: str
    classes: tuple[str, ...]
    train: Split
    test: Split


def load_run_data(dataset: str, data_dir: str | None = None, subset: int | None = None) -> RunData:
    """A dataset from disk, its training split optionally cut to ``subset`` random images.

    Raises :class:`lenet_viz.data.DataNotFound` when the files are not there.
    """
    data = load_dataset(dataset, data_dir or None)
    train_split = take_subset((data.train_images, data.train_labels), subset)
    return RunData(dataset, data.classes, train_split, (data.test_images, data.test_labels))


def trainable_problem(spec: LeNetSpec) -> str:
    """Why a network cannot be trained on MNIST-style data ('' when it can)."""
    wrong = [f"{what} {got} (needs {need})" for what, got, need in (
        ("input channels", spec.in_channels, 1), ("input size", spec.input_size, 28),
        ("outputs", spec.num_classes, 10)) if got != need]
    return f"This network cannot be trained on 28×28 grey images of 10 classes: {', '.join(wrong)}." if wrong else ""


def preset_name(spec: LeNetSpec) -> str | None:
    """The preset a spec is (compared by value), if any."""
    return next((name for name, preset in PRESETS.items() if preset.to_dict() == spec.to_dict()), None)


def available_devices() -> list[str]:
    """Device choices for a run: ``auto``, ``cpu``, and ``cuda`` / ``mps`` where present."""
    mps = getattr(torch.backends, "mps", None)
    return (["auto", "cpu"] + ["cuda"] * torch.cuda.is_available()
            + ["mps"] * bool(mps and mps.is_available()))


def resumed_history(entries: list[dict]) -> list[Progress]:
    """A checkpoint's history as progress events; entries that are not complete events with
    finite numbers (``test_acc`` may be None) are left out."""
    names = Progress.__dataclass_fields__

    def usable(h: dict) -> bool:
        return all(k in h and (isinstance(h[k], (int, float)) and not isinstance(h[k], bool)
                               and math.isfinite(h[k]) or (k == "test_acc" and h[k] is None)) for k in names)

    return [Progress(**{k: h[k] for k in names}) for h in entries if usable(h)]


def at_chance_level(loss: float) -> bool:
    """Whether a train loss is that of a network guessing at random (not better, nor blown up)."""
    return CHANCE_LOSS - CHANCE_MARGIN <= loss <= CHANCE_LOSS + CHANCE_CEILING


def _slow_start_advice(activation: str, config: TrainConfig) -> str:
    """What to expect from a run whose loss has not left chance level yet."""
    if activation == "sigmoid" and config.optimizer == "sgd":
        return ("The seed's sigmoid LeNet often needs a few epochs of SGD to get going (more on a small "
                "subset); if it stays there, lower the learning rate.")
    return (f"A {activation} network with {config.optimizer_name} usually leaves it within an epoch: "
            f"if it stays there, lower the learning rate ({config.lr:g} now).")


def remaining_s(progress: Progress) -> float | None:
    """Time left in a run, extrapolated from its elapsed time and steps done."""
    if progress.step <= 0:
        return None
    return progress.elapsed_s * (progress.total_steps - progress.step) / progress.step


@torch.no_grad()
def output_spread(model: nn.Module, probe: torch.Tensor) -> float:
    """The largest standard deviation of an output across a batch of images.

    Zero means the network gives every image the same answer (all ReLUs of a layer dead): no
    gradient reaches the earlier layers, so the loss stays at chance level for good.
    """
    device = next(model.parameters()).device
    return model(probe.to(device)).std(0).max().item()


class StuckDetector:
    """Spots a run that can no longer learn although its loss stays finite (dead ReLUs).

    Stuck: the network gives every probe image the same output, or (ReLU networks only, as a
    sigmoid LeNet can sit at chance level for a few epochs and then learn) an almost identical
    output with the loss at chance level for :data:`FLAT_EPOCHS` epoch ends in a row.
    """

    def __init__(self, model: nn.Module, probe: torch.Tensor, relu: bool):
        self.model, self.probe, self.relu, self.flat_epochs = model, probe, relu, 0

    def stuck(self, epoch_loss: float | None = None) -> bool:
        """Check now; pass the epoch's train loss at the end of an epoch."""
        spread = output_spread(self.model, self.probe)
        if spread < DEAD_SPREAD:
            return True
        if epoch_loss is None or not self.relu:
            return False
        flat = spread < NEARLY_DEAD_SPREAD and epoch_loss >= CHANCE_LOSS - CHANCE_MARGIN
        self.flat_epochs = self.flat_epochs + 1 if flat else 0
        return self.flat_epochs >= FLAT_EPOCHS


def _stuck_message(config: TrainConfig, epoch: float, activation: str, loss: float | None) -> str:
    cause = "its ReLUs have died" if activation == "relu" else "its units have saturated"
    at_chance = loss is None or at_chance_level(loss)
    effect = (f"so the loss stays at chance level (ln 10 ≈ {CHANCE_LOSS:.3f})" if at_chance else
              f"and its loss, {loss_text(loss)}, is worse than guessing at random (ln 10 ≈ {CHANCE_LOSS:.3f})")
    return (f"Training is stuck at epoch {epoch:.2f}: the network gives (almost) the same output for every "
            f"image, {effect}. Hardly any gradient flows back: {cause}. The learning rate {config.lr:g} is "
            f"too high for this network with {config.optimizer_name}; try {suggested_lr(config, activation):g}"
            + (" (or Adam with 0.001)." if activation == "relu" and config.optimizer == "sgd" else "."))


@dataclass(frozen=True)
class Snapshot:
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
    """

    def __init__(self, spec: LeNetSpec, data: RunData, network: str, slots: RunSlots = SLOTS):
        self.spec, self.data, self.network, self.slots = spec, data, network, slots
        self.model = build_model(spec)
        self.config: TrainConfig | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: RunStatus = "idle"
        self._message = self._summary = self._hint = ""
        self._history: list[Progress] = []
        self._current: Progress | None = None
        self._offset = (0.0, 0.0)  # epoch and elapsed time at which the current run started
        self._runs = 0
        self._predictions: torch.Tensor | None = None
        self._checkpoint: bytes | None = None
        self._resumed = False  # loaded from a checkpoint: Continue goes on from its weights

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, data: RunData, network: str,
                        slots: RunSlots = SLOTS) -> TrainingSession:
        """A session holding a saved network (a copy: the checkpoint may be shared), ready to Continue.

        Raises :class:`RunRefused` when the network cannot go on training on ``data``.
        """
        if problem := trainable_problem(ckpt.spec):
            raise RunRefused(problem)
        if ckpt.dataset and ckpt.dataset != data.dataset:
            raise RunRefused(f"This network was trained on {ckpt.dataset}, not {data.dataset}: "
                             "continue it on the same dataset.")
        session = cls(ckpt.spec, data, network, slots)
        session.model.load_state_dict(ckpt.model.state_dict())
        session._history = resumed_history(ckpt.history)
        session._resumed = True
        return session

    # -- control (page thread) ------------------------------------------------------------

    def start(self, config: TrainConfig, *, fresh: bool = True,
              is_alive: Callable[[], bool] | None = None) -> None:
        """Train in the background: from fresh weights, or on from the current ones."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RunRefused("This session is already training; stop that run first.")
            if not fresh and not (self._history or self._resumed):
                raise RunRefused("There is nothing to continue yet; start a run first.")
            self.slots.acquire()
            if fresh:
                self._history = []
            self.config = config
            self._stop.clear()
            self._runs += 1
            self._status, self._message, self._summary, self._hint = "running", "", "", ""
            self._current, self._predictions, self._checkpoint = None, None, None
            self._offset = (self._history[-1].epoch, self._history[-1].elapsed_s) if self._history else (0.0, 0.0)
            self._thread = threading.Thread(target=self._work, args=(config, fresh, self._offset, is_alive),
                                            name="lenet-viz-train", daemon=True)
            try:
                self._thread.start()
            except RuntimeError as exc:
                self.slots.release()
                self._status = "idle"
                raise RunRefused(f"Could not start a training thread ({exc}).") from exc

    def stop(self) -> None:
        """Ask the run to end after the current step, keeping what it learned."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end; True if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def snapshot(self) -> Snapshot:
        with self._lock:
            busy = self._thread is not None and self._thread.is_alive()
            return Snapshot(self._status, busy, self._stop.is_set(), self._message, tuple(self._history),
                            self._current, self._offset[0] + (self.config.epochs if self.config else 0), self._summary,
                            self._hint, self._predictions, self._runs, self._resumed)

    def checkpoint(self) -> bytes:
        """The trained network as checkpoint bytes (made once per run; not while training)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RunRefused("The network is still training; stop or wait for the run to end.")
            if self._checkpoint is None:
                config = {**(self.config.to_dict() if self.config else {}), "model": self.network,
                          "train_images": len(self.data.train[0])}
                self._checkpoint = checkpoint_bytes(self.model, self.spec, self.data.dataset, self.data.classes,
                                                    self._history, config)
            return self._checkpoint

    # -- worker thread ----------------------------------------------------------------------

    def _work(self, config: TrainConfig, fresh: bool, offset: tuple[float, float],
              is_alive: Callable[[], bool] | None) -> None:

        def last_loss() -> float | None:
            with self._lock:
                return self._history[-1].train_loss if self._history else None

        def check(epoch: float, epoch_loss: float | None) -> None:
            state["checked"] = time.monotonic()
            if is_alive is not None:
                if is_alive():
                    state["gone_since"] = None
                elif state["gone_since"] is None:
                    state["gone_since"] = state["checked"]
                elif state["checked"] - state["gone_since"] > ABANDON_AFTER_S:
                    self._stop.set()
            if detector.stuck(epoch_loss):
                state["stuck"] = _stuck_message(config, epoch, self.spec.activation, last_loss())
                self._stop.set()

        def on_progress(p: Progress) -> None:
            shown = replace(p, epoch=offset[0] + p.epoch, elapsed_s=offset[1] + p.elapsed_s)
            with self._lock:
                self._history.append(shown)
                self._current = p
                if p.test_acc is not None:
                    self._hint = (f"The loss is still at chance level (ln 10 ≈ {CHANCE_LOSS:.2f}) after epoch "
                                  f"{round(shown.epoch, 2):g}. {_slow_start_advice(self.spec.activation, config)}"
                                  if at_chance_level(p.train_loss) else "")
            if p.test_acc is not None:
                check(shown.epoch, p.train_loss)
            elif time.monotonic() - state["checked"] >= CHECK_EVERY_S:
                check(shown.epoch, None)

        try:
            relu = self.spec.activation == "relu"
            detector = StuckDetector(self.model, to_input(self.data.test[0][:128]), relu)
            state = {"checked": time.monotonic(), "gone_since": None, "stuck": ""}
            with thread_limit(app_training_threads()):
                result = train(self.model, self.data.train, self.data.test, config, on_progress, self._stop,
                               fresh_weights=fresh)
            status: RunStatus = result.status
            message = result.message
            if status == "finished" and offset[0]:
                message = (f"Finished {config.epochs} more epoch{'s' if config.epochs > 1 else ''}: "
                           f"{round(offset[0] + config.epochs, 2):g} epochs in all.")
            if status not in ("diverged", "error") and not state["stuck"] and detector.stuck():
                last_epoch = self._history[-1].epoch if self._history else 0.0
                state["stuck"] = _stuck_message(config, last_epoch, self.spec.activation, last_loss())
            if state["stuck"] and status != "diverged":  # a blown-up loss says more than a stuck output
                status, message = "diverged", state["stuck"]
            elif status == "stopped" and state["gone_since"] is not None:
                message = "Stopped: the browser session that started this run was closed."
            with self._lock:
                self._status, self._message, self._summary = status, message, result.summary()
            if status != "diverged":
                try:
                    predictions = predict(self.model, self.data.test[0])
                except Exception as exc:  # noqa: BLE001 - the weights stay usable without the confusion matrix
                    with self._lock:
                        self._message += f" The test-set predictions failed ({type(exc).__name__}: {exc})."
                else:
                    with self._lock:
                        self._predictions = predictions
        except Exception as exc:  # noqa: BLE001 - any failure must reach the page, not kill the thread silently
            with self._lock:
                self._status, self._message = "error", f"Training failed: {type(exc).__name__}: {exc}"
        finally:
            self.slots.release()
