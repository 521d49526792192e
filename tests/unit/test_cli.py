"""``python -m lenet_viz``: train, evaluate, samples, and its errors."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_viz import data, settings
from lenet_viz.cli import main
from lenet_viz.model_store import Samples
from lenet_viz.training import describe_device, pick_device
from tests.environment import process_environment


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--dataset", "--model", "--epochs", "--lr", "--batch-size", "--device", "--out", "--data-dir",
                 "--download", "--optimizer", "--subset", "--augment", "--add-test-range", "--test-range",
                 "--snapshots"):
        assert flag in text


@pytest.mark.slow
def test_train_then_evaluate_a_range(idx_folder: Path, tmp_path: Path, capsys):
    out = tmp_path / "run.pt"
    code = main(["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--model", "modern", "--epochs", "2",
                 "--optimizer", "adam", "--lr", "0.003", "--batch-size", "64", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and out.exists()
    device = re.escape(describe_device(pick_device("auto")))  # the GPU where there is one
    summary = r"loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}\n[\d.]+ examples/sec on "
    assert re.search(summary + device + "\n", printed), printed
    assert main(["evaluate", str(out), "--dataset", "mnist", "--data-dir", str(idx_folder), "--range", "50:150"]) == 0
    match = re.fullmatch(r"test acc (\d\.\d{4}) on 100 images\n", capsys.readouterr().out)
    assert match and float(match.group(1)) > 0.5


@pytest.mark.slow
def test_snapshots_flag_keeps_that_many_or_none(idx_folder: Path, tmp_path: Path, capsys):
    from lenet_viz.checkpoints import load_checkpoint
    from lenet_viz.history import snapshot_steps

    common = ["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--model", "modern", "--epochs", "1",
              "--optimizer", "adam", "--lr", "0.003", "--batch-size", "64"]
    assert main([*common, "--snapshots", "5", "--out", str(tmp_path / "five.pt")]) == 0
    five = load_checkpoint(tmp_path / "five.pt")
    # 600 images in batches of 64: 10 steps
    assert [s.step for s in five.snapshots] == snapshot_steps(10, 5) == [0, 1, 2, 5, 10]
    assert main([*common, "--snapshots", "0", "--out", str(tmp_path / "none.pt")]) == 0
    assert load_checkpoint(tmp_path / "none.pt").snapshots == ()
    assert "(5 snapshots)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*common, "--snapshots", "65"])
    assert "--snapshots: must be 0 to 64" in capsys.readouterr().err


def test_add_test_range_must_not_overlap_the_test_range(idx_folder: Path, capsys):
    code = main(["train", "--dataset", "mnist", "--data-dir", str(idx_folder), "--epochs", "1",
                 "--add-test-range", "0:100", "--test-range", "50:200"])
    assert code == 2 and "overlaps" in capsys.readouterr().err


def test_samples_picks_per_class(idx_folder: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "s.npz"
    assert main(["samples", "--dataset", "mnist", "--data-dir", str(idx_folder), "--range", "100:200",
                 "--per-class", "2", "--out", str(out)]) == 0
    import numpy as np

    with np.load(out) as f:
        samples = Samples(f["images"], f["labels"], tuple(f["classes"]), f["indices"])
    assert sorted(samples.labels.tolist()) == sorted(list(range(10)) * 2)
    assert all(100 <= i < 200 for i in samples.indices)


def test_missing_data_and_bad_checkpoint_fail_cleanly(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "nothing"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: mnist not found.") and "Traceback" not in err
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    assert main(["evaluate", str(bad), "--dataset", "mnist"]) == 2
    assert "is not a readable checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["train", "--epochs", "0"], ["train", "--model", "alexnet"], ["evaluate"],
                                  ["frobnicate"], ["train", "--test-range", "9:3"]])
def test_wrong_flags_exit_non_zero(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.slow
def test_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "lenet_viz", "train", "--lr", "-1"], capture_output=True, text=True,
                          env=process_environment())
    assert proc.returncode == 2 and "--lr: must be positive" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_taught_network_continues_on_the_drawings_its_checkpoint_keeps(tmp_path: Path, capsys):
    from lenet_viz.checkpoints import load_checkpoint
    from lenet_viz.run_data import KEPT_BATCH_SIZE, taught_recipe
    from tests.unit.test_kept_examples import reworked, taught

    source = tmp_path / "taught.pt"
    source.write_bytes(taught(per_class=8, held_per_class=2))
    before = load_checkpoint(source)
    out = tmp_path / "more.pt"
    assert main(["train", "--resume", str(source), "--epochs", "2", "--out", str(out)]) == 0  # no dataset needed
    printed = capsys.readouterr()
    assert "on 18 drawings images (kept in the checkpoint), testing on 6" in printed.err, printed.err
    after = load_checkpoint(out)
    assert after.dataset == before.dataset and after.classes == before.classes
    assert after.examples is not None and (after.examples.images == before.examples.images).all()  # kept again
    assert after.history[-1].epoch == before.history[-1].epoch + 2
    recipe = taught_recipe(before)  # as the Teach page trained it, in small batches
    assert (after.config["optimizer"], after.config["lr"], after.config["batch_size"]) == (
        recipe.optimizer, recipe.lr, KEPT_BATCH_SIZE)

    assert main(["train", "--resume", str(source), "--subset", "5"]) == 2  # a dataset's options do not apply
    assert "--subset cannot apply" in capsys.readouterr().err
    bare = tmp_path / "bare.pt"  # saved before Save kept the drawings: they were only in the browser
    bare.write_bytes(reworked(source.read_bytes(), lambda raw: raw.pop("examples")))
    assert main(["train", "--resume", str(bare)]) == 2
    assert "drawings" in capsys.readouterr().err
