"""The CUDA path: training, evaluation, snapshots and checkpoints on an NVIDIA GPU.

Runs where torch sees a CUDA GPU and skips, saying so, everywhere else. A GPU's kernels may sum in
another order than the CPU's (cuDNN, TF32 convolutions), so results are compared on the CPU with a
tolerance, never bit for bit; what must be exact (the starting weights, float16 snapshots of the
same weights) is compared exactly.
"""

import pytest
import torch

from lenet_viz.checkpoints import checkpoint_bytes, load_checkpoint
from lenet_viz.data import to_input
from lenet_viz.history import take_snapshot
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.models import PRESETS, build_model
from lenet_viz.training import (
    TrainConfig,
    available_devices,
    describe_device,
    evaluate,
    init_weights,
    pick_device,
    predict,
    train,
)
from tests.datasets import synthetic_digits

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason="the CUDA path needs an NVIDIA GPU and a CUDA build of torch (none here)"),
]


def splits(n_train: int = 1024, n_test: int = 256):
    tr, trl = synthetic_digits(n_train, 0)
    te, tel = synthetic_digits(n_test, 1)
    return (torch.from_numpy(tr), torch.from_numpy(trl)), (torch.from_numpy(te), torch.from_numpy(tel))


def test_auto_picks_the_gpu_and_the_run_says_so():
    assert pick_device("auto") == torch.device("cuda:0") == pick_device("cuda:0")
    assert "cuda" in available_devices()
    train_split, test_split = splits()
    model = build_model(PRESETS["modern"])
    result = train(model, train_split, test_split, TrainConfig(epochs=3, lr=0.003, batch_size=64, optimizer="adam"))
    assert result.status == "finished"
    assert result.device == describe_device(torch.device("cuda:0")) and result.device.startswith("cuda:0 (")
    assert f"examples/sec on {result.device}" in result.summary()
    assert {p.device.type for p in model.parameters()} == {"cuda"}  # trained where it ran
    assert result.history[-1].test_acc > 0.9  # and it learned


def test_the_gpu_and_the_cpu_compute_the_same_network():
    """A trained network (the bundled one) gives the same answers on both: logits close, predictions
    and accuracy (nearly) the same."""
    models = bundled_models()
    samples = load_samples(models[0].dataset) if models else None
    if samples is None:
        pytest.skip("no bundled model and samples to compare")
    model = load_checkpoint(models[0].path).model.eval()
    images, labels = torch.tensor(samples.images), torch.tensor(samples.labels).long()
    on_cpu, accuracy_cpu = predict(model, images, torch.device("cpu")), evaluate(model, (images, labels))
    with torch.no_grad():
        cpu_logits = model(to_input(images))
        gpu_logits = model.to("cuda")(to_input(images).to("cuda")).cpu()
    torch.testing.assert_close(gpu_logits, cpu_logits, rtol=1e-2, atol=1e-2)  # TF32 convolutions round to ~1e-3
    on_gpu = predict(model, images)
    assert on_gpu.device.type == "cpu" and (on_gpu == on_cpu).float().mean() >= 0.95
    assert abs(evaluate(model, (images, labels)) - accuracy_cpu) <= 0.05
    model.to("cpu")


def test_the_same_seed_starts_from_the_same_weights_and_ends_close():
    train_split, _ = splits(256)
    config = TrainConfig(epochs=1, lr=0.5, batch_size=64, device="cuda")
    runs = [train(build_model(PRESETS["classic"]), train_split, None, config, snapshots=2) for _ in range(2)]
    cpu_start = build_model(PRESETS["classic"])
    init_weights(cpu_start, 0)
    for result in runs:  # the start is drawn on the CPU from the seed: exact, whatever the device
        assert all(torch.equal(result.snapshots[0].state_dict[k], v.half()) for k, v in cpu_start.state_dict().items())
    first, second = (run.snapshots[-1].state_dict for run in runs)
    for name in first:
        torch.testing.assert_close(second[name].float(), first[name].float(), rtol=1e-3, atol=1e-3)


def test_snapshots_and_checkpoints_of_a_gpu_run_live_on_the_cpu():
    train_split, test_split = splits(512, 128)
    model = build_model(PRESETS["modern"])
    result = train(model, train_split, test_split, TrainConfig(epochs=1, lr=0.003, batch_size=64, optimizer="adam"),
                   snapshots=4)
    assert result.snapshots and all(t.device.type == "cpu" and t.dtype == torch.float16
                                    for s in result.snapshots for t in s.state_dict.values())
    last = result.snapshots[-1].state_dict
    assert all(torch.equal(last[k], v.detach().cpu().half()) for k, v in model.state_dict().items())
    saved = load_checkpoint(checkpoint_bytes(model, PRESETS["modern"], "mnist", tuple("0123456789"),
                                             history=result.history, snapshots=result.snapshots))
    assert {t.device.type for t in saved.model.state_dict().values()} == {"cpu"}
    assert all(torch.equal(saved.model.state_dict()[k], v.detach().cpu()) for k, v in model.state_dict().items())
    assert take_snapshot(model, 0, 0.0, None, None, None).state_dict["fc3.bias"].device.type == "cpu"
