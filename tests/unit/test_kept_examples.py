"""The drawings a taught network keeps in its checkpoint (Teach's Save), and what the Train page's
Continue makes of them: the run's data, split as on the Teach page, and a session that trains on it."""

import base64
import io

import numpy as np
import pytest
import torch

from lenet_viz import teach
from lenet_viz.checkpoints import CheckpointError, KeptExamples, checkpoint_bytes, load_checkpoint
from lenet_viz.run_data import KEPT_BATCH_SIZE, TAUGHT_NETWORK, continue_data, taught_recipe
from lenet_viz.run_slots import RunRefused, RunSlots
from lenet_viz.teach import TeachError
from lenet_viz.training import TrainConfig
from lenet_viz.training_session import TrainingSession
from tests.unit.test_teach import CLASSES, drawings, report


def taught(examples: dict | None = None, **kw) -> bytes:
    """A taught network's checkpoint as Save makes it, with these drawings (the default ones if None)."""
    return teach.taught_checkpoint(report(examples=drawings(**kw) if examples is None else examples)[1])


def reworked(data: bytes, change) -> bytes:
    """The checkpoint ``data`` with its raw dict changed by ``change`` (a file someone edited)."""
    raw = torch.load(io.BytesIO(data), weights_only=True)
    change(raw)
    buffer = io.BytesIO()
    torch.save(raw, buffer)
    return buffer.getvalue()


# --- kept in the checkpoint ------------------------------------------------------------------------

def test_the_drawings_round_trip_through_the_checkpoint_loadable_with_weights_only():
    sent = drawings(per_class=6, held_per_class=2)
    data = taught(sent)
    raw = torch.load(io.BytesIO(data), weights_only=True)  # plain tensors: no code unpickled
    assert raw["examples"]["images"].dtype == torch.uint8 and raw["examples"]["images"].shape == (18, 28, 28)
    kept = load_checkpoint(data).examples
    images = np.frombuffer(base64.b64decode(sent["images"]), np.uint8).reshape(-1, 28, 28)
    np.testing.assert_array_equal(kept.images.numpy(), images)
    assert kept.labels.tolist() == sent["labels"] and kept.held_out.tolist() == sent["held_out"]
    assert len(data) < 2_000_000  # the network, 3 snapshots and 18 drawings


def test_a_checkpoint_without_drawings_loads_as_before():
    data = teach.taught_checkpoint(report()[1])  # saved before Save kept the drawings
    assert "examples" not in torch.load(io.BytesIO(data), weights_only=True)
    assert load_checkpoint(data).examples is None


def test_the_most_drawings_the_teach_page_holds_fit():
    per_class = teach.MAX_EXAMPLES // len(CLASSES)
    kept = load_checkpoint(taught(per_class=per_class, held_per_class=0)).examples
    assert len(kept.labels) == per_class * len(CLASSES) and not kept.held_out.any()


@pytest.mark.parametrize("change, what", [
    (lambda e: e.update(labels=e["labels"][:-1]), "held_out"),  # a flag too many
    (lambda e: e.update(labels=[0] * (len(e["labels"]) - 1) + [len(CLASSES)]), "labels"),  # no such class
    (lambda e: e.update(labels=[True] * len(e["labels"])), "labels"),
    (lambda e: e.update(labels="0,1,2"), "labels"),
    (lambda e: e.update(labels=[], held_out=[], images=""), "labels"),
    (lambda e: e.update(held_out=[1] * len(e["labels"])), "held_out"),
    (lambda e: e.update(held_out=e["held_out"][1:]), "held_out"),
    (lambda e: e.update(images=e["images"][:-8]), "images"),  # a few bytes short
    (lambda e: e.update(images="@@@@" + e["images"][4:]), "images"),
    (lambda e: e.update(images=None), "images"),
])
def test_malformed_drawings_in_a_save_are_refused_and_nothing_is_kept(change, what):
    sent = drawings()
    change(sent)
    with pytest.raises(TeachError) as info:
        taught(sent)
    assert info.value.key == "teach.save_bad_field" and what in str(info.value)


