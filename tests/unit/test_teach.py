"""The Teach page's library: class names, the examples zip (and hostile ones), and the checkpoint of a
network the browser taught."""

import base64
import io
import json
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from lenet_viz import teach
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.cli import main
from lenet_viz.figures.train import live_curves
from lenet_viz.history import DEFAULT_SNAPSHOTS, Progress, history_dicts
from lenet_viz.models import PRESETS, build_model
from lenet_viz.netview_payload import tensor_layout, weight_blob
from lenet_viz.run_data import trainable_problem
from lenet_viz.teach import Examples, TeachError

CLASSES = ("一", "△", "JB")


def some_examples(count_per_class: int = 5, classes: tuple[str, ...] = CLASSES) -> Examples:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(classes)), count_per_class)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    return Examples(classes, images, labels)


def png(size=(28, 28), mode="L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 200).save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width``×``height`` pixels (its CRC put right)."""
    data = bytearray(png())
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


def zip_of(entries: dict[str, bytes] | list[tuple[str, bytes]], labels: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in (entries.items() if isinstance(entries, dict) else entries):
            z.writestr(name, data)
        if labels is not None:
            z.writestr(teach.LABELS_FILE, json.dumps(labels))
    return buffer.getvalue()


def labels_for(files: list[str], classes=("a", "b"), cls=None) -> dict:
    return {"format": teach.FORMAT, "classes": list(classes),
            "examples": [{"file": f, "class": cls or classes[i % len(classes)]} for i, f in enumerate(files)]}


def refused(data: bytes) -> str:
    with pytest.raises(TeachError) as info:
        teach.read_examples_zip(data)
    return info.value.key


# --- class names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["一", "△", "JB", "  ○  ", "x" * teach.MAX_NAME_CHARS])
def test_names_in_any_language_are_accepted_and_stripped(name):
    assert teach.check_class_name(name) == name.strip()


@pytest.mark.parametrize("name, taken, key", [
    ("", (), "teach.name_empty"), ("   ", (), "teach.name_empty"), (None, (), "teach.name_empty"),
    ("x" * (teach.MAX_NAME_CHARS + 1), (), "teach.name_too_long"), ("a\nb", (), "teach.name_control"),
    ("A", ("a",), "teach.name_duplicate"), ("Ａ", ("a",), "teach.name_duplicate"),
    (" 一 ", ("一",), "teach.name_duplicate"),
])
def test_bad_names_are_refused_with_their_reason(name, taken, key):
    with pytest.raises(TeachError) as info:
        teach.check_class_name(name, taken)
    assert info.value.key == key
    assert info.value.text("zh") != info.value.text("en")


@pytest.mark.parametrize("names", [["only"], [f"c{i}" for i in range(11)], [], "ab"])
def test_two_to_ten_classes(names):
    with pytest.raises(TeachError):
        teach.check_classes(names)


# --- the examples zip ------------------------------------------------------------------------------------

def test_zip_round_trip_keeps_every_drawing_and_label():
    examples = some_examples()
    data = teach.write_examples_zip(examples)
    back = teach.read_examples_zip(data)
    assert back.classes == CLASSES
    np.testing.assert_array_equal(back.images, examples.images)
    np.testing.assert_array_equal(back.labels, examples.labels)
    assert back.notes == ()
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # file names never come from class names
        assert all(name == teach.LABELS_FILE or name.startswith("images/") and name.isascii() for name in z.namelist())


def test_classes_without_drawings_are_restored_too():
    examples = Examples(("a", "b", "c"), np.zeros((2, 28, 28), np.uint8), np.array([0, 0]))
    assert teach.read_examples_zip(teach.write_examples_zip(examples)).classes == ("a", "b", "c")


def test_rgba_pngs_as_a_browser_writes_them_are_read_as_gray():
    rgba = Image.new("RGBA", (28, 28), (90, 90, 90, 255))
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    back = teach.read_examples_zip(zip_of({"images/1.png": buffer.getvalue()}, labels_for(["images/1.png"])))
    assert back.images.shape == (1, 28, 28) and int(back.images[0, 0, 0]) == 90


def test_more_than_the_cap_is_cut_and_said():
    files = [f"images/{i}.png" for i in range(teach.MAX_EXAMPLES + 5)]
    data = zip_of({f: png() for f in files}, labels_for(files))
    back = teach.read_examples_zip(data)
    assert len(back.images) == teach.MAX_EXAMPLES
    assert [note.key for note in back.notes] == ["teach.capped"]
    assert str(teach.MAX_EXAMPLES + 5) in back.notes[0]


@pytest.mark.parametrize("make, key", [
    (lambda: b"not a zip at all", "teach.zip_unreadable"),
    (lambda: b"PK\x03\x04" + b"\0" * 40, "teach.zip_unreadable"),
    (lambda: b"x" * (teach.MAX_UPLOAD_BYTES + 1), "teach.zip_too_large"),
    (lambda: zip_of({"images/1.png": png()}), "teach.zip_no_labels"),
    (lambda: zip_of({"../evil.png": png()}, labels_for(["../evil.png"])), "teach.zip_unsafe_path"),
    (lambda: zip_of({"/etc/evil.png": png()}, labels_for(["/etc/evil.png"])), "teach.zip_unsafe_path"),
    (lambda: zip_of({"a\\..\\b.png": png()}, labels_for(["a\\..\\b.png"])), "teach.zip_unsafe_path"),
    (lambda: zip_of({"C:evil.png": png()}, labels_for(["C:evil.png"])), "teach.zip_unsafe_path"),
    (lambda: zip_of([("images/1.png", png()), ("images/1.png", png())], labels_for(["images/1.png"])),
     "teach.zip_duplicate_file"),
    (lambda: zip_of({"images/1.png": png()}, labels_for(["images/1.png", "images/1.png"])), "teach.zip_duplicate_file"),
    (lambda: zip_of({"images/1.png": png()}, labels_for(["images/2.png"])), "teach.zip_missing_file"),
    (lambda: zip_of({"images/1.png": b"GIF89a..."}, labels_for(["images/1.png"])), "teach.zip_not_png"),
    (lambda: zip_of({"images/1.png": png()[:30]}, labels_for(["images/1.png"])), "teach.zip_not_png"),
    (lambda: zip_of({"images/1.png": png((29, 28))}, labels_for(["images/1.png"])), "teach.zip_wrong_size"),
    (lambda: zip_of({"images/1.png": png_claiming(9000, 9000)}, labels_for(["images/1.png"])),
     "teach.zip_wrong_size"),  # a PNG bomb is refused by its header, before a pixel is decoded
    (lambda: zip_of({"images/1.png": png_claiming(60000, 60000)}, labels_for(["images/1.png"])),
     "teach.zip_not_png"),  # Pillow itself refuses to open this one
    (lambda: zip_of({"images/1.png": png()}, labels_for(["images/1.png"], cls="zzz")), "teach.zip_unknown_class"),
    (lambda: zip_of({"images/1.png": png()}, labels_for(["images/1.png"], classes=["a", "A"])),
     "teach.name_duplicate"),
    (lambda: zip_of({"images/1.png": png()}, labels_for(["images/1.png"], classes=["a"])), "teach.class_count"),
    (lambda: zip_of({"images/1.png": png()}, {**labels_for(["images/1.png"]), "format": "other"}),
     "teach.zip_bad_labels"),
    (lambda: zip_of({"images/1.png": png()}, {**labels_for(["images/1.png"]), "examples": [1, 2]}),
     "teach.zip_bad_labels"),
    (lambda: zip_of({"images/1.png": png(), teach.LABELS_FILE: b"{nope"}), "teach.zip_bad_labels"),
    (lambda: zip_of({"images/1.png": png(), teach.LABELS_FILE: b"[" * 100_000}), "teach.zip_bad_labels"),
    (lambda: zip_of({f"f{i}": b"" for i in range(teach.MAX_ZIP_ENTRIES + 1)}), "teach.zip_too_many_files"),
    (lambda: zip_of({"images/1.png": png() + b"\0" * teach.MAX_ENTRY_BYTES}, labels_for(["images/1.png"])),
     "teach.zip_entry_too_large"),
])
def test_corrupt_and_hostile_zips_are_refused_with_a_reason(make, key):
    assert refused(make()) == key


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr(f"bomb{i}", b"\0" * (20 * 2**20))
    data = buffer.getvalue()
    assert len(data) < 200_000
    assert refused(data) == "teach.zip_unpacks_to"


def test_an_entry_that_lies_about_its_size_is_read_no_further_than_the_limit():
    data = bytearray(zip_of({"images/1.png": png() + b"\0" * (2 * teach.MAX_ENTRY_BYTES)},
                            labels_for(["images/1.png"])))
    # set the central directory's "uncompressed size" of the PNG entry to 100 bytes
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"labels.json"))
    data[at + 24:at + 28] = (100).to_bytes(4, "little")
    assert refused(bytes(data)) in ("teach.zip_entry_too_large", "teach.zip_unreadable")


