"""The background training session: live progress, stop, continue, the run cap, stuck runs."""

import time

import pytest
import torch

from lenet_viz import advice, data, run_slots
from lenet_viz import training_session as ts
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.data import to_input
from lenet_viz.history import Progress, snapshot_steps
from lenet_viz.models import PRESETS, LeNetSpec
from lenet_viz.run_data import RunData, trainable_problem
from lenet_viz.run_slots import RunRefused, RunSlots
from lenet_viz.training import TrainConfig, available_devices
from lenet_viz.training_session import TrainingSession, remaining_s
from tests.datasets import synthetic_digits


def tiny_data(n_train: int = 512, n_test: int = 128) -> RunData:
    (xi, yi), (xt, yt) = synthetic_digits(n_train, 0), synthetic_digits(n_test, 1)
    return RunData("mnist", tuple(str(d) for d in range(10)),
                   (torch.from_numpy(xi), torch.from_numpy(yi).long()),
                   (torch.from_numpy(xt), torch.from_numpy(yt).long()))


def session(slots: RunSlots | None = None, network: str = "modern") -> TrainingSession:
    return TrainingSession(PRESETS[network], tiny_data(), network, slots or RunSlots(lambda: 8))


def quick(epochs: int = 2, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=kw.pop("lr", 0.001), optimizer=kw.pop("optimizer", "adam"),
                       batch_size=kw.pop("batch_size", 64), device="cpu", report_every_s=0.05, **kw)


def wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_run_reports_progress_then_finishes_with_predictions():
    s = session()
    s.start(quick(epochs=2))
    assert s.join(30)
    snap = s.view()
    assert snap.status == "finished" and not snap.busy
    assert len(snap.history) >= 4  # at least one step report and one test report per epoch
    assert [p.epoch for p in snap.history] == sorted(p.epoch for p in snap.history)
    assert snap.history[-1].epoch == pytest.approx(2.0)
    assert sum(p.test_acc is not None for p in snap.history) == 2
    assert snap.predictions is not None and snap.predictions.shape == (128,)
    assert "examples/sec on cpu" in snap.summary
    assert snap.end_epoch == 2


@pytest.mark.slow
def test_stop_ends_the_run_and_continue_goes_on_from_there():
    s = session()
    s.start(quick(epochs=50))
    wait_for(lambda: len(s.view().history) >= 3)
    s.stop()
    assert s.join(30)
    stopped = s.view()
    assert stopped.status == "stopped" and stopped.predictions is not None
    weights = s.model.fc3.weight.detach().clone()

    s.start(quick(epochs=1), fresh=False)
    assert s.join(30)
    after = s.view()
    assert after.status == "finished"
    assert after.message == f"Finished 1 more epoch: {round(stopped.history[-1].epoch + 1, 2):g} epochs in all."
    assert after.history[:len(stopped.history)] == stopped.history  # earlier curve kept
    new = after.history[len(stopped.history):]
    assert new and min(p.epoch for p in new) > stopped.history[-1].epoch  # epochs continue
    assert after.history[-1].epoch == pytest.approx(stopped.history[-1].epoch + 1)
    assert after.end_epoch == pytest.approx(stopped.history[-1].epoch + 1)
    assert not torch.equal(weights, s.model.fc3.weight.detach())


def test_one_run_per_session_and_a_server_wide_cap():
    slots = RunSlots(lambda: 1)
    first, second = session(slots), session(slots)
    first.start(quick(epochs=50))
    with pytest.raises(RunRefused, match="already training; stop"):
        first.start(quick())
    with pytest.raises(RunRefused, match="LENET_VIZ_MAX_RUNS=1"):
        second.start(quick())
    assert slots.active == 1 and second.view().status == "idle"
    first.stop()
    assert first.join(10)
    assert slots.active == 0  # the worker released its slot
    second.start(quick(epochs=1))
    assert second.join(30) and second.view().status == "finished" and slots.active == 0


def test_a_full_server_counts_its_networks_in_words():
    for limit, said in [(1, "already training 1 network, its limit"), (2, "already training 2 networks, its limit")]:
        slots = RunSlots(lambda limit=limit: limit)
        for _ in range(limit):
            slots.acquire()
        with pytest.raises(RunRefused) as info:
            slots.acquire()
        assert said in str(info.value) and "(s)" not in str(info.value)
    assert run_slots.MAX_RUNS_ENV in str(info.value)


def test_continue_needs_a_run_first():
    with pytest.raises(RunRefused, match="nothing to continue"):
        session().start(quick(), fresh=False)


