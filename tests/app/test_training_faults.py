"""Training faults: Stop at awkward moments, out of memory, a crash in a step, interrupted saves,
a killed CLI run resumed, and shared (cached) models never changed by use."""

import io
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lenet_viz import training
from lenet_viz import training_session as ts
from lenet_viz.checkpoints import checkpoint_bytes, load_checkpoint, save_checkpoint
from lenet_viz.cli import main
from lenet_viz.history import Progress
from lenet_viz.models import PRESETS, build_model
from lenet_viz.page_state import TrainState
from lenet_viz.run_data import RunData, preset_name
from lenet_viz.run_slots import RunRefused, RunSlots
from lenet_viz.training import TrainConfig, train
from lenet_viz.training_session import TrainingSession
from tests.datasets import synthetic_digits
from tests.environment import process_environment

ROOT = Path(__file__).resolve().parents[2]
CLASSES = tuple("0123456789")


def tiny_data(n_train: int = 512, n_test: int = 128) -> RunData:
    (xi, yi), (xt, yt) = synthetic_digits(n_train, 0), synthetic_digits(n_test, 1)
    return RunData("mnist", CLASSES, (torch.from_numpy(xi), torch.from_numpy(yi).long()),
                   (torch.from_numpy(xt), torch.from_numpy(yt).long()))


def quick(epochs: int = 1, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=kw.pop("lr", 0.001), optimizer=kw.pop("optimizer", "adam"),
                       batch_size=kw.pop("batch_size", 64), device="cpu", report_every_s=kw.pop("report", 0.05), **kw)


def fail_on_call(model: torch.nn.Module, n: int, exc: BaseException, then=None):
    """Make the model's ``n``-th forward pass raise ``exc`` (after calling ``then``)."""
    calls = {"n": 0}

    def hook(module, args):
        calls["n"] += 1
        if calls["n"] == n:
            if then:
                then()
            if exc is not None:
                raise exc

    return model.register_forward_pre_hook(hook), calls


# --- Stop at awkward moments --------------------------------------------------------------------

def test_stop_during_the_first_step_leaves_a_session_the_page_can_draw(tiny_folder_page):
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", RunSlots(lambda: 1))
    fail_on_call(s.model, 1, None, then=s.stop)  # Stop pressed while the first step runs
    s.start(quick(epochs=5, report=60.0))
    assert s.join(20)
    snap = s.view()
    assert snap.status == "stopped" and "epoch 0.1" in snap.message
    assert [p.step for p in snap.history] == [1]  # the one step done is reported, as the message says
    assert s.slots.active == 0
    at = tiny_folder_page(run=s)
    assert not at.exception, at.exception
    assert any("Stopped by request" in i.value for i in at.info)
    assert any(c.value.startswith("loss ") for c in at.code)  # the seed's summary of that one step


def test_stop_during_evaluation_keeps_the_weights_and_a_usable_checkpoint(monkeypatch):
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", RunSlots(lambda: 1))
    original = training.evaluate

    def evaluate_while_stopping(*args, **kw):
        s.stop()
        return original(*args, **kw)

    monkeypatch.setattr(training, "evaluate", evaluate_while_stopping)
    s.start(quick(epochs=3))
    assert s.join(30)
    snap = s.view()
    assert snap.status == "stopped" and snap.message == "Stopped by request at epoch 1."
    assert snap.history and all(p.test_acc is None for p in snap.history)
    ckpt = load_checkpoint(s.checkpoint())
    for name, value in s.model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[name], value)


