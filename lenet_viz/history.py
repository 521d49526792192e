"""A run's history in one typed form: :class:`Progress` events (the curves) and :class:`Snapshot` s
(the weights at chosen steps, for replay).

The engine reports them, the session and the CLI keep them, checkpoints store them as plain dicts
(so ``torch.load(..., weights_only=True)`` reads them) and :func:`parse_history` /
:func:`parse_snapshots` turn those dicts back into this form, checking every value on the way: a
checkpoint may come from anyone.

A run that continues an earlier one counts on from where that ended: :func:`offset_after` says
where, once, and :meth:`Offset.shift` moves the new run's events and snapshots there.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch

MAX_SNAPSHOTS = 64  # per checkpoint, whatever was asked for
SNAPSHOT_BUDGET_BYTES = 4 * 2**20  # all snapshots of a checkpoint in float16: a LeNet's 24 take 3.0 MB
DEFAULT_SNAPSHOTS = 24


class HistoryError(ValueError):
    """History or snapshot data that is not what lenet-viz writes (the checkpoint loader names the file)."""


@dataclass(frozen=True)
class Progress:
    """One progress event: metrics so far in the current epoch (d2l's Animator points)."""

    epoch: float  # fractional epoch, e.g. 2.4
    step: int
    total_steps: int
    train_loss: float
    train_acc: float
    test_acc: float | None  # set once per epoch, after evaluation
    examples_per_sec: float
    elapsed_s: float


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The weights at one step of a run, with the metrics of that moment (None where not measured yet).

    ``loss`` and ``train_acc`` are the running means of the epoch so far; ``test_acc`` is the last
    evaluation before this step (None during the first epoch). Weights are float16 on the CPU.
    """

    step: int
    epoch: float
    loss: float | None
    train_acc: float | None
    test_acc: float | None
    state_dict: dict[str, torch.Tensor]

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "state_dict"},
                "state_dict": dict(self.state_dict)}


@dataclass(frozen=True)
class Offset:
    """Where a continued run starts: the epoch, step and training time its predecessors reached."""

    epoch: float = 0.0
    step: int = 0
    elapsed_s: float = 0.0

    def shift(self, p: Progress) -> Progress:
        return replace(p, epoch=self.epoch + p.epoch, step=self.step + p.step,
                       total_steps=self.step + p.total_steps, elapsed_s=self.elapsed_s + p.elapsed_s)

    def shift_snapshot(self, s: Snapshot) -> Snapshot:
        return replace(s, step=self.step + s.step, epoch=self.epoch + s.epoch)


def offset_after(history: list[Progress] | tuple[Progress, ...]) -> Offset:
    """Where a run continuing ``history`` starts (the origin for a fresh one)."""
    if not history:
        return Offset()
    last = history[-1]
    return Offset(last.epoch, last.step, last.elapsed_s)


def last_test_acc(history: list[Progress] | tuple[Progress, ...]) -> float | None:
    """The most recent test accuracy in a history, if any epoch was evaluated."""
    return next((p.test_acc for p in reversed(history) if p.test_acc is not None), None)


def loss_text(loss: float) -> str:
    """A loss for people: ``0.472``, or ``1.22e+11`` once it has blown up."""
    return f"{loss:.3f}" if abs(loss) < 1000 else f"{loss:.3g}"


def snapshot_steps(total_steps: int, count: int) -> list[int]:
    """The steps at which a run of ``total_steps`` keeps ``count`` snapshots: log-spaced, dense
    early (most of the change happens then), step 0 and the last step always included.

    Fewer when the run has fewer steps; ``count`` 0 turns them off, 1 keeps the last step only.
    """
    if count <= 0 or total_steps < 0:
        return []
    if count == 1 or total_steps == 0:
        return [total_steps]
    if count > total_steps:
        return list(range(total_steps + 1))
    steps = [0]
    for i in range(1, count):  # geometric from 1 to total_steps, kept strictly rising with room left
        target = round(total_steps ** ((i - 1) / (count - 2))) if count > 2 else total_steps
        steps.append(min(max(target, steps[-1] + 1), total_steps - (count - 1 - i)))
    return steps


def bounded_snapshots(count: int, params: int) -> int:
    """``count`` bounded by :data:`MAX_SNAPSHOTS` and :data:`SNAPSHOT_BUDGET_BYTES` for a network of
    ``params`` parameters (0 when not even the first and last fit)."""
    fitting = min(count, MAX_SNAPSHOTS, SNAPSHOT_BUDGET_BYTES // max(2 * params, 1))
    return fitting if fitting >= 2 or fitting == count else 0


def thin(snapshots: list[Snapshot], cap: int = MAX_SNAPSHOTS) -> list[Snapshot]:
    """At most ``cap`` snapshots, evenly picked, first and last kept (runs continued many times)."""
    if len(snapshots) <= cap or cap < 2:
        return snapshots
    keep = sorted({round(i * (len(snapshots) - 1) / (cap - 1)) for i in range(cap)})
    return [snapshots[i] for i in keep]


def take_snapshot(model: torch.nn.Module, step: int, epoch: float, loss: float | None,
                  train_acc: float | None, test_acc: float | None) -> Snapshot:
    """A float16 CPU copy of ``model``'s weights with the metrics of the moment."""
    state = {k: v.detach().to("cpu", torch.float16, copy=True).contiguous() for k, v in model.state_dict().items()}
    return Snapshot(step, epoch, loss, train_acc, test_acc, state)


def _number(value: Any, what: str, *, optional: bool = False, finite: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HistoryError(f"{what} is {value!r}, not a number")
    if finite and not math.isfinite(value):
        raise HistoryError(f"{what} is {value!r}, not a finite number")
    return value


def _entries(raw: Any, what: str) -> list[dict]:
    if not isinstance(raw, (list, tuple)) or not all(isinstance(e, dict) for e in raw):
        raise HistoryError(f"the {what} is not a list of records")
    return list(raw)


def parse_history(raw: Any) -> tuple[Progress, ...]:
    """Progress events from a checkpoint's ``history`` list; raises :class:`HistoryError` for
    anything else (missing fields, values that are not numbers)."""
    events = []
    for i, entry in enumerate(_entries(raw, "training history")):
        missing = [f.name for f in fields(Progress) if f.name not in entry]
        if missing:
            raise HistoryError(f"training history entry {i} lacks {', '.join(missing)}")
        values = {f.name: _number(entry[f.name], f"history entry {i}: {f.name}", optional=f.name == "test_acc",
                                  finite=f.name != "train_loss")  # a diverged run's loss may be inf
                  for f in fields(Progress)}
        events.append(Progress(**{**values, "step": int(values["step"]), "total_steps": int(values["total_steps"])}))
    return tuple(events)


def with_train_points(history: list[Progress] | tuple[Progress, ...]) -> tuple[Progress, ...]:
    """``history`` in the engine's form, where an epoch's end is a train event (``test_acc`` None) and
    then its test event at the same step: an event that carries both (the Teach page writes one per
    epoch, with its held-out accuracy) gets its train event before it, so that the train loss and
    accuracy curves have that point too (they read the events without ``test_acc``). A history that is
    already in this form comes back as it was."""
    events: list[Progress] = []
    for p in history:
        if p.test_acc is not None and not (events and events[-1].test_acc is None and events[-1].step == p.step):
            events.append(replace(p, test_acc=None))
        events.append(p)
    return tuple(events)


def history_dicts(history: list[Progress] | tuple[Progress, ...]) -> list[dict[str, Any]]:
    """The plain form a checkpoint stores."""
    return [asdict(p) for p in history]


def parse_snapshots(raw: Any, final: dict[str, torch.Tensor]) -> tuple[Snapshot, ...]:
    """Snapshots from a checkpoint's ``snapshots`` list, each with the final weights' names and
    shapes; raises :class:`HistoryError` for anything else, or for more than the bounds allow."""
    entries = _entries(raw, "snapshot list")
    if len(entries) > MAX_SNAPSHOTS:
        raise HistoryError(f"it holds {len(entries)} snapshots; at most {MAX_SNAPSHOTS} are supported")
    numel = sum(t.numel() for t in final.values())
    if entries and 2 * numel * len(entries) > SNAPSHOT_BUDGET_BYTES:
        raise HistoryError(f"its {len(entries)} snapshots take {2 * numel * len(entries) / 1e6:.1f} MB; "
                           f"at most {SNAPSHOT_BUDGET_BYTES / 1e6:.1f} MB are supported")
    snapshots, last_step = [], -1
    for i, entry in enumerate(entries):
        what = f"snapshot {i}"
        step = entry.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or step <= last_step:
            raise HistoryError(f"{what}: its step {step!r} is not a whole number above the one before")
        epoch = _number(entry.get("epoch"), f"{what}: epoch")
        loss, train_acc, test_acc = (_number(entry.get(k), f"{what}: {k}", optional=True, finite=k != "loss")
                                     for k in ("loss", "train_acc", "test_acc"))
        state = entry.get("state_dict")
        if not isinstance(state, dict) or set(state) != set(final):
            raise HistoryError(f"{what}: its weights are not the network's layers")
        for name, tensor in state.items():
            if not isinstance(tensor, torch.Tensor) or tensor.shape != final[name].shape:
                raise HistoryError(f"{what}: its weights '{name}' do not have the network's shape")
            if not tensor.is_floating_point():
                raise HistoryError(f"{what}: its weights '{name}' are not all finite numbers")
        if not torch.isfinite(torch.cat([t.reshape(-1).float() for t in state.values()])).all():
            raise HistoryError(f"{what}: its weights are not all finite numbers")  # one check: 10× quicker
        snapshots.append(Snapshot(step, epoch, loss, train_acc, test_acc, dict(state)))
        last_step = step
    return tuple(snapshots)