def test_max_runs_from_the_environment(monkeypatch):
    monkeypatch.setenv(run_slots.MAX_RUNS_ENV, "3")
    assert run_slots.max_runs() == 3
    for bad in ("0", "-2", "many", ""):
        monkeypatch.setenv(run_slots.MAX_RUNS_ENV, bad)
        assert run_slots.max_runs() == run_slots.default_max_runs()


def kill_relus(model: torch.nn.Module) -> None:
    """Make every fc2 unit negative for every input: a ReLU network that ignores its input."""
    with torch.no_grad():
        model.fc2.weight.zero_()
        model.fc2.bias.fill_(-10.0)


def test_output_spread_is_zero_only_for_a_dead_network():
    s = session()
    probe = torch.rand(32, 1, 28, 28)
    assert advice.output_spread(s.model, probe) > advice.DEAD_SPREAD
    kill_relus(s.model)
    assert advice.output_spread(s.model, probe) == 0.0


def test_a_stuck_network_is_stopped_and_explained():
    s = session()
    s.start(quick(epochs=1, optimizer="sgd", lr=0.9))
    assert s.join(30)
    kill_relus(s.model)  # what SGD at lr 0.9 does to the modern LeNet on Fashion-MNIST
    s.start(quick(epochs=50, optimizer="sgd", lr=0.9), fresh=False)
    assert s.join(30)
    snap = s.view()
    assert snap.status == "diverged"
    assert "stuck" in snap.message and "try 0.09" in snap.message
    assert snap.history[-1].epoch <= 2.0  # stopped at the first check, not after its 50 epochs
    assert snap.predictions is None


