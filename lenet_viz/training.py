"""The training engine shared by the CLI and the app: d2l's ``train_ch6``, made fast.

Same semantics as the seed (Xavier init, SGD, cross-entropy, train loss / train acc / test acc,
examples/sec), but the data is held as one tensor on the training device, batches are indexed
from a random permutation, the layout is channels-last, and the host only syncs with the device
when it reports progress (a few times a second), never every step.
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

from lenet_viz.data import to_input
from lenet_viz.models import activation_of

Split = tuple[torch.Tensor, torch.Tensor]  # uint8 images N×28×28, int64 labels N
Status = Literal["finished", "stopped", "diverged", "error"]


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


@dataclass
class TrainResult:
    status: Status
    message: str
    history: list[Progress] = field(default_factory=list)
    device: str = "cpu"
    examples_per_sec: float = 0.0

    @property
    def final(self) -> Progress | None:
        return self.history[-1] if self.history else None

    def summary(self) -> str:
        """The seed's two closing lines."""
        last = self.final
        if last is None:
            return self.message
        test = last_test_acc(self.history)
        test_txt = f"{test:.3f}" if test is not None else "n/a"
        return (f"loss {loss_text(last.train_loss)}, train acc {last.train_acc:.3f}, test acc {test_txt}\n"
                f"{self.examples_per_sec:.1f} examples/sec on {self.device}")


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


def last_test_acc(history: list[Progress] | tuple[Progress, ...]) -> float | None:
    """The most recent test accuracy in a history, if any epoch was evaluated."""
    return next((p.test_acc for p in reversed(history) if p.test_acc is not None), None)


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; other names are used as given."""
    if name != "auto":
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available here.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda:0")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """``cuda:0 (NVIDIA H100 80GB HBM3)``, ``mps`` or ``cpu``."""
    if device.type == "cuda":
        index = device.index or 0
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return str(device)


class PlainSGD:
    """SGD without momentum, p ← p − lr·∇p: the update ``torch.optim.SGD(params, lr)`` makes.

    Written out because building any ``torch.optim`` optimizer imports ``torch._dynamo`` first,
    1.3 s of a 5 s CPU epoch here (see ``benchmarks/README.md``).
    """

    def __init__(self, params, lr: float):
        self.params, self.lr = list(params), lr

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        with_grad = [p for p in self.params if p.grad is not None]
        if with_grad:
            torch._foreach_add_(with_grad, [p.grad for p in with_grad], alpha=-self.lr)


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


EXPLODED_LOSS = 1000.0  # a cross-entropy this high means the weights have blown up (chance level is ln 10 ≈ 2.3)


def default_lr(optimizer: str, activation: str) -> float:
    """A learning rate that works: the seed's 0.9 for SGD on its sigmoid LeNet, 0.1 for SGD on
    ReLU/tanh networks (0.9 kills their ReLUs), Adam's usual 0.001."""
    if optimizer == "adam":
        return 0.001
    return 0.9 if activation == "sigmoid" else 0.1


def suggested_lr(config: TrainConfig, activation: str) -> float:
    """A learning rate to try after this one failed: a tenth of it, and never above the default."""
    return min(config.lr / 10, default_lr(config.optimizer, activation))


def loss_text(loss: float) -> str:
    """A loss for people: ``0.472``, or ``1.22e+11`` once it has blown up."""
    return f"{loss:.3f}" if abs(loss) < 1000 else f"{loss:.3g}"


def blown_up(loss: float) -> bool:
    """Whether a training loss says the run has diverged: not a number, infinite, or huge."""
    return not math.isfinite(loss) or loss > EXPLODED_LOSS


def _divergence_message(config: TrainConfig, loss: float, epoch: float, activation: str) -> str:
    what = ("no longer a finite number" if not math.isfinite(loss)
            else f"{loss_text(loss)}, far above chance level (2.3)")
    return (f"Training diverged at epoch {epoch:.2f}: the loss is {what}. The learning rate {config.lr:g} is too "
            f"high for this network with {config.optimizer_name}; try {suggested_lr(config, activation):g}.")