def test_more_drawings_than_a_checkpoint_keeps_are_refused():
    sent = drawings(per_class=teach.MAX_EXAMPLES // len(CLASSES) + 1)
    with pytest.raises(TeachError, match="labels"):
        taught(sent)


def every_drawing_held_out(raw):
    raw["examples"]["held_out"] = torch.ones_like(raw["examples"]["held_out"])


@pytest.mark.parametrize("change, what", [
    (lambda raw: raw.update(examples="drawings"), "images"),
    (lambda raw: raw["examples"].update(images=raw["examples"]["images"].float()), "images"),
    (lambda raw: raw["examples"].update(images=raw["examples"]["images"][:, :14]), "images"),
    (lambda raw: raw["examples"].update(images=torch.zeros(1001, 28, 28, dtype=torch.uint8)), "images"),
    (lambda raw: raw["examples"].update(labels=raw["examples"]["labels"][:-1]), "labels"),
    (lambda raw: raw["examples"].update(labels=raw["examples"]["labels"] + 3), "labels"),  # 3 classes: 0–2
    (lambda raw: raw["examples"].update(labels=raw["examples"]["labels"] - 1), "labels"),
    (lambda raw: raw["examples"].pop("held_out"), "held_out"),
    (every_drawing_held_out, "held_out"),  # nothing left to train on
])
def test_a_checkpoint_with_damaged_drawings_is_refused_with_a_clear_message(change, what):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(reworked(taught(), change))
    assert info.value.key == "train.taught_bad_examples" and info.value.values["what"] == what
    assert "Teach page" in info.value.text("en") and "教它认新符号" in info.value.text("zh")


# --- what Continue trains on ---------------------------------------------------------------------------

def test_the_run_data_of_a_taught_network_is_its_drawings_split_as_on_the_teach_page():
    ckpt = load_checkpoint(taught(per_class=6, held_per_class=2))
    data = continue_data(ckpt, "fashion-mnist", "/nowhere")  # the chosen dataset does not apply
    assert data.dataset == teach.DATASET and data.classes == CLASSES and data.examples is ckpt.examples
    assert len(data.train[0]) == 12 and len(data.test[0]) == 6 and not data.tested_on_training
    assert data.train[1].tolist() == [0] * 4 + [1] * 4 + [2] * 4 and data.test[1].tolist() == [0, 0, 1, 1, 2, 2]
    torch.testing.assert_close(data.test[0][0], ckpt.examples.images[0], rtol=0, atol=0)


def test_with_none_held_out_the_training_drawings_test_it_too():
    data = continue_data(load_checkpoint(taught(held_per_class=0)), "mnist")
    assert data.tested_on_training and data.test[0] is data.train[0] and len(data.train[0]) == 18


def test_a_taught_network_saved_without_its_drawings_says_why_it_cannot_continue_and_what_to_do():
    ckpt = load_checkpoint(teach.taught_checkpoint(report()[1]))
    with pytest.raises(RunRefused) as info:
        continue_data(ckpt, "mnist")
    assert info.value.key == "train.taught_no_examples"
    assert "Save network" in info.value.text("en") and "保存网络" in info.value.text("zh")


def test_a_taught_network_goes_on_as_it_was_taught():
    ckpt = load_checkpoint(taught())
    recipe = taught_recipe(ckpt)
    assert (recipe.optimizer, recipe.lr, recipe.batch_size) == ("adam", 0.01, KEPT_BATCH_SIZE)  # report's lr
    odd = load_checkpoint(reworked(taught(), lambda raw: raw["config"].update(lr=-1, optimizer="lbfgs")))
    assert (taught_recipe(odd).optimizer, taught_recipe(odd).lr) == ("adam", 0.001)


@pytest.mark.slow
def test_a_session_continues_a_taught_network_on_its_drawings_and_keeps_them_in_its_checkpoint():
    ckpt = load_checkpoint(taught(per_class=8, held_per_class=2))
    data = continue_data(ckpt, "mnist")
    session = TrainingSession.from_checkpoint(ckpt, data, TAUGHT_NETWORK, RunSlots(lambda: 2))
    assert session.view().resumed
    session.start(TrainConfig(epochs=2, lr=0.001, batch_size=KEPT_BATCH_SIZE, optimizer="adam", device="cpu"),
                  fresh=False)
    assert session.join(30)
    view = session.view()
    assert view.status == "finished", view.message
    assert view.history[-1].epoch == pytest.approx(ckpt.history[-1].epoch + 2)
    assert view.history[-1].test_acc is not None and view.predictions.shape == (6,)  # the held-out drawings
    again = load_checkpoint(session.checkpoint())
    assert again.dataset == teach.DATASET and again.classes == CLASSES and again.config["model"] == TAUGHT_NETWORK
    torch.testing.assert_close(again.examples.images, ckpt.examples.images, rtol=0, atol=0)
    assert again.examples.held_out.tolist() == ckpt.examples.held_out.tolist()
    assert not torch.equal(again.state_dict["fc3.weight"], ckpt.state_dict["fc3.weight"])  # it learned on
    assert continue_data(again, "mnist").examples is not None  # and can be continued again


def test_kept_examples_write_only_plain_tensors():
    kept = KeptExamples(torch.zeros(2, 28, 28, dtype=torch.uint8), torch.tensor([0, 1]), torch.tensor([False, True]))
    ckpt = load_checkpoint(taught())
    data = checkpoint_bytes(ckpt.model, ckpt.spec, teach.DATASET, ckpt.classes, examples=kept)
    assert set(torch.load(io.BytesIO(data), weights_only=True)["examples"]) == {"images", "labels", "held_out"}
    assert load_checkpoint(data).examples.labels.tolist() == [0, 1]
