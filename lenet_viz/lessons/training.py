"""Lesson 4, training: predict which of two or three runs learns faster, then run them.

The variants are the exercises of d2l's LeNet chapter (ReLU instead of sigmoid, max instead of
average pooling, other learning rates). The right answer is not known until the runs are done:
:func:`run_variants` trains each variant on the same small subset with the same seed (real runs of
:func:`lenet_viz.training.train`, inside a server run slot) and the run with the lowest training
loss at the end is the one that learned fastest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from lenet_viz.data import DataNotFound, locate
from lenet_viz.history import Progress
from lenet_viz.i18n import Msg, Msgs
from lenet_viz.lessons.core import Field, LessonUnavailable, Question
from lenet_viz.models import PRESETS, LeNetSpec, build_model
from lenet_viz.run_compare import RunRecord, describe_run
from lenet_viz.run_data import RunData, load_run_data
from lenet_viz.run_slots import SLOTS, RunSlots
from lenet_viz.threads import app_training_threads, thread_limit
from lenet_viz.training import TrainConfig, train

COMPARISONS = ("activation", "pooling", "lr")
LESSON_EPOCHS, LESSON_BATCH = 2, 32
TRAIN_IMAGES, TEST_IMAGES = 2000, 200  # the lesson's subset: a few seconds per run on a CPU


def lesson_dataset() -> str | None:
    """MNIST if it is on this machine, else Fashion-MNIST, else None."""
    for dataset in ("mnist", "fashion-mnist"):
        try:
            locate(dataset)
        except DataNotFound:
            continue
        return dataset
    return None


def lesson_data() -> RunData:
    """The lesson's small subset (:data:`TRAIN_IMAGES` random training images, the first
    :data:`TEST_IMAGES` test images); :class:`LessonUnavailable` when neither dataset is here."""
    dataset = lesson_dataset()
    if dataset is None:
        raise LessonUnavailable.keyed("lesson.no_data")
    data = load_run_data(dataset, None, TRAIN_IMAGES)
    return RunData(data.dataset, data.classes, data.train, (data.test[0][:TEST_IMAGES], data.test[1][:TEST_IMAGES]))


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: its name (an option of the question), network and learning rate."""

    name: str
    spec: LeNetSpec
    lr: float


def variants(comparison: str) -> tuple[Variant, ...]:
    """The runs a comparison trains: only the thing compared differs."""
    classic, modern = PRESETS["classic"], PRESETS["modern"]
    if comparison == "activation":
        return tuple(Variant(a, replace(classic, activation=a), 0.1) for a in ("sigmoid", "relu"))
    if comparison == "pooling":
        return tuple(Variant(p, replace(modern, conv=tuple(replace(b, pool=p) for b in modern.conv)), 0.1)
                     for p in ("avg", "max"))
    return tuple(Variant(f"{lr:g}", modern, lr) for lr in (0.9, 0.1, 0.01))


def faster_question(seed: int, comparison: str | None = None) -> Question:
    """Which run learns faster? ``answer`` stays empty until :func:`run_variants` has run them."""
    comparison = comparison or random.Random(seed).choice(COMPARISONS)
    options = tuple(v.name for v in variants(comparison))
    field = Field("faster", Msg("lesson.training.faster"), "choice", options=options,
                  option_labels=tuple(option_label(comparison, o) for o in options))
    return Question("training", "faster", seed, Msg(f"lesson.training.prompt_{comparison}",
                                                    epochs=LESSON_EPOCHS, batch=LESSON_BATCH),
                    (field,), {}, extras={"comparison": comparison})


def option_label(comparison: str, name: str) -> Msg:
    """How a run reads among the choices: "relu activation", "max pooling" (最大池化), "learning rate 0.1"."""
    return Msg(f"lesson.training.option_{comparison}", name=Msg(f"pool.{name}") if comparison == "pooling" else name)


def run_variants(question: Question, data: RunData, slots: RunSlots = SLOTS,
                 config: TrainConfig | None = None) -> tuple[Question, list[RunRecord]]:
    """Train every variant of the question on ``data`` (one after the other, in one server run slot)
    and return the question with its answer and explanation, and a record of each run.

    Raises :class:`lenet_viz.run_slots.RunRefused` when the server has no free slot."""
    base = config or TrainConfig(epochs=LESSON_EPOCHS, batch_size=LESSON_BATCH, report_every_s=0.0,
                                 device="cpu")
    base = replace(base, seed=question.seed)
    runs: list[tuple[Variant, tuple[Progress, ...]]] = []
    slots.acquire()
    try:
        with thread_limit(app_training_threads()):
            for variant in variants(question.extras["comparison"]):
                config = replace(base, lr=variant.lr)
                result = train(build_model(variant.spec), data.train, data.test, config)
                runs.append((variant, tuple(result.history)))
    finally:
        slots.release()
    losses = {v.name: final_loss(history) for v, history in runs}
    winner = min(losses, key=losses.get)
    box = question.fields[0]
    summary = Msgs(Msg("lesson.training.loss_of", run=box.label_of(name), loss=f"{loss:.3f}")
                   for name, loss in losses.items())
    explanation = (Msg("lesson.training.explain", winner=box.label_of(winner), losses=summary,
                       steps=runs[0][1][-1].step if runs[0][1] else 0, images=len(data.train[0])),
                   Msg(f"lesson.training.why_{question.extras['comparison']}"))
    records = [RunRecord(describe_run(v.spec, replace(base, lr=v.lr), data.dataset, len(data.train[0])), history)
               for v, history in runs]
    answered = replace(question, answer={"faster": winner}, explanation=explanation,
                       extras={**question.extras, "losses": losses})
    return answered, records


def final_loss(history: tuple[Progress, ...]) -> float:
    """The training loss a run ended with (infinite when it never reported or blew up)."""
    loss = history[-1].train_loss if history else float("inf")
    return loss if loss == loss else float("inf")
