"""Lessons that ask before they show: the learner commits an answer, then sees the right one, how it
is computed and the gap (predict-then-see, Kim, Reinecke & Hullman, CHI 2017).

Four lessons along the seed (d2l's LeNet chapter), each a few kinds of question:

- ``shapes``: a layer's output size and parameter count in a generated network;
- ``padding``: the padding that keeps the size, pooled values of a small map, what stride 2 does;
- ``seeing``: which conv1 kernel made a map, where a map is strongest (a pick on the map), what the
  network says about an edited input;
- ``training``: which run learns faster (then both run, curves overlaid).

Questions come from seeds (:func:`generate`); :class:`LessonProgress` counts what a browser
session has done. The question modules import torch only where they need the network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from lenet_viz.lessons.core import (
    SEED_MAX,
    AnswerError,
    Field,
    Gap,
    Question,
    Verdict,
    check,
    read_answers,
    read_number,
)

__all__ = ["LESSONS", "AnswerError", "Field", "Gap", "LessonProgress", "Question", "Verdict", "check",
           "generate", "new_seed", "read_answers", "read_number"]

LESSONS: dict[str, tuple[str, ...]] = {
    "shapes": ("layer",),
    "padding": ("keep", "pooled", "stride"),
    "seeing": ("kernel", "strongest", "say"),
    "training": ("faster",),
}
NEEDS_NETWORK = ("kernel", "strongest", "say")  # kinds whose questions need the bundled digits model and its samples


def new_seed(rng: random.Random | None = None) -> int:
    """A fresh seed for a new question."""
    return (rng or random.SystemRandom()).randrange(SEED_MAX + 1)


def generate(lesson: str, kind: str, seed: int, ckpt=None, samples=None, drawing=None) -> Question:
    """The question ``kind`` of ``lesson`` for ``seed``; ``ckpt``, ``samples`` and ``drawing`` are for
    the network's questions (:data:`NEEDS_NETWORK`). A kind the lesson lacks is a ``KeyError``."""
    if kind not in LESSONS.get(lesson, ()):
        raise KeyError(f"no question {kind!r} in lesson {lesson!r}")
    if lesson in ("shapes", "padding"):
        from lenet_viz.lessons import shapes

        return {"layer": shapes.layer_question, "keep": shapes.keep_size_question,
                "pooled": shapes.pooled_question, "stride": shapes.stride_question}[kind](seed)
    if lesson == "seeing":
        from lenet_viz.lessons import seeing

        maker = {"kernel": seeing.kernel_question, "strongest": seeing.strongest_question,
                 "say": seeing.say_question}[kind]
        return maker(seed, ckpt, samples, drawing)
    from lenet_viz.lessons import training

    return training.faster_question(seed)


@dataclass
class Record:
    """One question's history in this session: how many checks, and whether the first was right."""

    checks: int = 0
    first_right: bool = False
    solved: bool = False


@dataclass
class LessonProgress:
    """What a browser session has done, per question id (``lesson.kind#seed``); no accounts."""

    records: dict[str, Record] = field(default_factory=dict)

    def add(self, question: Question, verdict: Verdict) -> Record:
        """Count a check of ``question``."""
        record = self.records.setdefault(question.id, Record())
        if record.checks == 0:
            record.first_right = verdict.right
        record.checks += 1
        record.solved = record.solved or verdict.right
        return record

    def summary(self, lesson: str) -> tuple[int, int]:
        """(questions answered, right on the first try) in one lesson."""
        mine = [r for qid, r in self.records.items() if qid.startswith(f"{lesson}.")]
        return len(mine), sum(r.first_right for r in mine)

    def reset(self) -> None:
        self.records.clear()
