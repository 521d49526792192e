"""What a run trains on: the images (:class:`RunData`) and whether a network fits them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lenet_viz.advice import default_lr
from lenet_viz.checkpoints import Checkpoint, KeptExamples
from lenet_viz.data import load_dataset, take_subset
from lenet_viz.i18n import Msg, Msgs
from lenet_viz.models import PRESETS, LeNetSpec
from lenet_viz.run_slots import RunRefused
from lenet_viz.teach import DATASET as TAUGHT_DATASET
from lenet_viz.training import Split, TrainConfig

TAUGHT_NETWORK = "taught"  # the network of a run on a taught network's own drawings (config "model")
KEPT_BATCH_SIZE = 16  # the Train page's smallest batch, for a few hundred drawings (Teach trains on 8 at a time)


@dataclass(frozen=True)
class RunData:
    """The images a session trains and tests on; ``examples`` when they are the ones a checkpoint
    keeps (a taught network's drawings), which the session's checkpoints then keep too."""

    dataset: str
    classes: tuple[str, ...]
    train: Split
    test: Split
    examples: KeptExamples | None = None

    @property
    def tested_on_training(self) -> bool:
        """Whether the test split is the training split itself (kept examples with none held out)."""
        return self.examples is not None and not bool(self.examples.held_out.any())


def load_run_data(dataset: str, data_dir: str | None = None, subset: int | None = None) -> RunData:
    """A dataset from disk, its training split optionally cut to ``subset`` random images.

    Raises :class:`lenet_viz.data.DataNotFound` when the files are not there.
    """
    data = load_dataset(dataset, data_dir or None)
    train_split = take_subset((data.train_images, data.train_labels), subset)
    return RunData(dataset, data.classes, train_split, (data.test_images, data.test_labels))


def continue_data(ckpt: Checkpoint, dataset: str, data_dir: str | None = None, subset: int | None = None) -> RunData:
    """What Continue trains a loaded checkpoint on: ``dataset`` from disk, or the examples the
    checkpoint keeps, split as on the Teach page: the held-out ones test the network, the others train
    it (with none held out, the training ones test it too: the page says so).

    Raises :class:`RunRefused` for a taught network saved without its drawings (they were only in the
    learner's browser), and :class:`lenet_viz.data.DataNotFound` when the dataset is not on disk.
    """
    kept = ckpt.examples
    if kept is None and ckpt.dataset == TAUGHT_DATASET:
        raise RunRefused.keyed("train.taught_no_examples")
    if kept is None:
        return load_run_data(dataset, data_dir, subset)
    train = (kept.images[~kept.held_out], kept.labels[~kept.held_out])
    test = (kept.images[kept.held_out], kept.labels[kept.held_out]) if kept.held_out.any() else train
    return RunData(ckpt.dataset, ckpt.classes, train, test, kept)


def taught_recipe(ckpt: Checkpoint) -> TrainConfig:
    """How a taught network goes on learning from its few drawings: as the Teach page trained it (the
    optimizer and learning rate its checkpoint's ``config`` names), in small batches."""
    config = ckpt.config
    optimizer = config.get("optimizer") if config.get("optimizer") in ("sgd", "adam") else "adam"
    lr = config.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and 0 < lr <= 10):
        lr = default_lr(optimizer, ckpt.spec.activation)
    return TrainConfig(lr=float(lr), batch_size=KEPT_BATCH_SIZE, optimizer=optimizer)


def trainable_problem(spec: LeNetSpec) -> Msg | str:
    """Why a network cannot be trained on MNIST-style data ('' when it can)."""
    wrong = [Msg(f"training.wrong_{what}", got=got, need=need) for what, got, need in (
        ("in_channels", spec.in_channels, 1), ("input_size", spec.input_size, 28),
        ("outputs", spec.num_classes, 10)) if got != need]
    return Msg("training.untrainable", problems=Msgs(wrong)) if wrong else ""



def preset_name(spec: LeNetSpec) -> str | None:
    """The preset a spec is (compared by value), if any."""
    return next((name for name, preset in PRESETS.items() if preset.to_dict() == spec.to_dict()), None)
