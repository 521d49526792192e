"""Checkpoints: atomic writes, weights_only loading, clear errors for bad files."""

import io
import os
import pickle
import random

import pytest
import torch

from lenet_viz.checkpoints import (
    CheckpointError,
    Snapshot,
    check_upload_name,
    checkpoint_bytes,
    load_checkpoint,
    save_checkpoint,
)
from lenet_viz.history import MAX_SNAPSHOTS, Progress, take_snapshot
from lenet_viz.models import PRESETS, build_model

CLASSES = tuple("0123456789")
EVENT = Progress(epoch=1.0, step=10, total_steps=10, train_loss=0.7, train_acc=0.75, test_acc=0.5,
                 examples_per_sec=100.0, elapsed_s=2.0)


def test_round_trip_rebuilds_the_same_network(tmp_path):
    spec = PRESETS["modern"].with_block(0, kernel=3, padding=1)
    model = build_model(spec)
    path = save_checkpoint(tmp_path / "m.pt", model, spec, "mnist", CLASSES, [EVENT])
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind
    ckpt = load_checkpoint(path)
    assert ckpt.spec == spec and ckpt.dataset == "mnist" and ckpt.test_acc == 0.5
    assert ckpt.history == (EVENT,) and ckpt.snapshots == ()
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(ckpt.model(x), model.eval()(x))
    assert load_checkpoint(checkpoint_bytes(model, spec, "mnist", CLASSES)).spec == spec


def with_snapshots(model, count: int = 2) -> bytes:
    spec = PRESETS["modern"]
    kept = [take_snapshot(model, step, step / 10, None if step == 0 else 1.0 / step, 0.5, None)
            for step in range(count)]
    return checkpoint_bytes(model, spec, "mnist", CLASSES, [EVENT], {}, kept)


def test_snapshots_round_trip_as_float16_weights_loadable_with_weights_only():
    model = build_model(PRESETS["modern"])
    data = with_snapshots(model, 3)
    raw = torch.load(io.BytesIO(data), weights_only=True)  # plain data: no code to unpickle
    assert [s["step"] for s in raw["snapshots"]] == [0, 1, 2]
    ckpt = load_checkpoint(data)
    assert all(isinstance(s, Snapshot) for s in ckpt.snapshots) and len(ckpt.snapshots) == 3
    first, last = ckpt.snapshots[0], ckpt.snapshots[-1]
    assert (first.step, first.epoch, first.loss, first.train_acc, first.test_acc) == (0, 0.0, None, 0.5, None)
    assert last.step == 2 and last.loss == 0.5
    assert set(last.state_dict) == set(ckpt.state_dict) and last.state_dict["fc3.weight"].dtype == torch.float16
    # float16 keeps about 3 significant digits: plenty for drawing
    assert torch.allclose(last.state_dict["fc3.weight"].float(), model.state_dict()["fc3.weight"], rtol=1e-3,
                          atol=1e-4)


def rewritten(data: bytes, change) -> bytes:
    raw = torch.load(io.BytesIO(data), weights_only=True)
    change(raw)
    out = io.BytesIO()
    torch.save(raw, out)
    return out.getvalue()


@pytest.mark.parametrize(("change", "said"), [
    (lambda r: r.update(snapshots="lots"), "not a list"),
    (lambda r: r.update(snapshots=[r["snapshots"][0]] * (MAX_SNAPSHOTS + 1)), f"at most {MAX_SNAPSHOTS}"),
    (lambda r: r["snapshots"][1].update(step=0), "not a whole number above the one before"),
    (lambda r: r["snapshots"][1].update(step=1.5), "not a whole number"),
    (lambda r: r["snapshots"][0].update(epoch="early"), "epoch is 'early', not a number"),
    (lambda r: r["snapshots"][1].update(test_acc=float("nan")), "not a finite number"),
    (lambda r: r["snapshots"][0]["state_dict"].pop("fc3.bias"), "not the network's layers"),
    (lambda r: r["snapshots"][0]["state_dict"].update({"fc3.bias": torch.zeros(3)}), "shape"),
    (lambda r: r["snapshots"][1]["state_dict"]["fc3.bias"].fill_(float("inf")), "not all finite"),
    (lambda r: r["snapshots"][0]["state_dict"].update({"fc3.bias": torch.zeros(10, dtype=torch.long)}),
     "not all finite numbers"),
    (lambda r: r["history"][0].pop("step"), "lacks step"),
])
def test_bad_snapshot_or_history_data_is_a_clear_checkpoint_error(change, said):
    bad = rewritten(with_snapshots(build_model(PRESETS["modern"])), change)
    with pytest.raises(CheckpointError, match="The uploaded file: ") as caught:
        load_checkpoint(bad)
    assert said in str(caught.value)