@pytest.mark.slow
def test_stop_and_save_interleavings_never_give_a_broken_checkpoint():
    """Save (checkpoint bytes) hammered from one thread while another starts and stops runs.

    The saver thread only records what went wrong: an exception raised in a thread would become a
    warning, and the test could never see a broken checkpoint. The test thread asserts on it."""
    s = TrainingSession(PRESETS["modern"], tiny_data(256, 64), "modern", RunSlots(lambda: 1))
    s.start(quick(epochs=1))
    assert s.join(30)
    results = {"saved": 0, "refused": 0, "runs": 0}
    broken: list[str] = []
    done = threading.Event()

    def saver():
        while not done.is_set():
            try:
                data = s.checkpoint()
            except RunRefused:
                results["refused"] += 1
                continue
            try:
                load_checkpoint(data)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding, reported below
                broken.append(f"{type(exc).__name__}: {exc}")
                return
            results["saved"] += 1

    thread = threading.Thread(target=saver)
    thread.start()
    try:
        for i in range(6):
            s.start(quick(epochs=20), fresh=False)
            results["runs"] += 1
            time.sleep(0.05 * (i % 3))
            s.stop()
            assert s.join(20)
            time.sleep(0.02)
    finally:
        done.set()
        thread.join(20)
    assert not thread.is_alive()
    assert broken == [], broken[:3]
    assert results["saved"] > 0 and results["runs"] == 6
    final = load_checkpoint(s.checkpoint())
    assert len(final.history) == len(s.view().history)
    assert torch.equal(final.model.fc3.weight, s.model.fc3.weight.detach())


def at_epoch(epoch: float) -> Progress:
    return Progress(epoch, 10, 10, 0.5, 0.8, 0.7, 100.0, 1.0)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_an_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch, interrupt):
    spec = PRESETS["classic"]
    path = save_checkpoint(tmp_path / "run.pt", build_model(spec), spec, "mnist", CLASSES, [at_epoch(1.0)])
    before = path.read_bytes()
    real_save = torch.save

    def save_half_then_die(obj, f):
        buffer = io.BytesIO()
        real_save(obj, buffer)
        f.write(buffer.getvalue()[:1000])
        raise interrupt("stopped in the middle of a save")

    monkeypatch.setattr(torch, "save", save_half_then_die)
    with pytest.raises(interrupt):
        save_checkpoint(path, build_model(spec), spec, "mnist", CLASSES, [at_epoch(2.0)])
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["run.pt"]
    assert load_checkpoint(path).history == (at_epoch(1.0),)


# --- Out of memory, crashes, divergence ------------------------------------------------------------