def test_an_encrypted_or_unknown_compression_entry_is_unreadable():
    data = bytearray(zip_of({"images/1.png": png()}, labels_for(["images/1.png"])))
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):  # compression method 99 (AES) in both headers
        at = data.find(marker)
        offset = 8 if marker == b"PK\x03\x04" else 10
        data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
    assert refused(bytes(data)) == "teach.zip_unreadable"


def test_examples_payload_is_the_bytes_of_every_image():
    examples = some_examples(2)
    payload = teach.examples_payload(examples)
    raw = base64.b64decode(payload["images"])
    assert len(raw) == 6 * 28 * 28 and raw[:784] == examples.images[0].tobytes()
    assert payload["labels"] == [0, 0, 1, 1, 2, 2] and payload["classes"] == list(CLASSES)


# --- the taught network -------------------------------------------------------------------------------

def b64(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, "<f4").tobytes()).decode()


def drawings(classes=CLASSES, per_class: int = 6, held_per_class: int = 2, seed: int = 0) -> dict:
    """The drawings teach.js sends with Save (keptExamples' form): ``per_class`` of each class, the
    first ``held_per_class`` of each held out."""
    rng = np.random.default_rng(seed)
    labels = [label for label in range(len(classes)) for _ in range(per_class)]
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    held = [i % per_class < held_per_class for i in range(len(labels))]
    return {"images": base64.b64encode(images.tobytes()).decode(), "labels": labels, "held_out": held}


