"""The training engine shared by the CLI and the app: d2l's ``train_ch6``, made fast.

Same semantics as the seed (Xavier init, SGD, cross-entropy, train loss / train acc / test acc,
examples/sec), but the data is held as one tensor on the training device, batches are indexed
from a random permutation, the layout is channels-last, and the host only syncs with the device
when it reports progress (a few times a second), never every step. On CUDA the step is captured
once as a CUDA graph and replayed (:mod:`lenet_viz.cuda_graph`); elsewhere it runs eagerly.
"""

from __future__ import annotations

import ctypes
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from lenet_viz.advice import blown_up, divergence_message
from lenet_viz.cuda_graph import GraphedStep, StepPlan, failure_message, path_message, plan_steps, release_cached_memory
from lenet_viz.data import to_input
from lenet_viz.errors import LenetVizError
from lenet_viz.history import Progress, Snapshot, last_test_acc, loss_text, snapshot_steps, take_snapshot
from lenet_viz.i18n import Msg
from lenet_viz.models import activation_of

Split = tuple[torch.Tensor, torch.Tensor]  # uint8 images N×28×28, int64 labels N
Status = Literal["finished", "stopped", "diverged", "error"]


class DeviceError(LenetVizError, ValueError):
    """A device that is not there (or not a device name)."""


@dataclass
class TrainConfig:
    """Hyperparameters of one run (defaults: the seed's ``classic`` recipe)."""

    epochs: int = 10
    lr: float = 0.9
    batch_size: int = 256
    optimizer: Literal["sgd", "adam"] = "sgd"
    device: str = "auto"
    seed: int = 0
    augment: bool = False
    report_every_s: float = 0.25

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def optimizer_name(self) -> str:
        return {"sgd": "SGD", "adam": "Adam"}[self.optimizer]


@dataclass
class TrainResult:
    status: Status
    message: str
    history: list[Progress] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    device: str = "cpu"
    examples_per_sec: float = 0.0
    step_path: str = ""  # which path the steps took: a CUDA graph, or eager and why (a Msg)

    @property
    def final(self) -> Progress | None:
        return self.history[-1] if self.history else None

    def summary(self) -> str:
        """The seed's two closing lines (in English as text, as the CLI prints them; a page may localize them)."""
        last = self.final
        if last is None:
            return self.message
        test = last_test_acc(self.history)
        return Msg("training.summary", loss=loss_text(last.train_loss), train=f"{last.train_acc:.3f}",
                   test=f"{test:.3f}" if test is not None else Msg("training.not_tested"),
                   rate=f"{self.examples_per_sec:.1f}", device=str(self.device))


