"""What every lesson question is made of: the answer boxes, the right answer, the check and the gap.

A question is generated from a seed (:class:`random.Random`), so a link can bring back the same one;
its right answer is computed by the library (the output-size arithmetic, the network, a real run)
when the question is made, never typed in. :func:`check` reads what the learner gave, refuses what
is not an answer (:class:`AnswerError`: empty, text, negative, huge) and returns a :class:`Verdict`
with the gap. No Streamlit, no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import Msg

ANSWER_MAX = 10**9  # larger typed numbers are refused: no question here has an answer this big
SEED_MAX = 10**6  # seeds in links run 0..SEED_MAX


class AnswerError(LenetVizError, ValueError):
    """An answer box holds something that is not an answer (empty, text, negative, too large)."""


class LessonUnavailable(LenetVizError):
    """What a lesson needs (a dataset, the bundled model) is not on this machine."""


@dataclass(frozen=True)
class Field:
    """One answer box: a number (``integer``: whole numbers only), a choice among ``options``, or a
    cell picked on a map of ``shape`` (rows, columns), given as ``(row, column)``.

    ``options`` are the values a choice returns; ``option_labels`` say them to the learner."""

    key: str
    label: Msg
    kind: Literal["number", "choice", "cell"] = "number"
    integer: bool = True
    low: float = 0
    options: tuple[str, ...] = ()
    option_labels: tuple[Msg, ...] = ()
    tolerance: float = 0.0  # a number this close to the right one counts as right (averages: 0.01; cells: rows
    # and columns away)
    shape: tuple[int, int] = (0, 0)  # a cell's map: rows, columns

    def label_of(self, option: str) -> Msg | str:
        """How an option reads (its value when it has no label)."""
        if option in self.options and self.option_labels:
            return self.option_labels[self.options.index(option)]
        return option


@dataclass(frozen=True)
class Question:
    """One generated question: the prompt, the answer boxes, the right answers (by box key), an
    explanation in the learner's numbers (messages, and LaTeX lines), and what its figures need."""

    lesson: str
    kind: str
    seed: int
    prompt: Msg
    fields: tuple[Field, ...]
    answer: dict[str, Any]
    explanation: tuple[Msg, ...] = ()
    latex: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``lesson.kind#seed``: one question, the same every time."""
        return f"{self.lesson}.{self.kind}#{self.seed}"

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class Gap:
    """How far one box is from its right answer."""

    key: str
    given: Any
    right: Any
    correct: bool
    text: Msg


@dataclass(frozen=True)
class Verdict:
    """The check of all boxes: right only when every box is."""

    gaps: tuple[Gap, ...]

    @property
    def right(self) -> bool:
        return all(g.correct for g in self.gaps)


def read_number(raw: Any, integer: bool = True, low: float = 0, label: str = "") -> int | float:
    """A typed answer as a number, or :class:`AnswerError` saying what is wrong with it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise AnswerError.keyed("lesson.error.empty", label=label)
    if isinstance(raw, bool):
        raise AnswerError.keyed("lesson.error.not_number", label=label, raw=raw)
    try:
        value = float(str(raw).strip().replace(",", "")) if isinstance(raw, str) else float(raw)
    except ValueError:
        raise AnswerError.keyed("lesson.error.not_number", label=label, raw=str(raw)[:40]) from None
    if not math.isfinite(value) or abs(value) > ANSWER_MAX:
        raise AnswerError.keyed("lesson.error.huge", label=label, most=f"{ANSWER_MAX:,}")
    if value < low:
        raise AnswerError.keyed("lesson.error.too_small", label=label, low=f"{low:g}", raw=f"{value:g}")
    if integer:
        if value != int(value):
            raise AnswerError.keyed("lesson.error.not_whole", label=label, raw=f"{value:g}")
        return int(value)
    return value


def _number_gap(key: str, given: float, right: float, tolerance: float) -> Gap:
    diff = given - right
    correct = abs(diff) <= tolerance
    if correct:
        text = Msg("lesson.gap.right", right=format_number(right))
    else:
        text = Msg("lesson.gap.high" if diff > 0 else "lesson.gap.low", given=format_number(given),
                   right=format_number(right), gap=format_number(abs(diff)))
    return Gap(key, given, right, correct, text)


def format_number(value: float) -> str:
    """A whole number with thousands separators, else up to four significant digits (2.25, 0.3333)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def cell_name(row: int, col: int) -> Msg:
    """How a picked cell reads: row and column."""
    return Msg("lessons.pick_cell", row=row, col=col)


def read_cell(raw: Any, box: Field) -> tuple[int, int]:
    """A picked cell as ``(row, column)`` inside the box's map, or :class:`AnswerError`."""
    if raw is None or not isinstance(raw, (tuple, list)) or len(raw) != 2 or any(v is None for v in raw):
        raise AnswerError.keyed("lessons.pick_none", label=box.label)
    row, col = (read_number(v, True, 0, box.label) for v in raw)
    rows, cols = box.shape
    if row >= rows or col >= cols:
        raise AnswerError.keyed("lessons.pick_outside", label=box.label, rows=rows - 1, cols=cols - 1)
    return row, col


def read_answers(question: Question, given: dict[str, Any]) -> dict[str, Any]:
    """Every box's answer as a value (a number, one of the box's options, a cell); :class:`AnswerError`
    for the first box that holds no answer. Needs no right answer (a run may not have made it yet)."""
    answers: dict[str, Any] = {}
    for box in question.fields:
        raw = given.get(box.key)
        if box.kind == "choice":
            if raw is None or str(raw) not in box.options:
                raise AnswerError.keyed("lesson.error.no_choice", label=box.label)
            answers[box.key] = str(raw)
        elif box.kind == "cell":
            answers[box.key] = read_cell(raw, box)
        else:
            answers[box.key] = read_number(raw, box.integer, box.low, box.label)
    return answers


def _cell_gap(key: str, given: tuple[int, int], right: tuple[int, int], tolerance: float) -> Gap:
    away = max(abs(given[0] - right[0]), abs(given[1] - right[1]))  # rows or columns, whichever is more
    correct = away <= tolerance
    text = Msg("lessons.pick_gap_right", right=cell_name(*right), given=cell_name(*given)) if correct else Msg(
        "lessons.pick_gap_off", given=cell_name(*given), right=cell_name(*right), away=away)
    return Gap(key, given, right, correct, text)


def check(question: Question, given: dict[str, Any]) -> Verdict:
    """Check every box of ``question`` against its right answer (:func:`read_answers` first). A number
    within its box's ``tolerance`` counts as right."""
    answers, gaps = read_answers(question, given), []
    for box in question.fields:
        right, value = question.answer[box.key], answers[box.key]
        if box.kind == "choice":
            correct = value == str(right)
            text = Msg("lesson.gap.right_choice", right=box.label_of(str(right))) if correct else Msg(
                "lesson.gap.wrong_choice", given=box.label_of(value), right=box.label_of(str(right)))
            gaps.append(Gap(box.key, value, right, correct, text))
        elif box.kind == "cell":
            gaps.append(_cell_gap(box.key, value, tuple(right), box.tolerance))
        else:
            gaps.append(_number_gap(box.key, value, right, box.tolerance))
    return Verdict(tuple(gaps))