def report(classes=CLASSES, snapshots=3, spec=None, examples=None):
    """What teach.js sends on Save: the network in the payload's tensor layout (and ``examples``, the
    drawings it learned from, when given: :func:`drawings`)."""
    spec = spec or PRESETS["modern"].__class__(**{**PRESETS["modern"].__dict__, "num_classes": len(classes)})
    torch.manual_seed(0)
    model = build_model(spec)
    layout = tensor_layout(spec)
    flat = np.frombuffer(weight_blob(layout, model.state_dict()), "<f4")
    history = [Progress(epoch=e + 1, step=3 * (e + 1), total_steps=12, train_loss=1.0 / (e + 1), train_acc=0.5 + e / 10,
                        test_acc=0.4 + e / 10, examples_per_sec=500.0, elapsed_s=0.2 * (e + 1)) for e in range(4)]
    snaps = [{"step": 4 * i, "epoch": float(i), "loss": 1.0, "train_acc": 0.5, "test_acc": None,
              "weights": b64(flat * (i + 1) / snapshots)} for i in range(snapshots)]
    return model, {"spec": spec.to_dict(), "classes": list(classes), "weights": b64(flat),
                   "history": history_dicts(history), "snapshots": snaps,
                   "config": {"start": "fresh", "lr": 0.01, "evil": object(), "train_layers": "all"},
                   **({"examples": examples} if examples is not None else {})}


@pytest.mark.slow
def test_a_taught_network_is_a_checkpoint_every_page_loads():
    model, sent = report()
    data = teach.taught_checkpoint(sent)
    raw = torch.load(io.BytesIO(data), weights_only=True)
    assert raw["format"] == "lenet-viz/1" and raw["dataset"] == teach.DATASET
    ckpt = load_checkpoint(data)
    assert ckpt.classes == CLASSES
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(ckpt.state_dict[name], tensor, rtol=0, atol=0)
    assert len(ckpt.snapshots) == 3 and ckpt.snapshots[0].state_dict["conv1.weight"].dtype == torch.float16
    torch.testing.assert_close(ckpt.snapshots[-1].state_dict["fc3.weight"].float(), model.fc3.weight.detach(),
                               rtol=1e-3, atol=1e-3)
    assert ckpt.test_acc == pytest.approx(0.7)
    assert ckpt.config == {"source": "teach", "start": "fresh", "lr": 0.01, "train_layers": "all"}
    # Train's Continue names what stops it training on MNIST: its 3 outputs
    assert "3" in trainable_problem(ckpt.spec)


@pytest.mark.slow
def test_too_many_snapshots_are_thinned_first_and_last_kept():
    _, sent = report(snapshots=DEFAULT_SNAPSHOTS * 3)
    ckpt = load_checkpoint(teach.taught_checkpoint(sent))
    steps = [s.step for s in ckpt.snapshots]
    assert len(steps) <= 64 and steps[0] == 0 and steps[-1] == 4 * (DEFAULT_SNAPSHOTS * 3 - 1)