def test_snapshots_of_a_network_too_big_for_the_budget_are_refused():
    spec = PRESETS["modern"]
    model = build_model(spec)
    kept = [take_snapshot(model, step, 0.0, None, None, None) for step in range(40)]  # 40 × 123 kB > 4 MiB
    data = checkpoint_bytes(model, spec, "mnist", CLASSES, [], {}, kept)
    with pytest.raises(CheckpointError, match="MB are supported"):
        load_checkpoint(data)


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
    assert "The uploaded file" in message and len(message) < 300
    assert "pwned" not in capsys.readouterr().out
    if name in ("text", "truncated", "empty", "plain pickle"):
        assert DAMAGED in message
    if name == "pickle payload":
        assert "could run code" in message


DAMAGED = "not a file saved by PyTorch, or it is damaged or incomplete"


@pytest.mark.parametrize("size", [1, 2, 40, 3000, 100_000])
def test_random_bytes_are_damaged_not_dangerous(size):
    # the first try of a new user: random bytes named junk.pt; torch's weights_only unpickler refuses
    # their first unknown opcode, which must not be told as "could run code"
    for seed in range(20):
        data = random.Random(size * 100 + seed).randbytes(size)
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(data)
        assert DAMAGED in str(info.value) and "could run code" not in str(info.value), data[:20]
    with pytest.raises(CheckpointError, match="damaged or incomplete"):
        load_checkpoint(os.urandom(size))


def test_random_bytes_that_name_no_python_global_are_damaged():
    # a GLOBAL opcode (b"c") followed by bytes that are not a module and a name
    for data in (b"\x80\x02c\x01\x02\n\x03\n.", b"c-\n+\n.", b"c\n\n."):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(data)
        assert DAMAGED in str(info.value), data


class Custom:
    def __init__(self):
        self.weights = [1, 2, 3]


def test_pickles_asking_for_code_could_run_code(capsys):
    # os.system by hand (protocol 2 and 0) and custom classes: only ever given to load_checkpoint
    hand_made = b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00echo pwned!q\x01\x85q\x02Rq\x03."
    for data in (hand_made, b"cos\nsystem\n(S'echo pwned'\ntR.", _saved({"format": "lenet-viz/1", "x": Custom()}),
                 _saved(Custom()), BAD_FILES["pickle payload"]):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(data)
        message = str(info.value)
        assert "could run code" in message and DAMAGED not in message, data[:30]
    assert "pwned" not in capsys.readouterr().out


def test_a_torch_file_without_the_format_tag_says_plainly_it_was_not_saved_by_lenet_viz():
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(BAD_FILES["other torch file"])
    assert str(info.value).startswith("The uploaded file was not saved by lenet-viz")
    assert "format tag" not in str(info.value)
    assert info.value.text("zh").startswith("上传的文件不是 lenet-viz 保存的文件")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


@pytest.mark.parametrize("name", ["run.pt", "RUN.PTH", "a.b.pt"])
def test_an_upload_named_as_a_checkpoint_passes(name):
    check_upload_name(name)


@pytest.mark.parametrize("name", ["notes.txt", "run.pt.zip", "pt", "model"])
def test_an_upload_named_otherwise_is_refused_in_both_languages(name):
    with pytest.raises(CheckpointError) as caught:
        check_upload_name(name)
    assert f"“{name}” is not a checkpoint" in caught.value.text("en") and ".pt / .pth" in caught.value.text("en")
    assert f"“{name}”不是检查点" in caught.value.text("zh")
