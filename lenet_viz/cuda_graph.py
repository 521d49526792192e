"""The training step as one CUDA graph: captured once, replayed for every full batch (issue 25).

On CUDA a LeNet step is about 70 small kernels. Launched one by one from Python the GPU waited
most of the time: 3,325 µs of wall time per step for 382 µs of kernel time at batch 256 on an
H200. Captured as a graph, a step is two launches from the host: a copy of the batch's indices
into a static buffer, and the replay, which gathers the images, runs forward, loss, backward and
the optimizer step, and adds the loss and the correct answers to sums kept on the device.

It follows PyTorch's whole-network capture recipe (``torch.cuda.graphs``, "Whole-network
capture"): warm-up steps on a side stream, gradients set to None before capture, static inputs,
then ``torch.cuda.graph``. Here the warm-up steps are the run's first real steps (nothing is
trained twice), and as a capture only records, the step it captured is then replayed to run it.

:func:`plan_steps` keeps steps eager for devices other than CUDA, ``--no-cuda-graphs``,
augmentation (it draws from the run's own random generator every step) and runs too short to warm
up; :class:`GraphedStep` runs an epoch's last partial batch eagerly (another shape, one step an
epoch), and every step after a capture that failed.

**One capture at a time per process.** Streamlit serves every browser session from threads of one
process, and a capture must not overlap other CUDA work that could join it or break it: captures
take :data:`CAPTURE_LOCK`, and so does training's ``torch.cuda.empty_cache()`` (it synchronises
the device, which is illegal while another thread captures). Captures use
``capture_error_mode="thread_local"``, so other sessions' eager CUDA work (allocations included)
is not refused while one captures: a capture records only its own stream. A capture that fails
anyway leaves the run eager, and the run says so.

Not yet measured on a GPU: no session with this code had a device (``benchmarks/README.md``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch

from lenet_viz.i18n import Msg

CAPTURE_LOCK = threading.Lock()
"""Held by every capture in this process, and by anything that must not run during one."""

WARMUP_STEPS = 3  # eager steps on a side stream before capture, as the PyTorch docs' recipe

EagerReason = Literal["not_cuda", "disabled", "augment", "few_steps", "ended_early", "failed"]
Step = Callable[[torch.Tensor], None]  # one whole training step on the examples at these indices


@dataclass(frozen=True)
class StepPlan:
    """How a run's steps are run: ``graph`` (captured and replayed), else eager, for ``reason``."""

    graph: bool
    reason: EagerReason | None = None


def plan_steps(device_type: str, wanted: bool, augment: bool, examples: int, batch_size: int,
               epochs: int) -> StepPlan:
    """Whether a run captures its step as a CUDA graph: on CUDA, when asked, with fixed work per
    step (no augmentation) and more full batches than the warm-up takes. Optimizers: SGD and Adam
    both capture (Adam as ``capturable=True``, see :func:`lenet_viz.training.make_optimizer`)."""
    if device_type != "cuda":
        return StepPlan(False, "not_cuda")
    if not wanted:
        return StepPlan(False, "disabled")
    if augment:
        return StepPlan(False, "augment")
    if examples // batch_size * epochs <= WARMUP_STEPS:
        return StepPlan(False, "few_steps")
    return StepPlan(True)


def release_cached_memory() -> None:
    """``torch.cuda.empty_cache()``, never during another thread's capture."""
    with CAPTURE_LOCK:
        torch.cuda.empty_cache()


def capture(step: Step, static_idx: torch.Tensor) -> Callable[[], None]:
    """Record ``step(static_idx)`` as a CUDA graph (nothing runs) and return its replay."""
    graph = torch.cuda.CUDAGraph()
    with CAPTURE_LOCK, torch.cuda.device(static_idx.device):
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            step(static_idx)
    return graph.replay


@contextmanager
def side_stream(stream: torch.cuda.Stream | None) -> Iterator[None]:
    """Run the block on ``stream``, ordered after the work queued before it and before the work
    queued after it (the recipe's warm-up); as it is where ``stream`` is None."""
    if stream is None:
        yield
        return
    current = torch.cuda.current_stream(stream.device)
    stream.wait_stream(current)
    with torch.cuda.stream(stream):
        yield
    current.wait_stream(stream)


class GraphedStep:
    """Runs ``step`` for every batch of a run: the first :data:`WARMUP_STEPS` full batches eagerly
    on a side stream, then captured once and replayed; partial batches eagerly.

    ``step`` must do only device work on tensors that live the whole run (the model, the
    optimizer, the data, the sums), read its batch from the indices it is given, and count
    nothing on the host: a replay runs its kernels, never its Python.
    """

    def __init__(self, step: Step, batch_size: int, device: torch.device):
        self.step = step
        self.static_idx = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None
        self.warm_steps = self.replays = 0
        self.replay: Callable[[], None] | None = None
        self.failure: str | None = None  # why capture failed; the steps are eager from then on

    def __call__(self, idx: torch.Tensor) -> None:
        if len(idx) != len(self.static_idx) or self.failure is not None:
            self.step(idx)
            return
        self.static_idx.copy_(idx)
        if self.replay is None and self.warm_steps < WARMUP_STEPS:
            with side_stream(self.stream):
                self.step(self.static_idx)
            self.warm_steps += 1
            return
        if self.replay is None:
            try:
                self.replay = capture(self.step, self.static_idx)
            except Exception as exc:  # noqa: BLE001 - any capture failure: this run goes on eagerly
                self.failure = f"{type(exc).__name__}: {exc}"
                self.step(idx)  # a capture only records: this batch has not been trained on yet
                return
        self.replay()
        self.replays += 1


def path_message(plan: StepPlan, graphed: GraphedStep | None, steps: int) -> Msg:
    """Which path a run's ``steps`` took, for its summary."""
    if graphed is not None and graphed.failure is None and graphed.replays:
        return Msg("cuda_graph.path_graph", replays=graphed.replays, eager=steps - graphed.replays)
    if graphed is None:
        reason = plan.reason
    else:  # planned as a graph: it failed, or the run ended (stopped, diverged) before the capture
        reason = "failed" if graphed.failure is not None else "ended_early"
    return Msg("cuda_graph.path_eager", reason=Msg(f"cuda_graph.reason_{reason}"))


def failure_message(graphed: GraphedStep | None) -> Msg | None:
    """What the run's message adds when its capture failed."""
    if graphed is None or graphed.failure is None:
        return None
    return Msg("cuda_graph.capture_failed", error=graphed.failure)

