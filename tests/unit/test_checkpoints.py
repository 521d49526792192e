"""Checkpoints: atomic writes, weights_only loading, clear errors for bad files."""

import io
import pickle

import pytest
import torch

from lenet_viz.checkpoints import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from lenet_viz.models import PRESETS, build_model

CLASSES = tuple("0123456789")


def test_round_trip_rebuilds_the_same_network(tmp_path):
    spec = PRESETS["modern"].with_block(0, kernel=3, padding=1)
    model = build_model(spec)
    path = save_checkpoint(tmp_path / "m.pt", model, spec, "mnist", CLASSES, [{"epoch": 1.0, "test_acc": 0.5}])
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind
    ckpt = load_checkpoint(path)
    assert ckpt.spec == spec and ckpt.dataset == "mnist" and ckpt.test_acc == 0.5
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(ckpt.model(x), model.eval()(x))
    assert load_checkpoint(checkpoint_bytes(model, spec, "mnist", CLASSES)).spec == spec


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    spec = PRESETS["classic"]
    path = save_checkpoint(tmp_path / "m.pt", build_model(spec), spec, "mnist", CLASSES)
    original = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, build_model(spec), spec, "mnist", CLASSES)
    assert path.read_bytes() == original and len(list(tmp_path.iterdir())) == 1


def test_temp_files_of_a_killed_writer_are_cleaned_up(tmp_path):
    spec = PRESETS["classic"]
    (tmp_path / ".m.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / ".other.pt.abc123.tmp").write_bytes(b"not ours")
    save_checkpoint(tmp_path / "m.pt", build_model(spec), spec, "mnist", CLASSES)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.pt.abc123.tmp", "m.pt"]


class Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def bad_files():
    spec = PRESETS["classic"]
    good = checkpoint_bytes(build_model(spec), spec, "mnist", CLASSES)
    pickled = io.BytesIO()
    torch.save({"format": "lenet-viz/1", "x": Payload()}, pickled)
    wrong_shapes = torch.load(io.BytesIO(good), weights_only=True)
    wrong_shapes["spec"]["conv"][0]["out_channels"] = 7
    nan = torch.load(io.BytesIO(good), weights_only=True)
    nan["state_dict"]["fc3.bias"][0] = float("nan")
    return {
        "empty": b"",
        "text": b"hello world",
        "truncated": good[: len(good) // 2],
        "pickle payload": pickled.getvalue(),
        "plain pickle": pickle.dumps({"format": "lenet-viz/1"}),
        "other torch file": _saved({"weights": torch.zeros(3)}),
        "wrong shapes": _saved(wrong_shapes),
        "nan weights": _saved(nan),
    }


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


BAD_FILES = bad_files()


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_give_a_clear_error(name, capsys):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(BAD_FILES[name])
    message = str(info.value)
    assert "the uploaded file" in message and len(message) < 300
    assert "pwned" not in capsys.readouterr().out
    if name in ("text", "truncated", "empty"):
        assert "not a file saved by PyTorch, or it is damaged or incomplete" in message
    if name == "pickle payload":
        assert "could run code" in message


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")