def nearly_dead(model: torch.nn.Module, probe: torch.Tensor) -> None:
    """One live fc2 unit feeding tiny logits: outputs spread by 1e-4, loss at chance level."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        kill_relus(model)
        model.fc2.weight[0] = torch.randn(model.fc2.weight.shape[1], generator=generator).abs() * 0.1
        model.fc2.bias[0] = 0.0
        model.fc3.weight.zero_()
        model.fc3.weight[:, 0] = torch.randn(10, generator=generator)
        model.fc3.bias.zero_()
        model.fc3.weight *= 1e-4 / advice.output_spread(model, probe)
        model.fc3.bias -= model(probe).mean(0)  # logits about 0 for every class: a uniform guess


@pytest.mark.slow
@pytest.mark.parametrize("network, stopped", [("modern", True), ("classic", False)])
def test_a_relu_network_flat_at_chance_level_is_stuck_but_a_slow_sigmoid_one_is_not(network, stopped):
    s = session(network=network)
    s.start(quick(epochs=1))
    assert s.join(30)
    probe = to_input(s.data.test[0][:128])  # the worker's probe
    nearly_dead(s.model, probe)
    assert advice.output_spread(s.model, probe) == pytest.approx(1e-4, rel=0.05)  # a setup check: "about 1e-4"
    s.start(quick(epochs=4, optimizer="sgd", lr=0.0), fresh=False)  # lr 0: it stays as it is
    assert s.join(30)
    snap = s.view()
    if stopped:
        assert snap.status == "diverged" and "stuck at epoch 3.00" in snap.message
        assert "ReLUs have died" in snap.message
    else:
        assert snap.status == "finished" and snap.history[-1].epoch == pytest.approx(5)
        assert "chance level" in snap.hint


def test_a_run_of_a_closed_browser_session_stops(monkeypatch):
    monkeypatch.setattr(ts, "ABANDON_AFTER_S", 0.0)
    monkeypatch.setattr(ts, "CHECK_EVERY_S", 0.0)
    s = session()
    s.start(quick(epochs=50), is_alive=lambda: False)
    assert s.join(20)
    snap = s.view()
    assert snap.status == "stopped" and "closed" in snap.message
    assert snap.history[-1].epoch < 50


def test_checkpoint_holds_the_trained_network_and_its_history():
    s = session()
    s.start(quick(epochs=1))
    assert s.join(30)
    ckpt = load_checkpoint(s.checkpoint())
    assert ckpt.spec == PRESETS["modern"] and ckpt.dataset == "mnist"
    assert len(ckpt.history) == len(s.view().history)
    assert ckpt.config["model"] == "modern" and ckpt.config["train_images"] == 512
    for name, value in s.model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[name], value.cpu())
    assert s.checkpoint() is s.checkpoint()  # made once per run


def test_checkpoint_is_refused_while_training():
    s = session()
    s.start(quick(epochs=50))
    try:
        with pytest.raises(RunRefused, match="still training"):
            s.checkpoint()
    finally:
        s.stop()
        s.join(10)


def test_worker_errors_reach_the_page_and_free_the_slot():
    slots = RunSlots(lambda: 1)
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", slots)
    s.start(TrainConfig(epochs=1, device="no-such-device"))
    assert s.join(10)
    snap = s.view()
    assert snap.status == "error" and snap.message.startswith("Training failed")
    assert slots.active == 0


def test_helpers():
    p = Progress(epoch=0.5, step=10, total_steps=40, train_loss=1.0, train_acc=0.5, test_acc=None,
                 examples_per_sec=100.0, elapsed_s=3.0)
    assert remaining_s(p) == pytest.approx(9.0)
    assert remaining_s(Progress(0, 0, 40, 1, 0, None, 0, 0)) is None
    images, labels = torch.arange(100).repeat_interleave(784).reshape(100, 28, 28), torch.arange(100)
    sub = data.take_subset((images, labels), 10, seed=1)
    assert len(sub[0]) == 10 and len(set(sub[1].tolist())) == 10
    assert torch.equal(sub[0][:, 0, 0], sub[1])  # images stay with their labels
    assert data.take_subset((images, labels), None)[0] is images
    assert trainable_problem(PRESETS["classic"]) == ""
    wide = LeNetSpec(conv=PRESETS["classic"].conv, input_size=32, num_classes=5)
    assert "input size 32 (needs 28)" in trainable_problem(wide)
    assert "outputs 5 (needs 10)" in trainable_problem(wide)
    assert available_devices()[:2] == ["auto", "cpu"]


def test_slow_start_advice_fits_the_run():
    assert "sigmoid LeNet of d2l's LeNet chapter" in advice.slow_start_advice("sigmoid", TrainConfig(optimizer="sgd"))
    said = advice.slow_start_advice("relu", TrainConfig(optimizer="adam", lr=0.001))
    assert "relu network with Adam" in said and "0.001 now" in said and "sigmoid" not in said


def test_two_sessions_training_at_once_with_one_seed_learn_the_same_weights():
    a, b = session(), session()
    torch.manual_seed(123)  # whatever the global random state, and other threads drawing from it
    a.start(quick(epochs=1))
    b.start(quick(epochs=1))
    assert a.join(30) and b.join(30)
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert [p.train_loss for p in a.view().history][-1] == [p.train_loss for p in b.view().history][-1]


def test_a_blown_up_adam_run_is_reported_as_diverged_with_adams_learning_rate():
    s = session()
    s.start(quick(epochs=3, lr=10.0))  # Adam at 10: the weights blow up, and the outputs may also die
    assert s.join(30)
    snap = s.view()
    assert snap.status == "diverged" and snap.message.startswith("Training diverged")
    assert "with Adam; try 0.001" in snap.message and "chance level (ln 10" not in snap.message
    assert "chance level" not in snap.hint


def test_a_saturated_sigmoid_net_is_told_what_its_loss_really_is_and_a_rate_that_works():
    s = session(network="classic")
    s.start(quick(epochs=3, optimizer="sgd", lr=100.0))
    assert s.join(30)
    snap = s.view()
    assert snap.history[-1].train_loss > 100 and snap.status == "diverged"
    assert snap.message.startswith("Training is stuck") and "with SGD; try 0.9." in snap.message
    assert "is worse than guessing at random" in snap.message and "stays at chance level" not in snap.message


@pytest.mark.slow
def test_snapshots_are_kept_saved_and_a_continued_run_appends_its_own_at_global_steps():
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", RunSlots(lambda: 8), snapshots=5)
    s.start(quick(epochs=1))  # 512 images in batches of 64: 8 steps
    assert s.join(30) and s.view().snapshots == 5
    first = load_checkpoint(s.checkpoint())
    schedule = snapshot_steps(8, 5)
    assert [p.step for p in first.snapshots] == schedule == [0, 1, 2, 4, 8]
    s.start(quick(epochs=1), fresh=False)
    assert s.join(30)
    after = load_checkpoint(s.checkpoint())
    # the continuation's step 0 is the first run's step 8: kept once
    assert [p.step for p in after.snapshots] == schedule + [8 + step for step in schedule[1:]]
    assert [p.epoch for p in after.snapshots][-1] == pytest.approx(2.0) == after.history[-1].epoch
    assert after.history[-1].step == 16
    resumed = TrainingSession.from_checkpoint(after, tiny_data(), "modern", RunSlots(lambda: 8))
    assert resumed.view().snapshots == 9
    s.start(quick(epochs=1))  # a fresh start forgets them
    assert s.join(30) and s.view().snapshots == 5
