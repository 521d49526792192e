"""The training page in AppTest, on a tiny synthetic dataset written as IDX files."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import data, settings
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.page_state import TrainState
from lenet_viz.run_slots import MAX_RUNS_ENV, SLOTS
from lenet_viz.training import describe_device, pick_device
from tests.datasets import write_dataset

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "train.py")


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return write_dataset(tmp_path, (("train", 512, 0), ("t10k", 128, 1)))


@pytest.fixture
def no_data_anywhere(tmp_path: Path, monkeypatch) -> Path:
    """MNIST nowhere: not in the env folder, not in the default download root."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def page(folder: Path) -> AppTest:
    at = AppTest.from_file(PAGE).run(timeout=30)
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run(timeout=30)
    at.text_input(key=TrainState.key("data_dir", "mnist")).set_value(str(folder))
    return at.run(timeout=30)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def curve_points(at: AppTest) -> int:
    chart = next(c for c in at.get("plotly_chart") if "train loss" in c.proto.spec)
    return len(json.loads(chart.proto.spec)["data"][0]["x"])


@pytest.mark.slow
def test_start_shows_growing_curves_stop_keeps_the_network_and_save_lists_it(tiny_folder):
    at = page(tiny_folder)
    assert not at.exception
    assert any("MNIST found in" in c.value for c in at.caption)
    at.selectbox(key=TrainState.key("network")).set_value("modern")
    at.radio(key=TrainState.key("optimizer")).set_value("adam")
    at.select_slider(key=TrainState.key("batch_size")).set_value(16)
    at.number_input(key=TrainState.key("epochs")).set_value(50)
    button(at.run(), "Start").click().run(timeout=30)
    assert not at.exception and not at.error
    session = at.session_state[TrainState.state_key()].run
    try:
        assert button(at, "Start").disabled and not button(at, "Stop").disabled
        deadline, counts = time.monotonic() + 20, []
        while len(set(counts)) < 2 or counts[-1] == 0:  # two different, growing point counts
            assert time.monotonic() < deadline, f"the chart did not grow: {counts}"
            time.sleep(0.3)
            counts.append(curve_points(at.run(timeout=30)))
        assert counts == sorted(counts)
        assert at.get("progress") and "of 50" in at.get("progress")[0].proto.text
        assert [m.label for m in at.metric] == ["train loss", "train acc", "test acc", "examples/sec",
                                                "elapsed", "remaining"]
        button(at, "Stop").click().run(timeout=30)
    finally:
        session.stop()
    assert session.join(10)
    at.run(timeout=30)
    assert not at.exception
    assert session.view().status == "stopped"
    assert any("Stopped by request" in i.value for i in at.info)
    on = f"examples/sec on {describe_device(pick_device('auto'))}"  # the page's runs use the GPU where there is one
    assert any(on in c.value for c in at.code), [c.value for c in at.code]
    everything_right = any("every test image is classified correctly" in m.value for m in at.markdown)
    charts = [c for c in at.get("plotly_chart") if c.key != "compare_runs_chart"]  # Compare runs has its own test
    assert len(charts) == 3 - everything_right  # curves, confusion matrix, gallery
    assert not button(at, "Continue").disabled and not button(at, "Start").disabled
    assert at.get("download_button")

    at.text_input(key=TrainState.key("save_label", 1)).set_value("my tiny net")
    button(at.run(), "Save").click().run(timeout=30)
    saved = at.session_state["saved_models"]
    assert list(saved) == ["my tiny net"]
    kept = load_checkpoint(saved["my tiny net"])
    assert kept.dataset == "mnist" and kept.snapshots  # the replay's snapshots are in the saved network
    assert kept.snapshots[0].step == 0 and kept.snapshots[-1].step == kept.history[-1].step
    assert any(f"keeps {len(kept.snapshots)} snapshots" in c.value for c in at.caption)
    assert any("Saved as “my tiny net”" in s.value for s in at.success)


def test_missing_data_says_where_it_looked_and_a_failed_download_is_reported(no_data_anywhere, monkeypatch):
    def offline(name, root=None):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "download", offline)
    at = page(no_data_anywhere)
    assert not at.exception
    assert any("MNIST is not on this machine" in w.value for w in at.warning)
    assert any(str(no_data_anywhere) in c.value and "Looked for" in c.value for c in at.code)
    assert any("download('mnist')" in c.value for c in at.code)
    assert button(at, "Start").disabled
    button(at, "Download with torchvision").click().run(timeout=30)
    assert not at.exception
    assert any("download failed" in e.value and "network is unreachable" in e.value for e in at.error)


def test_a_full_server_refuses_with_a_clear_message(tiny_folder, monkeypatch):
    monkeypatch.setenv(MAX_RUNS_ENV, "1")
    at = page(tiny_folder)
    SLOTS.acquire()  # another session's run
    try:
        button(at, "Start").click().run(timeout=30)
    finally:
        SLOTS.release()
    assert not at.exception
    assert any("already training 1 network, its limit" in e.value for e in at.error), [e.value for e in at.error]
    assert TrainState.state_key() not in at.session_state or at.session_state[TrainState.state_key()].run is None