def tune_memory_allocator() -> bool:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system at once.

    The same as ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=…``
    but settable at run time: training allocates and frees the same buffers every step, and
    without this each step pays page faults for them (8-15% of a CPU epoch here, see
    ``benchmarks/README.md``). Returns False where it does not apply (not glibc).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20) and libc.mallopt(m_trim_threshold, 2**31 - 1))


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; other names are used as given."""
    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError:
            raise DeviceError(f"{name!r} is not a device name: use auto, cpu, cuda, cuda:1 or mps.") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceError("device 'cuda' was asked for, but no CUDA GPU is available here.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda:0")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def start_device_init(name: str) -> threading.Thread | None:
    """Initialise CUDA in a thread (driver, context, the first cuDNN convolution), so that it
    overlaps with what the caller does next, such as loading the data; None where ``name``
    cannot be a CUDA device. Join the thread before training. Errors are left to the run's own
    :func:`pick_device`, which reports them."""
    if name != "auto" and not name.startswith("cuda"):
        return None

    def init() -> None:
        try:
            device = pick_device(name)
            if device.type == "cuda":
                tiny = torch.zeros(1, 1, 5, 5, device=device)
                F.conv2d(tiny, tiny)
        except Exception:  # noqa: BLE001 - the run's pick_device raises the same error, in its own words
            pass

    thread = threading.Thread(target=init, name="lenet-viz-cuda-init", daemon=True)
    thread.start()
    return thread


def available_devices() -> list[str]:
    """Device choices for a run: ``auto``, ``cpu``, and ``cuda`` / ``mps`` where present."""
    mps = getattr(torch.backends, "mps", None)
    return (["auto", "cpu"] + ["cuda"] * torch.cuda.is_available()
            + ["mps"] * bool(mps and mps.is_available()))


def describe_device(device: torch.device) -> str:
    """``cuda:0 (NVIDIA H100 80GB HBM3)``, ``mps`` or ``cpu``."""
    if device.type == "cuda":
        index = device.index or 0
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)


class PlainSGD:
    """SGD without momentum, p ← p − lr·∇p: the update ``torch.optim.SGD(params, lr)`` makes.

    Written out because building any ``torch.optim`` optimizer imports ``torch._dynamo`` first,
    1.3 s of a 5 s CPU epoch here (see ``benchmarks/README.md``). ``lr`` may be a 0-dim tensor on
    the parameters' device: a captured step reads it at every replay.
    """

    def __init__(self, params, lr: float | torch.Tensor):
        self.params, self.lr = list(params), lr

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        with_grad = [p for p in self.params if p.grad is not None]
        if not with_grad:
            return
        grads = [p.grad for p in with_grad]
        if isinstance(self.lr, torch.Tensor):
            torch._foreach_sub_(with_grad, torch._foreach_mul(grads, self.lr))
        else:
            torch._foreach_add_(with_grad, grads, alpha=-self.lr)


def make_optimizer(name: str, params, lr: float, device: torch.device, graph: bool) -> torch.optim.Optimizer | PlainSGD:
    """The run's optimizer. For a captured step the learning rate is a tensor on the device (a
    replay reads it there; it could change between replays without a new capture), and Adam is
    ``capturable`` (its step count stays on the device too)."""
    rate = torch.tensor(float(lr), device=device) if graph else lr
    if name == "adam":
        adam = torch.optim.Adam(params, lr=rate, capturable=graph)
        # its warm-up and partial-batch steps run uncaptured on purpose: no warning that they might be slower
        adam._warned_capturable_if_run_uncaptured = True
        return adam
    return PlainSGD(params, rate)


@torch.no_grad()
def init_weights(model: nn.Module, seed: int) -> None:
    """Fresh parameters for every conv and linear layer: Xavier-uniform weights, as d2l's
    ``train_ch6``, and PyTorch's default biases (uniform in ±1/√fan-in).

    Drawn from a generator of their own, so the same seed gives the same network whatever other
    threads do with torch's global random state (the app trains beside other sessions), and into
    plain contiguous tensors, so a model already in channels-last layout gets the same values.
    """
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            weight = nn.init.xavier_uniform_(torch.empty(m.weight.shape), generator=generator)
            m.weight.copy_(weight)
            if m.bias is not None:
                bound = 1 / math.sqrt(weight[0].numel())
                m.bias.copy_(nn.init.uniform_(torch.empty(m.bias.shape), -bound, bound, generator=generator))


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Hand-drawing augmentation of a float N×1×H×W batch: random rotation (±15°), scale
    (0.85–1.15), shift (±2 px) and stroke width (thicker or thinner for a third each)."""
    n, device = x.shape[0], x.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=device) * (hi - lo) + lo

    angle = uniform(-15, 15) * math.pi / 180
    scale = uniform(0.85, 1.15)
    shift = uniform(-2, 2), uniform(-2, 2)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos, -sin, shift[0] * 2 / x.shape[-1]], 1),
        torch.stack([sin, cos, shift[1] * 2 / x.shape[-2]], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    stroke = torch.rand(n, 1, 1, 1, generator=generator, device=device)
    thick = F.max_pool2d(x, 3, 1, 1)
    thin = -F.max_pool2d(-x, 2, 1, 0)
    thin = F.pad(thin, (0, 1, 0, 1))
    return torch.where(stroke < 1 / 3, thick, torch.where(stroke < 2 / 3, thin, x))


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, device: torch.device | None = None, batch_size: int = 1024,
             stop: threading.Event | None = None) -> float | None:
    """Accuracy of ``model`` on a split, or None if ``stop`` was set before it finished."""
    device = device or next(model.parameters()).device
    images, labels = split
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.long, device=device)
    for start in range(0, len(images), batch_size):
        if stop is not None and stop.is_set():
            model.train(was_training)
            return None
        x = to_input(images[start:start + batch_size].to(device))
        if device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        correct += (model(x).argmax(1) == labels[start:start + batch_size].to(device)).sum()
    model.train(was_training)
    return correct.item() / max(len(images), 1)


def out_of_memory(exc: BaseException) -> bool:
    """Whether an exception says the device ran out of memory (CUDA, MPS or the CPU allocator)."""
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


class _Meter:
    """Examples/s of the training steps alone: the time between progress reports of an epoch,
    never its evaluation."""

    def __init__(self) -> None:
        self.train_s, self.seen, self._since, self._counted = 0.0, 0, 0.0, 0

    def start_epoch(self) -> None:
        self._since, self._counted = time.perf_counter(), 0

    def count(self, seen: int) -> None:
        """Add the steps since the last count; ``seen`` is the epoch's examples so far."""
        now = time.perf_counter()
        self.train_s += now - self._since
        self.seen += seen - self._counted
        self._since, self._counted = now, seen

    def uncounted(self, seen: int) -> bool:
        return seen > self._counted

    @property
    def rate(self) -> float:
        return self.seen / self.train_s if self.train_s else 0.0


