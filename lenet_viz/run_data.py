"""What a run trains on: the images (:class:`RunData`) and whether a network fits them."""

from __future__ import annotations

from dataclasses import dataclass

from lenet_viz.data import load_dataset, take_subset
from lenet_viz.i18n import Msg, Msgs
from lenet_viz.models import PRESETS, LeNetSpec
from lenet_viz.training import Split


@dataclass(frozen=True)
class RunData:
    """The images a session trains and tests on."""

    dataset: str
    classes: tuple[str, ...]
    train: Split
    test: Split


def load_run_data(dataset: str, data_dir: str | None = None, subset: int | None = None) -> RunData:
    """A dataset from disk, its training split optionally cut to ``subset`` random images.

    Raises :class:`lenet_viz.data.DataNotFound` when the files are not there.
    """
    data = load_dataset(dataset, data_dir or None)
    train_split = take_subset((data.train_images, data.train_labels), subset)
    return RunData(dataset, data.classes, train_split, (data.test_images, data.test_labels))


def trainable_problem(spec: LeNetSpec) -> Msg | str:
    """Why a network cannot be trained on MNIST-style data ('' when it can)."""
    wrong = [Msg(f"training.wrong_{what}", got=got, need=need) for what, got, need in (
        ("in_channels", spec.in_channels, 1), ("input_size", spec.input_size, 28),
        ("outputs", spec.num_classes, 10)) if got != need]
    return Msg("training.untrainable", problems=Msgs(wrong)) if wrong else ""



def preset_name(spec: LeNetSpec) -> str | None:
    """The preset a spec is (compared by value), if any."""
    return next((name for name, preset in PRESETS.items() if preset.to_dict() == spec.to_dict()), None)
