"""The CUDA-graph path of training (issue 25): which path a run takes, the capture's lock, its
fallback to eager steps, the CLI flags, and (where there is CUDA) graph against eager training.

On the CPU the capture itself cannot run: these tests replace ``cuda_graph.capture`` with a
failing one (the fallback) or a stand-in whose "replay" runs the step again (the bookkeeping
around a replay: static indices, warm-up, partial batches, the sums). The tests at the end need
a CUDA GPU and skip without one.
"""

import io
import re
import threading
import typing
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch

from lenet_viz import cuda_graph, training
from lenet_viz.checkpoints import checkpoint_bytes
from lenet_viz.cli import build_parser, main
from lenet_viz.cuda_graph import WARMUP_STEPS, StepPlan, plan_steps
from lenet_viz.models import PRESETS, build_model
from lenet_viz.run_data import RunData
from lenet_viz.run_slots import RunSlots
from lenet_viz.training import PlainSGD, TrainConfig, make_optimizer, start_device_init, train
from lenet_viz.training_session import TrainingSession
from tests.datasets import synthetic_digits

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: graphs capture only there")


def splits(n_train: int = 1000, n_test: int = 200):
    (xi, yi), (xt, yt) = synthetic_digits(n_train, 0), synthetic_digits(n_test, 1)
    return ((torch.from_numpy(xi), torch.from_numpy(yi).long()), (torch.from_numpy(xt), torch.from_numpy(yt).long()))


def config(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 2, "lr": 0.9, "batch_size": 64, "device": "cpu", "report_every_s": 0.0, **kw})


def losses(result) -> list[float]:
    return [p.train_loss for p in result.history]


# -- which path ------------------------------------------------------------------------------


@pytest.mark.parametrize(("device", "wanted", "augment", "examples", "batch", "epochs", "plan"), [
    ("cuda", True, False, 60_000, 256, 10, StepPlan(True)),
    ("cuda", True, False, 60_000, 60_000, 10, StepPlan(True)),  # one full batch an epoch, 10 epochs
    ("cuda", True, False, 1000, 256, 2, StepPlan(True)),  # 3 full batches an epoch (and one partial)
    ("cpu", True, False, 60_000, 256, 10, StepPlan(False, "not_cuda")),
    ("mps", True, False, 60_000, 256, 10, StepPlan(False, "not_cuda")),
    ("cuda", False, False, 60_000, 256, 10, StepPlan(False, "disabled")),
    ("cuda", True, True, 60_000, 256, 10, StepPlan(False, "augment")),
    ("cuda", True, False, 100, 256, 10, StepPlan(False, "few_steps")),  # no full batch at all
    ("cuda", True, False, 1000, 256, 1, StepPlan(False, "few_steps")),  # 3 full batches: all warm-up
])
def test_the_plan_graphs_full_batches_on_cuda_only(device, wanted, augment, examples, batch, epochs, plan):
    assert plan_steps(device, wanted, augment, examples, batch, epochs) == plan


@pytest.mark.parametrize("reason", typing.get_args(cuda_graph.EagerReason))
def test_every_reason_for_eager_steps_is_said_in_both_languages(reason):
    said = cuda_graph.path_message(StepPlan(False, reason), None, 10)
    assert said.text("en").startswith("Steps: eager") and said.text("zh").startswith("训练步：即时执行")
    assert said.text("en") != said.text("zh")


def test_a_graph_gets_a_device_learning_rate_and_a_capturable_adam():
    params = list(build_model(PRESETS["classic"]).parameters())
    cpu = torch.device("cpu")
    sgd = make_optimizer("sgd", params, 0.9, cpu, graph=True)
    assert isinstance(sgd, PlainSGD) and isinstance(sgd.lr, torch.Tensor) and sgd.lr.item() == pytest.approx(0.9)
    assert make_optimizer("sgd", params, 0.9, cpu, graph=False).lr == 0.9
    adam = make_optimizer("adam", params, 0.01, cpu, graph=True)
    assert adam.defaults["capturable"] and isinstance(adam.defaults["lr"], torch.Tensor)
    assert not make_optimizer("adam", params, 0.01, cpu, graph=False).defaults["capturable"]


def test_sgd_with_a_tensor_learning_rate_makes_the_same_update():
    torch.manual_seed(0)
    weights = [torch.randn(5, 3), torch.randn(7)]
    grads = [torch.randn_like(w) for w in weights]
    updated = []
    for lr in (0.3, torch.tensor(0.3)):
        params = [w.clone().requires_grad_() for w in weights]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        PlainSGD(params, lr).step()
        updated.append(params)
    for a, b, w, g in zip(*updated, weights, grads):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, w - 0.3 * g)


# -- one capture at a time ---------------------------------------------------------------------