class _EpochSums:
    """Loss and correct answers of an epoch so far, kept on the device (read only at reports) in
    tensors that live the whole run (a captured step adds into them); ``seen`` is counted on the host."""

    def __init__(self, device: torch.device):
        self.loss = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.long, device=device)
        self.seen = 0

    def reset(self) -> None:
        self.loss.zero_()
        self.correct.zero_()
        self.seen = 0

    @torch.no_grad()
    def add(self, loss: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        self.loss += loss.detach() * len(y)
        self.correct += (y_hat.argmax(1) == y).sum()

    def means(self) -> tuple[float, float]:
        """Mean loss and accuracy: the host-device sync of a training segment."""
        return (self.loss / self.seen).item(), self.correct.item() / self.seen


class _Run:
    """One call of :func:`train`: the model on its device, the data, the optimizer and what was
    reported so far. Its methods are the loop's parts: a step, an epoch, a report, a snapshot."""

    def __init__(self, model: nn.Module, train_split: Split, test_split: Split | None, config: TrainConfig,
                 on_progress: Callable[[Progress], None] | None, on_snapshot: Callable[[Snapshot], None] | None,
                 stop: threading.Event | None, snapshots: int, cuda_graphs: bool):
        self.model, self.config, self.on_progress, self.on_snapshot = model, config, on_progress, on_snapshot
        self.stop = stop or threading.Event()
        self.device = pick_device(config.device)
        self.memory_format = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        model.to(device=self.device, memory_format=self.memory_format).train()
        self.images, self.labels = train_split[0].to(self.device), train_split[1].to(self.device)
        self.test = (test_split[0].to(self.device), test_split[1].to(self.device)) if test_split is not None else None
        self.plan: StepPlan = plan_steps(self.device.type, cuda_graphs, config.augment, len(self.images),
                                         config.batch_size, config.epochs)
        self.optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, self.device, self.plan.graph)
        self.loss_fn = nn.CrossEntropyLoss()
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self.steps_per_epoch = math.ceil(len(self.images) / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.snapshot_at = set(snapshot_steps(self.total_steps, snapshots))
        self.result = TrainResult("finished", "", device=describe_device(self.device))
        self.meter, self.started, self.test_acc = _Meter(), time.perf_counter(), None
        self.steps_done, self.sums = 0, _EpochSums(self.device)
        self.graphed = GraphedStep(self.device_step, config.batch_size, self.device) if self.plan.graph else None

    def device_step(self, idx: torch.Tensor) -> None:
        """A training step's device work (what a CUDA graph captures): no host-side state here."""
        x, y = to_input(self.images[idx]), self.labels[idx]
        if self.config.augment:
            x = augment_batch(x, self.generator)
        y_hat = self.model(x.contiguous(memory_format=self.memory_format))
        loss = self.loss_fn(y_hat, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.sums.add(loss, y_hat, y)

    def step(self, idx: torch.Tensor) -> None:
        (self.graphed or self.device_step)(idx)
        self.sums.seen += len(idx)
        self.steps_done += 1

    def report(self, epoch: int, step: int, sums: _EpochSums, test_acc: float | None) -> Progress:
        loss, accuracy = sums.means()
        if test_acc is None:
            self.meter.count(sums.seen)
        progress = Progress(epoch=epoch + step / self.steps_per_epoch, step=epoch * self.steps_per_epoch + step,
                            total_steps=self.total_steps, train_loss=loss, train_acc=accuracy, test_acc=test_acc,
                            examples_per_sec=self.meter.rate, elapsed_s=time.perf_counter() - self.started)
        self.result.history.append(progress)
        if self.on_progress:
            self.on_progress(progress)
        return progress

    def snapshot(self, step: int, sums: _EpochSums | None) -> None:
        """Keep the weights at global ``step`` (metrics of the epoch so far); a non-finite network is not kept."""
        loss, accuracy = sums.means() if sums is not None and sums.seen else (None, None)
        kept = take_snapshot(self.model, step, step / self.steps_per_epoch, loss, accuracy, self.test_acc)
        if all(torch.isfinite(t).all() for t in kept.state_dict.values()):
            self.result.snapshots.append(kept)
            if self.on_snapshot:
                self.on_snapshot(kept)

    def epoch(self, epoch: int) -> Status | None:
        """Train one epoch (and test it); a status when the run ends here."""
        order = torch.randperm(len(self.images), device=self.device, generator=self.generator)
        sums = self.sums
        sums.reset()
        last_report = time.perf_counter()
        self.meter.start_epoch()
        first, size, last = epoch * self.steps_per_epoch, self.config.batch_size, self.steps_per_epoch - 1
        for step in range(self.steps_per_epoch):
            if self.stop.is_set():
                return self.stopped(epoch, sums)
            self.step(order[step * size:(step + 1) * size])
            if step < last and first + step + 1 in self.snapshot_at:  # an epoch's last step: after its test
                self.snapshot(first + step + 1, sums)
            if time.perf_counter() - last_report >= self.config.report_every_s or step == last:
                progress = self.report(epoch, step + 1, sums, None)
                last_report = time.perf_counter()
                if blown_up(progress.train_loss):
                    self.result.message = divergence_message(self.config, progress.train_loss, progress.epoch,
                                                             activation_of(self.model))
                    return "diverged"
        if self.stop.is_set():
            return self.stopped(epoch, sums)
        if self.test is not None:
            test_acc = evaluate(self.model, self.test, self.device, stop=self.stop)
            if test_acc is None:
                self.result.message = Msg("training.stopped_at", epoch=epoch + 1)
                return "stopped"
            self.test_acc = test_acc
        if first + self.steps_per_epoch in self.snapshot_at:
            self.snapshot(first + self.steps_per_epoch, sums)
        if self.test is not None:
            self.report(epoch, self.steps_per_epoch, sums, self.test_acc)
        return None

    def stopped(self, epoch: int, sums: _EpochSums) -> Status:
        """End the run at a stop request, reporting the steps done since the last report."""
        if self.meter.uncounted(sums.seen):
            self.report(epoch, math.ceil(sums.seen / self.config.batch_size), sums, None)
        self.result.message = Msg("training.stopped_at", epoch=f"{epoch + sums.seen / len(self.images):.2f}")
        return "stopped"

    def snapshot_last(self) -> None:
        """Keep the weights a stopped run ends with, unless its last snapshot has them already."""
        kept = self.result.snapshots
        if self.snapshot_at and (not kept or kept[-1].step != self.steps_done):
            self.snapshot(self.steps_done, self.sums)

    def run(self) -> TrainResult:
        try:
            if 0 in self.snapshot_at:
                self.snapshot(0, None)
            for epoch in range(self.config.epochs):
                if status := self.epoch(epoch):
                    self.result.status = status
                    break
            if self.result.status == "stopped":
                self.snapshot_last()
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled here; the rest is re-raised
            if not out_of_memory(exc):
                raise
            at = self.result.history[-1].epoch if self.result.history else 0.0
            self.result.status = "error"
            self.result.message = Msg("training.out_of_memory", device=str(self.device), batch=self.config.batch_size,
                                      epoch=f"{at:.2f}")
        finally:
            self.model.train()
            self.result.step_path = path_message(self.plan, self.graphed, self.steps_done)
            failure, self.graphed = failure_message(self.graphed), None  # a graph's memory goes with it
            if self.device.type == "cuda":
                release_cached_memory()  # give the failed step's memory back to other runs
        self.result.examples_per_sec = self.meter.rate
        if self.result.status == "finished":
            epochs = self.config.epochs
            self.result.message = Msg("training.finished_one" if epochs == 1 else "training.finished", epochs=epochs)
        if failure is not None:
            self.result.message = Msg("training.then", a=self.result.message, b=failure)
        return self.result


def train(
    model: nn.Module,
    train_split: Split,
    test_split: Split | None,
    config: TrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    fresh_weights: bool = True,
    snapshots: int = 0,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    cuda_graphs: bool = True,
) -> TrainResult:
    """Train ``model`` in place and return its history; honours ``stop`` between steps.

    ``on_progress`` gets a :class:`Progress` every ``config.report_every_s`` seconds, at the
    end of each epoch and after each evaluation. A non-finite loss ends the run as
    ``diverged``; a set ``stop`` event ends it as ``stopped``, keeping the weights learned so far.
    ``snapshots`` > 0 keeps that many float16 copies of the weights at :func:`snapshot_steps`
    (plus the step a stopped run ended at), each passed to ``on_snapshot`` as it is taken.
    ``cuda_graphs``: on CUDA, capture the step once as a CUDA graph and replay it where
    :func:`~lenet_viz.cuda_graph.plan_steps` allows (elsewhere it changes nothing); the result's
    ``step_path`` says which path ran, and its message says so when a capture failed.
    """
    if pick_device(config.device).type == "cpu":
        tune_memory_allocator()
    if fresh_weights:
        init_weights(model, config.seed)
    return _Run(model, train_split, test_split, config, on_progress, on_snapshot, stop, snapshots, cuda_graphs).run()


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device | None = None,
            batch_size: int = 1024) -> torch.Tensor:
    """Predicted class of each uint8 image (int64, on the CPU), in batches."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    out = [model(to_input(images[start:start + batch_size].to(device)).contiguous(memory_format=memory_format))
           .argmax(1).cpu() for start in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)