def train(
    model: nn.Module,
    train_split: Split,
    test_split: Split | None,
    config: TrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    fresh_weights: bool = True,
) -> TrainResult:
    """Train ``model`` in place and return its history; honours ``stop`` between steps.

    ``on_progress`` gets a :class:`Progress` every ``config.report_every_s`` seconds, at the
    end of each epoch and after each evaluation. A non-finite loss ends the run as
    ``diverged``; a set ``stop`` event ends it as ``stopped``, keeping the weights learned so far.
    """
    device = pick_device(config.device)
    if device.type == "cpu":
        tune_memory_allocator()
    if fresh_weights:
        init_weights(model, config.seed)
    memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    model.to(device=device, memory_format=memory_format).train()
    images, labels = train_split[0].to(device), train_split[1].to(device)
    test = (test_split[0].to(device), test_split[1].to(device)) if test_split is not None else None
    if config.optimizer == "adam":
        optimizer: torch.optim.Optimizer | PlainSGD = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        optimizer = PlainSGD(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator(device=device).manual_seed(config.seed)
    n = len(images)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    result = TrainResult("finished", "", device=describe_device(device))
    clock = {"train_s": 0.0, "segment_start": 0.0, "seen_total": 0, "seen_reported": 0}
    started = time.perf_counter()

    def report(epoch: int, step: int, loss_sum, correct, seen: int, test_acc: float | None) -> Progress:
        loss_value = (loss_sum / seen).item()  # the only host-device sync of a training segment
        accuracy = correct.item() / seen
        now = time.perf_counter()
        if test_acc is None:
            clock["train_s"] += now - clock["segment_start"]
            clock["seen_total"] += seen - clock["seen_reported"]
            clock["seen_reported"] = seen
            clock["segment_start"] = now
        progress = Progress(
            epoch=epoch + step / steps_per_epoch,
            step=epoch * steps_per_epoch + step,
            total_steps=total_steps,
            train_loss=loss_value,
            train_acc=accuracy,
            test_acc=test_acc,
            examples_per_sec=clock["seen_total"] / clock["train_s"] if clock["train_s"] else 0.0,
            elapsed_s=now - started,
        )
        result.history.append(progress)
        if on_progress:
            on_progress(progress)
        return progress

    try:
        for epoch in range(config.epochs):
            order = torch.randperm(n, device=device, generator=generator)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            seen, last_report = 0, time.perf_counter()
            clock["segment_start"], clock["seen_reported"] = last_report, 0
            for step in range(steps_per_epoch):
                if stop is not None and stop.is_set():
                    break
                idx = order[step * config.batch_size:(step + 1) * config.batch_size]
                x, y = to_input(images[idx]), labels[idx]
                if config.augment:
                    x = augment_batch(x, generator)
                x = x.contiguous(memory_format=memory_format)
                y_hat = model(x)
                loss = loss_fn(y_hat, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    loss_sum += loss.detach() * len(y)
                    correct += (y_hat.argmax(1) == y).sum()
                seen += len(y)
                if time.perf_counter() - last_report >= config.report_every_s or step == steps_per_epoch - 1:
                    progress = report(epoch, step + 1, loss_sum, correct, seen, None)
                    last_report = time.perf_counter()
                    if blown_up(progress.train_loss):
                        result.status = "diverged"
                        result.message = _divergence_message(config, progress.train_loss, progress.epoch,
                                                             activation_of(model))
                        break
            if result.status == "diverged":
                break
            if stop is not None and stop.is_set():
                if seen > clock["seen_reported"]:  # the steps since the last report count too
                    report(epoch, math.ceil(seen / config.batch_size), loss_sum, correct, seen, None)
                result.status, result.message = "stopped", f"Stopped by request at epoch {epoch + seen / n:.2f}."
                break
            if test is not None:
                test_acc = evaluate(model, test, device, stop=stop)
                if test_acc is None:
                    result.status, result.message = "stopped", f"Stopped by request at epoch {epoch + 1}."
                    break
                report(epoch, steps_per_epoch, loss_sum, correct, seen, test_acc)
    except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled here; the rest is re-raised
        if not out_of_memory(exc):
            raise
        at = result.history[-1].epoch if result.history else 0.0
        result.status = "error"
        result.message = (f"Out of memory on {device} with batch {config.batch_size} at epoch {at:.2f}: try a "
                          "smaller batch. The weights learned so far are kept.")
    finally:
        model.train()
        if device.type == "cuda":
            torch.cuda.empty_cache()  # give the failed step's memory back to other runs
    seen_total, train_s = clock["seen_total"], clock["train_s"]
    result.examples_per_sec = seen_total / train_s if train_s else 0.0
    if result.status == "finished":
        result.message = f"Finished {config.epochs} epoch{'s' if config.epochs > 1 else ''}."
    return result


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