def test_capture_and_emptying_the_cache_hold_the_process_lock(monkeypatch):
    """A stand-in for torch's capture API, checking the lock is held while the step is recorded."""
    seen = []

    class FakeGraph:
        def replay(self):
            seen.append("replay")

    monkeypatch.setattr(torch.cuda, "CUDAGraph", FakeGraph)
    monkeypatch.setattr(torch.cuda, "device", lambda device: nullcontext())
    monkeypatch.setattr(torch.cuda, "graph", lambda graph, **kw: seen.append(kw) or nullcontext())
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: seen.append(cuda_graph.CAPTURE_LOCK.locked()))

    replay = cuda_graph.capture(lambda idx: seen.append(cuda_graph.CAPTURE_LOCK.locked()), torch.zeros(4))
    assert seen == [{"capture_error_mode": "thread_local"}, True] and not cuda_graph.CAPTURE_LOCK.locked()
    replay()
    cuda_graph.release_cached_memory()
    assert seen[2:] == ["replay", True]


def test_a_second_capture_waits_for_the_first(monkeypatch):
    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: type("G", (), {"replay": lambda self: None})())
    monkeypatch.setattr(torch.cuda, "device", lambda device: nullcontext())
    monkeypatch.setattr(torch.cuda, "graph", lambda graph, **kw: nullcontext())
    inside, release, order = threading.Event(), threading.Event(), []

    def slow_step(idx):
        order.append("first in")
        inside.set()
        release.wait(5)
        order.append("first out")

    first = threading.Thread(target=cuda_graph.capture, args=(slow_step, torch.zeros(1)))
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=cuda_graph.capture, args=(lambda idx: order.append("second"), torch.zeros(1)))
    second.start()
    second.join(0.2)
    assert order == ["first in"]  # the second capture is still waiting
    release.set()
    first.join(5)
    second.join(5)
    assert order == ["first in", "first out", "second"]


# -- the graph path's bookkeeping, and its fallback (on the CPU) ------------------------------------


def run(monkeypatch, capture, cfg: TrainConfig, snapshots: int = 0):
    """A training run on the CPU that takes the graph path, with ``capture`` standing in for CUDA's."""
    monkeypatch.setattr(training, "plan_steps", lambda *args: StepPlan(True))
    monkeypatch.setattr(cuda_graph, "capture", capture)
    train_split, test_split = splits()
    return train(build_model(PRESETS["classic"]), train_split, test_split, cfg, snapshots=snapshots)


def eager(cfg: TrainConfig, snapshots: int = 0):
    train_split, test_split = splits()
    return train(build_model(PRESETS["classic"]), train_split, test_split, cfg, snapshots=snapshots)


def test_a_failed_capture_goes_on_eagerly_and_says_so(monkeypatch):
    def refuse(step, static_idx):
        raise RuntimeError("operation not permitted when stream is capturing")

    cfg = config()
    reference = eager(cfg)  # before the graph path is forced
    result = run(monkeypatch, refuse, cfg)
    assert result.status == "finished" and reference.step_path.key == "cuda_graph.path_eager"
    assert result.message == (reference.message + " Capturing the training step as a CUDA graph failed (RuntimeError: "
                              "operation not permitted when stream is capturing), so it ran eagerly: the same "
                              "training, only slower.")
    assert "CUDA 图失败" in result.message.text("zh")
    assert result.step_path == "Steps: eager, one kernel launch at a time (capturing the CUDA graph failed)."
    assert len(result.history) == len(reference.history) == 2 * (16 + 1)
    # the same training: only the learning rate's form differs (a tensor on the graph path)
    assert losses(result) == pytest.approx(losses(reference), rel=1e-4)


def test_a_replayed_step_trains_like_an_eager_one(monkeypatch):
    """The stand-in's replay runs the captured step on whatever the static buffer holds, as a graph would."""
    captures = []

    def record(step, static_idx):
        captures.append(static_idx)
        return lambda: step(static_idx)

    cfg = config()
    reference = eager(cfg, snapshots=6)  # before the graph path is forced
    result = run(monkeypatch, record, cfg, snapshots=6)
    assert len(captures) == 1 and captures[0].shape == (64,)
    full, partial = 1000 // 64, 1  # per epoch
    replays = 2 * full - WARMUP_STEPS
    assert result.step_path == (f"Steps: one CUDA graph, captured once and replayed {replays} times "
                                f"({WARMUP_STEPS + 2 * partial} eager steps: warm-up and partial batches).")
    assert result.message == reference.message
    assert losses(result) == pytest.approx(losses(reference), rel=1e-4)
    assert [p.train_acc for p in result.history] == pytest.approx([p.train_acc for p in reference.history], abs=2e-3)
    assert [s.step for s in result.snapshots] == [s.step for s in reference.snapshots]


def test_the_cli_accepts_both_flags_and_says_eager_off_cuda(idx_folder: Path, capsys):
    parser = build_parser()
    assert parser.parse_args(["train"]).cuda_graphs is True
    assert parser.parse_args(["train", "--cuda-graphs"]).cuda_graphs is True
    assert parser.parse_args(["train", "--no-cuda-graphs"]).cuda_graphs is False
    assert main(["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--epochs", "1", "--device", "cpu",
                 "--cuda-graphs", "--snapshots", "0"]) == 0
    assert "Steps: eager, one kernel launch at a time (CUDA graphs need a CUDA device)." in capsys.readouterr().err