@pytest.mark.slow
def test_out_of_memory_in_a_step_ends_the_run_cleanly_keeping_the_weights():
    model = build_model(PRESETS["modern"])
    (xi, yi) = synthetic_digits(512, 0)
    split = (torch.from_numpy(xi), torch.from_numpy(yi).long())
    fail_on_call(model, 5, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    before = [p.detach().clone() for p in model.parameters()]
    result = train(model, split, split, quick(epochs=3, report=0.0), fresh_weights=False)
    assert result.status == "error"
    assert result.message.startswith("Out of memory on cpu with batch 64 at epoch 0.")
    assert "try a smaller batch" in result.message and "weights learned so far are kept" in result.message
    assert len(result.history) == 4  # the four steps before the failed one were reported
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # those steps' learning kept
    assert all(torch.isfinite(p).all() for p in model.parameters()) and model.training


@pytest.mark.slow
def test_out_of_memory_in_a_session_is_reported_saved_and_can_continue(tiny_folder_page):
    slots = RunSlots(lambda: 1)
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", slots)
    hook, _ = fail_on_call(s.model, 12, torch.OutOfMemoryError("CUDA out of memory"))
    s.start(quick(epochs=3, report=0.0, batch_size=256))
    assert s.join(30)
    hook.remove()
    snap = s.view()
    assert snap.status == "error" and "Out of memory on cpu with batch 256" in snap.message
    assert slots.active == 0 and snap.history and snap.predictions is not None
    assert load_checkpoint(s.checkpoint()).history  # the weights learned so far can be saved
    at = tiny_folder_page(run=s)
    assert not at.exception
    assert any("Out of memory" in e.value for e in at.error)
    assert any(b.label == "Save" for b in at.button)
    s.start(quick(epochs=1, batch_size=64), fresh=False)  # a smaller batch goes on from there
    assert s.join(30) and s.view().status == "finished"


def test_any_other_crash_in_a_step_is_reported_and_frees_the_slot():
    slots = RunSlots(lambda: 1)
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", slots)
    fail_on_call(s.model, 3, RuntimeError("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR"))
    s.start(quick(epochs=2))
    assert s.join(30)
    snap = s.view()
    assert snap.status == "error" and snap.message.startswith("Training failed: RuntimeError: cuDNN error")
    assert slots.active == 0 and not snap.busy


def test_divergence_ends_the_run_and_frees_the_slot():
    slots = RunSlots(lambda: 1)
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", slots)
    s.start(quick(epochs=50, optimizer="sgd", lr=1e6, report=0.0))
    assert s.join(30)
    snap = s.view()
    assert snap.status == "diverged" and "try 0.1." in snap.message and slots.active == 0


def test_a_closed_tab_whose_liveness_check_breaks_still_ends_the_run(monkeypatch):
    monkeypatch.setattr(ts, "CHECK_EVERY_S", 0.0)
    slots = RunSlots(lambda: 1)
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", slots)

    def runtime_gone() -> bool:
        raise RuntimeError("Runtime hasn't been created!")

    s.start(quick(epochs=50), is_alive=runtime_gone)
    assert s.join(20)
    assert s.view().status == "error" and slots.active == 0


# --- Resume ------------------------------------------------------------------------------------

def test_a_checkpoint_can_be_continued_in_a_session_without_changing_the_shared_one():
    first = TrainingSession(PRESETS["modern"], tiny_data(), "modern", RunSlots(lambda: 2))
    first.start(quick(epochs=1))
    assert first.join(30)
    shared = load_checkpoint(first.checkpoint())  # as ui.load_saved caches it for every session
    frozen = {k: v.clone() for k, v in shared.model.state_dict().items()}
    s = TrainingSession.from_checkpoint(shared, tiny_data(), preset_name(shared.spec), RunSlots(lambda: 2))
    assert s.network == "modern" and s.view().resumed
    assert s.view().history == first.view().history
    s.start(quick(epochs=1), fresh=False)
    assert s.join(30)
    snap = s.view()
    assert snap.status == "finished" and snap.history[-1].epoch == pytest.approx(2.0)
    assert all(torch.equal(v, shared.model.state_dict()[k]) for k, v in frozen.items())
    assert not torch.equal(s.model.fc3.weight.detach(), frozen["fc3.weight"])
    mnist = tiny_data()
    other = RunData("fashion-mnist", CLASSES, mnist.train, mnist.test)
    with pytest.raises(RunRefused, match="trained on mnist"):
        TrainingSession.from_checkpoint(shared, other, "modern")


@pytest.mark.slow
def test_the_train_page_continues_a_saved_network(tiny_folder_page):
    s = TrainingSession(PRESETS["modern"], tiny_data(), "modern", RunSlots(lambda: 2))
    s.start(quick(epochs=1))
    assert s.join(30)
    at = tiny_folder_page(saved_models={"my net": s.checkpoint()})
    assert not at.exception
    at.selectbox(key=TrainState.key("resume_pick")).set_value("my net")
    next(b for b in at.run(timeout=30).button if b.label.startswith("Load")).click().run(timeout=30)
    assert not at.exception
    assert any("Loaded a modern network after 1 epoch:" in m.value for m in at.success)
    assert at.selectbox(key=TrainState.key("network")).value == "modern"
    loaded = at.session_state[TrainState.state_key()].run
    assert loaded is not s and loaded.view().resumed
    cont = next(b for b in at.button if b.label == "Continue")
    assert not cont.disabled


@pytest.mark.slow
def test_a_killed_cli_run_resumes_from_its_last_epoch(idx_folder, tmp_path):
    out = tmp_path / "run.pt"
    cmd = [sys.executable, "-m", "lenet_viz", "train", "--dataset", "mnist", "--data-dir", str(idx_folder),
           "--model", "modern", "--optimizer", "adam", "--lr", "0.002", "--batch-size", "16", "--epochs", "200",
           "--out", str(out)]
    env = process_environment({"OMP_NUM_THREADS": "1"})  # OpenMP spinning on a busy 2-core machine is 50× slower
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, seen = time.monotonic() + 60, 0
        while seen < 3:  # every file seen mid-run is a whole checkpoint (written atomically)
            assert time.monotonic() < deadline and proc.poll() is None
            if out.exists():
                seen = max(seen, len(load_checkpoint(out).history) and int(load_checkpoint(out).history[-1].epoch))
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    killed = load_checkpoint(out)
    epochs = killed.history[-1].epoch
    assert epochs >= 3 and epochs == int(epochs)
    code = main(["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--optimizer", "adam",
                 "--lr", "0.002", "--batch-size", "64", "--epochs", "1", "--resume", str(out), "--out", str(out)])
    assert code == 0
    resumed = load_checkpoint(out)
    assert resumed.history[:len(killed.history)] == killed.history
    assert resumed.history[-1].epoch == pytest.approx(epochs + 1)
    steps = [s.step for s in resumed.snapshots]  # the continuation's snapshots follow on at global steps
    assert steps == sorted(set(steps)) and steps[-1] == resumed.history[-1].step
    assert resumed.config["model"] == "modern"
    assert main(["train", "--dataset", "fashion-mnist", "--data-dir", str(idx_folder), "--resume", str(out)]) == 2


# --- Shared (cached) models are never changed by use -------------------------------------------

@pytest.mark.slow
def test_the_feature_maps_page_leaves_the_cached_bundled_model_as_it_was():
    from lenet_viz import ui
    from lenet_viz.model_store import bundled_models
    from lenet_viz.page_state import FeatureMapsState

    models = bundled_models()
    if not models:
        pytest.skip("no bundled models in assets/models")
    reference = load_checkpoint(models[0].path).model.state_dict()
    at = AppTest.from_file(str(ROOT / "app_pages" / "feature_maps.py"))
    state = FeatureMapsState(source="sample", inspecting=True)  # as after a click on a unit
    at.session_state[FeatureMapsState.state_key()] = state
    at.run(timeout=30)
    assert not at.exception
    layer = at.selectbox(key=FeatureMapsState.key("unit_layer"))
    layer.set_value("conv1").run(timeout=30)  # the server-side inspector runs the model
    at.number_input(key=FeatureMapsState.key("unit_map")).set_value(2).run(timeout=30)
    assert not at.exception
    shared = ui.load_bundled(str(models[0].path))
    assert not shared.model.training
    assert all(torch.equal(v, reference[k]) for k, v in shared.model.state_dict().items())
    assert all(p.grad is None for p in shared.model.parameters())


@pytest.fixture
def tiny_folder_page(tmp_path):
    """The Train page in AppTest on a tiny MNIST folder, with extra session state."""
    from tests.datasets import write_idx

    for split, n, seed in (("train", 512, 0), ("t10k", 128, 1)):
        images, labels = synthetic_digits(n, seed)
        write_idx(tmp_path / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", labels)

    def open_page(run=None, network: str = "classic", **state) -> AppTest:
        """The page with this training ``run`` (and ``network`` chosen) and ``state`` in the session."""
        at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"))
        at.session_state[TrainState.state_key()] = TrainState(dataset="mnist", data_dir={"mnist": str(tmp_path)},
                                                              network=network, run=run)
        for key, value in state.items():
            at.session_state[key] = value
        return at.run(timeout=30)

    return open_page


def test_checkpoint_bytes_of_a_model_on_another_device_format_load():
    model = build_model(PRESETS["classic"]).to(memory_format=torch.channels_last)
    assert load_checkpoint(checkpoint_bytes(model, PRESETS["classic"], "mnist", CLASSES)).spec == PRESETS["classic"]
