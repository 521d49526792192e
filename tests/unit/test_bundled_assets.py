"""The bundled models load and classify the bundled samples; they are what models.json says."""

import numpy as np
import pytest
import torch

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.data import to_input
from lenet_viz.model_store import bundled_models, example_index, load_samples
from lenet_viz.models import PRESETS, build_model


def accuracy(model, samples) -> float:
    with torch.no_grad():
        predicted = model(to_input(torch.tensor(samples.images))).argmax(1).numpy()
    return float(np.mean(predicted == samples.labels))


@pytest.mark.slow
def test_both_bundled_models_are_listed_and_load():
    models = {m.key: m for m in bundled_models()}
    assert set(models) == {"digits", "fashion"}
    digits, fashion = load_checkpoint(models["digits"].path), load_checkpoint(models["fashion"].path)
    assert digits.spec == PRESETS["modern"] and digits.dataset == "mnist"
    assert fashion.spec == PRESETS["classic"] and fashion.dataset == "fashion-mnist"
    assert fashion.classes[0] == "T-shirt/top"


@pytest.mark.parametrize(("key", "dataset", "least"), [("digits", "mnist", 1.0), ("fashion", "fashion-mnist", 0.7)])
def test_bundled_models_classify_bundled_samples(key, dataset, least):
    model = load_checkpoint(next(m.path for m in bundled_models() if m.key == key)).model
    samples = load_samples(dataset)
    assert samples.images.shape == (30, 28, 28)
    assert np.bincount(samples.labels).tolist() == [3] * 10
    # All 30 held-out digits right. The classic Fashion model is an 80% model (it gets 22 of these 30:
    # every shirt is taken for something else), so 21 of 30 or more.
    assert accuracy(model, samples) >= least


def test_samples_files_are_checked(tmp_path, monkeypatch):
    from lenet_viz import model_store

    monkeypatch.setattr(model_store, "SAMPLES_DIR", tmp_path)
    assert load_samples("mnist") is None
    model_store.save_samples(tmp_path / "mnist.npz", np.zeros((3, 28, 28)), [1, 2, 3], tuple("0123456789"), [7, 8, 9])
    samples = load_samples("mnist")
    assert samples.images.dtype == np.uint8 and samples.labels.dtype == np.int64 and list(samples.indices) == [7, 8, 9]
    np.savez(tmp_path / "mnist.npz", images=np.zeros((3, 28, 28), np.float32), labels=np.array([1, 2, 3]),
             classes=np.array(list("0123456789")), indices=np.arange(3))
    with pytest.raises(ValueError, match="uint8"):
        load_samples("mnist")


def test_the_example_before_drawing_is_the_first_seven():
    samples = load_samples("mnist")
    index = example_index(samples)
    assert samples.labels[index] == 7 and index == list(samples.labels).index(7)
    assert example_index(samples, label=42) == 0  # no such class: the first image


@pytest.mark.parametrize("key", ["digits", "fashion"])
def test_bundled_models_carry_snapshots_from_untrained_to_their_final_weights(key):
    ckpt = load_checkpoint(next(m.path for m in bundled_models() if m.key == key))
    steps = [s.step for s in ckpt.snapshots]
    assert len(steps) == 24 and steps[0] == 0 and steps[-1] == ckpt.history[-1].step
    final = ckpt.snapshots[-1].state_dict
    assert all(torch.equal(final[k], v.half()) for k, v in ckpt.state_dict.items())
    untrained = build_model(ckpt.spec).eval()
    untrained.load_state_dict({k: v.float() for k, v in ckpt.snapshots[0].state_dict.items()})
    assert accuracy(untrained, load_samples(ckpt.dataset)) <= 0.3  # step 0 guesses
    assert ckpt.snapshots[-1].test_acc == ckpt.test_acc


def test_samples_are_read_once_for_all_threads_and_shared_read_only(monkeypatch):
    """Every session's run asks for the samples; they are read once, by one thread (np.load parses
    with ast, which Python 3.11 can get wrong in threads at once), and no session can change them."""
    import threading
    import time

    from lenet_viz import model_store

    reads, read = [], model_store._read_samples

    def slow_read(path):
        reads.append(path)
        time.sleep(0.05)  # long enough for every thread to arrive meanwhile
        return read(path)

    monkeypatch.setattr(model_store, "_samples_read", {})
    monkeypatch.setattr(model_store, "_read_samples", slow_read)
    got = []
    threads = [threading.Thread(target=lambda: got.append(load_samples("mnist"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1 and len(got) == 8 and all(samples is got[0] for samples in got)
    with pytest.raises(ValueError, match="read-only"):
        got[0].images[0, 0, 0] = 255