def test_no_cuda_graphs_reaches_the_plan(idx_folder: Path, capsys, monkeypatch):
    """The flag as the plan sees it, with the device taken for CUDA (the steps stay eager: graphs are off)."""
    monkeypatch.setattr(training, "plan_steps", lambda device_type, *rest: plan_steps("cuda", *rest))
    assert main(["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--epochs", "1", "--device", "cpu",
                 "--no-cuda-graphs", "--snapshots", "0"]) == 0
    assert "Steps: eager, one kernel launch at a time (CUDA graphs turned off)." in capsys.readouterr().err


def test_cuda_start_up_is_only_started_where_the_run_may_use_cuda():
    assert start_device_init("cpu") is None and start_device_init("mps") is None
    thread = start_device_init("auto")  # on a machine without CUDA it finds none and ends
    thread.join(60)
    assert not thread.is_alive()


@pytest.mark.slow
def test_the_session_summary_says_which_path_ran():
    (xi, yi), (xt, yt) = splits(256, 64)
    data = RunData("mnist", tuple(str(d) for d in range(10)), (xi, yi), (xt, yt))
    session = TrainingSession(PRESETS["classic"], data, "classic", RunSlots(lambda: 8), snapshots=0)
    session.start(config(epochs=1))
    assert session.join(60)
    summary = session.view().summary
    assert re.search(r"examples/sec on cpu\nSteps: eager, .*\(CUDA graphs need a CUDA device\)\.$", summary)
    assert summary.text("zh").endswith("训练步：即时执行，每个运算单独启动（CUDA 图需要 CUDA 设备）。")


# -- on a CUDA GPU ---------------------------------------------------------------------------------


def cuda_pair(optimizer: str, lr: float, epochs: int = 3, snapshots: int = 8, **kw):
    """The same seeded run on CUDA, graph and eager: (result, model) each."""
    train_split, test_split = splits(2048, 512)
    out = []
    for graphs in (True, False):
        model = build_model(PRESETS["classic"])
        cfg = config(epochs=epochs, lr=lr, optimizer=optimizer, batch_size=256, device="cuda", **kw)
        out.append((train(model, train_split, test_split, cfg, snapshots=snapshots, cuda_graphs=graphs), model))
    return out


def structure(value):
    """A checkpoint's form without its numbers: keys, types, tensor shapes and dtypes."""
    if isinstance(value, dict):
        return {k: structure(v) for k, v in value.items() if k != "created"}
    if isinstance(value, (list, tuple)):
        return [structure(v) for v in value]
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.dtype, value.device.type)
    return type(value).__name__


@needs_cuda
@pytest.mark.slow
@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.9), ("adam", 0.003)])
def test_graph_and_eager_curves_match_on_cuda(optimizer, lr):
    (graphed, graph_model), (plain, plain_model) = cuda_pair(optimizer, lr)
    assert graphed.step_path.key == "cuda_graph.path_graph" and plain.step_path.key == "cuda_graph.path_eager"
    assert graphed.status == plain.status == "finished" and graphed.message == plain.message
    assert [(p.epoch, p.step) for p in graphed.history] == [(p.epoch, p.step) for p in plain.history]
    assert losses(graphed) == pytest.approx(losses(plain), rel=0.01)  # at every report: one a step here
    assert [p.test_acc for p in graphed.history] == pytest.approx([p.test_acc for p in plain.history], abs=0.02)
    assert [s.step for s in graphed.snapshots] == [s.step for s in plain.snapshots]
    assert structure([s.to_dict() for s in graphed.snapshots]) == structure([s.to_dict() for s in plain.snapshots])
    saved = [torch.load(io.BytesIO(checkpoint_bytes(m, PRESETS["classic"], "mnist", tuple("0123456789"), r.history,
                                                    {}, r.snapshots)), weights_only=True)
             for r, m in ((graphed, graph_model), (plain, plain_model))]
    assert structure(saved[0]) == structure(saved[1])


@needs_cuda
def test_stop_and_divergence_are_seen_between_replays_on_cuda():
    stop = threading.Event()
    train_split, test_split = splits(4096, 256)
    result = train(build_model(PRESETS["classic"]), train_split, test_split,
                   config(epochs=20, batch_size=64, device="cuda", report_every_s=0.05),
                   on_progress=lambda p: stop.set() if p.step > 20 else None, stop=stop)
    assert result.status == "stopped" and result.step_path.key == "cuda_graph.path_graph"
    blown = train(build_model(PRESETS["modern"]), train_split, test_split,
                  config(epochs=3, lr=1e6, batch_size=64, device="cuda"))
    assert blown.status == "diverged"