def bad(sent: dict, **changes) -> dict:
    return {**sent, **changes}


@pytest.mark.parametrize("change, key", [
    (dict(spec="classic"), "teach.save_bad_field"),
    (dict(spec={"conv": "x"}), "teach.save_bad_spec"),
    (dict(classes=["a", "b"]), "teach.save_bad_field"),  # 2 names for 3 outputs
    (dict(classes=["a", "a", "b"]), "teach.name_duplicate"),
    (dict(weights="@@@@"), "teach.save_bad_weights"),
    (dict(weights=b64(np.zeros(10))), "teach.save_bad_weights"),
    (dict(weights=12), "teach.save_bad_weights"),
    (dict(history=[{"epoch": "x"}]), "teach.save_bad_field"),
    (dict(snapshots="many"), "teach.save_bad_field"),
    (dict(snapshots=[{"step": 0, "weights": "AAAA"}]), "teach.save_bad_weights"),
])
def test_bad_reports_are_refused_with_a_reason(change, key):
    _, sent = report()
    with pytest.raises(TeachError) as info:
        teach.taught_checkpoint(bad(sent, **change))
    assert info.value.key == key


def test_diverged_weights_are_not_saved():
    _, sent = report()
    flat = np.frombuffer(base64.b64decode(sent["weights"]), "<f4").copy()
    flat[5] = np.nan
    with pytest.raises(TeachError) as info:
        teach.taught_checkpoint(bad(sent, weights=b64(flat)))
    assert info.value.key == "teach.save_not_finite"


def test_snapshot_steps_must_rise():
    _, sent = report()
    sent["snapshots"][1]["step"] = 0
    with pytest.raises(TeachError):
        teach.taught_checkpoint(sent)


def test_a_network_too_large_to_keep_is_refused_before_it_is_built():
    spec = PRESETS["modern"].__class__(**{**PRESETS["modern"].__dict__, "num_classes": 3, "hidden": (5000, 2000)})
    with pytest.raises(TeachError) as info:
        teach.taught_checkpoint({"spec": spec.to_dict(), "classes": list(CLASSES), "weights": ""})
    assert info.value.key == "teach.save_too_large"


@pytest.mark.slow
@pytest.mark.parametrize("saved", ["now", "before"])
def test_a_taught_network_continued_keeps_its_teach_points_on_every_curve(tmp_path, saved):
    """Teach writes one event an epoch, with the train metrics and the held-out accuracy together; the
    curves read train points from events without a test accuracy. A continued run (``train --resume``,
    as Train's Continue) shows the Teach epochs on the train loss and accuracy curves too, also for a
    checkpoint saved before the events were split ("before": its history as the page sent it)."""
    _, sent = report(examples=drawings(per_class=8))
    path, out = tmp_path / "taught.pt", tmp_path / "continued.pt"
    path.write_bytes(teach.taught_checkpoint(sent))
    if saved == "before":
        raw = torch.load(path, weights_only=True)
        raw["history"] = sent["history"]
        torch.save(raw, path)
    assert main(["train", "--resume", str(path), "--epochs", "1", "--out", str(out), "--device", "cpu"]) == 0
    history = load_checkpoint(out).history
    train_loss, train_acc, test_acc = live_curves(history, history[-1].epoch).data
    assert set(train_loss.x) >= {1, 2, 3, 4, 5} and set(train_acc.x) >= {1, 2, 3, 4, 5}  # Teach's four, then one
    assert list(train_loss.y[:4]) == [1.0, 0.5, 1 / 3, 0.25]  # Teach's losses, as it sent them
    assert list(test_acc.x) == [1, 2, 3, 4, 5]


def test_a_history_in_the_engines_form_is_left_as_it_is():
    from lenet_viz.history import with_train_points

    engine = (Progress(0.5, 2, 8, 2.0, 0.3, None, 1.0, 1.0), Progress(1.0, 4, 8, 1.5, 0.5, None, 1.0, 2.0),
              Progress(1.0, 4, 8, 1.5, 0.5, 0.6, 1.0, 2.0))
    assert with_train_points(engine) == engine
    teach_form = (Progress(1.0, 4, 8, 1.5, 0.5, 0.6, 1.0, 2.0),)
    assert with_train_points(teach_form) == (Progress(1.0, 4, 8, 1.5, 0.5, None, 1.0, 2.0), teach_form[0])