def test_counts_are_said_in_the_singular_or_the_plural(tiny_folder):
    at = page(tiny_folder)
    assert any("Training runs on the server: 0 going on" in c.value for c in at.caption)
    assert not any("(s)" in c.value for c in at.caption)
    for epochs, said in [(1, "1 more epoch with"), (2, "2 more epochs with")]:
        at.number_input(key=TrainState.key("epochs")).set_value(epochs).run(timeout=30)
        assert said in button(at, "Continue").help and "(s)" not in button(at, "Continue").help


def test_the_network_of_the_output_size_page_can_be_trained_and_a_wrong_one_is_refused(tiny_folder):
    from lenet_viz.models import PRESETS, LeNetSpec

    at = AppTest.from_file(PAGE)
    at.session_state["custom_spec"] = PRESETS["seed-nopad"].to_dict()
    at.run(timeout=30)
    assert "custom" in at.selectbox(key=TrainState.key("network")).options[-1]
    at.selectbox(key=TrainState.key("network")).set_value("custom").run(timeout=30)
    assert not at.warning and not button(at, "Start").disabled
    assert any(c.value.startswith("conv 6@5×5 → max pool 2 → conv 16@5×5") and "61,706 parameters" not in c.value
               for c in at.caption)  # what the custom network is (seed-nopad: 16·4·4 inputs, fewer parameters)

    at.session_state["custom_spec"] = LeNetSpec(conv=PRESETS["classic"].conv, input_size=32).to_dict()
    at.run(timeout=30)
    assert any("input size 32 (needs 28)" in w.value for w in at.warning)
    assert button(at, "Start").disabled


def test_each_dataset_has_its_own_data_folder(tiny_folder, monkeypatch):
    """A folder of MNIST files typed for MNIST must not be read as Fashion-MNIST."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    at = page(tiny_folder)
    assert any(f"MNIST found in `{tiny_folder}`" in c.value for c in at.caption)
    at.selectbox(key=TrainState.key("dataset")).set_value("fashion-mnist").run(timeout=30)
    assert at.text_input(key=TrainState.key("data_dir", "fashion-mnist")).value == ""
    assert not any(str(tiny_folder) in c.value for c in at.caption)
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run(timeout=30)
    assert at.text_input(key=TrainState.key("data_dir", "mnist")).value == str(tiny_folder)


def test_the_first_run_learns_and_the_seeds_recipe_is_one_choice_away_with_a_hint(tiny_folder):
    at = page(tiny_folder)
    # the defaults: a network that leaves chance level in a quick first run (tests/unit/test_training.py measures it)
    assert at.selectbox(key=TrainState.key("network")).value == "modern"
    assert at.select_slider(key=TrainState.key("batch_size")).value == 64
    assert at.radio(key=TrainState.key("optimizer")).value == "sgd"
    assert at.number_input(key=TrainState.key("lr", "sgd_relu")).value == 0.1
    assert at.checkbox(key=TrainState.key("use_subset")).value  # seconds, not minutes: the 5,120-image quick run
    # whole batches of every offered size: an epoch ending on a step over a few images swung the test accuracy
    sizes = [int(size) for size in at.select_slider(key=TrainState.key("batch_size")).options]
    assert all(at.number_input(key=TrainState.key("subset")).value % size == 0 for size in sizes)
    hint = "Sigmoid networks start slowly"
    assert not any(c.value.startswith(hint) for c in at.caption)
    at.selectbox(key=TrainState.key("network")).set_value("classic").run(timeout=30)
    assert at.number_input(key=TrainState.key("lr", "sgd_sigmoid")).value == 0.9  # the seed's recipe
    assert any(c.value.startswith(hint) for c in at.caption)  # which stays at chance for a while: said before a run


def test_the_learning_rate_fits_the_network_and_optimizer_and_any_positive_one_is_taken(tiny_folder):
    at = page(tiny_folder)
    lr = TrainState.key("lr", "sgd_sigmoid")
    at.selectbox(key=TrainState.key("network")).set_value("classic").run(timeout=30)
    assert at.number_input(key=lr).value == 0.9  # the seed's recipe for its sigmoid LeNet
    at.selectbox(key=TrainState.key("network")).set_value("modern").run(timeout=30)
    assert at.number_input(key=TrainState.key("lr", "sgd_relu")).value == 0.1  # 0.9 would kill its ReLUs
    at.radio(key=TrainState.key("optimizer")).set_value("adam").run(timeout=30)
    assert at.number_input(key=TrainState.key("lr", "adam_relu")).value == 0.001
    assert [o for o in at.radio(key=TrainState.key("optimizer")).options] == ["SGD", "Adam"]
    at.number_input(key=TrainState.key("lr", "adam_relu")).set_value(100.0).run(timeout=30)  # absurd, but allowed
    assert not at.exception and at.number_input(key=TrainState.key("lr", "adam_relu")).value == 100.0
    at.selectbox(key=TrainState.key("network")).set_value("classic")
    at.radio(key=TrainState.key("optimizer")).set_value("sgd")
    assert at.run(timeout=30).number_input(key=lr).value == 0.9
