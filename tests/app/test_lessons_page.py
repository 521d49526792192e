"""The Lessons page in AppTest: every question type asks first, then Check reveals the right answer,
its explanation and the gap, in English and Chinese; bad answers and bad links get a clear message;
a teacher's link hides and locks controls; progress counts and resets."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import lessons, settings
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.i18n import t
from lenet_viz.lessons import training
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.netview_payload import Drawing
from lenet_viz.page_state import FeatureMapsState, LessonsState
from tests.app.test_language import english_alerts, english_on_page, rendered_texts
from tests.datasets import write_dataset
from tests.unit.test_i18n import ascii_colons

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "lessons.py")
SEED = 7
NUMERIC = [("shapes", "layer"), ("padding", "keep"), ("padding", "pooled"), ("padding", "stride")]
NETWORK = [("seeing", "kernel"), ("seeing", "strongest"), ("seeing", "say")]


def open_lesson(lang: str, **query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"lang": lang, **query})
    at.run()
    assert not at.exception
    return at


def question_of(lesson: str, kind: str) -> lessons.Question:
    context = ()
    if lesson == "seeing":
        model = next(m for m in bundled_models() if m.dataset == "mnist")
        context = (load_checkpoint(model.path), load_samples(model.dataset))
    return lessons.generate(lesson, kind, SEED, *context)


def answer(at: AppTest, question: lessons.Question, values: dict) -> AppTest:
    """Fill every box, then press Check."""
    for field in question.fields:
        key = box_key(question, field.key)
        if field.kind == "cell":  # what a click on the map fills in (the browser test clicks)
            at.number_input(key=box_key(question, field.key, "row")).set_value(values[field.key][0])
            at.number_input(key=box_key(question, field.key, "col")).set_value(values[field.key][1])
            continue
        widget = at.number_input(key=key) if field.kind == "number" else at.radio(key=key)
        widget.set_value(values[field.key])
    return check_button(at).click().run()


def box_key(question: lessons.Question, field: str, *more: str) -> str:
    """The key of one answer box of ``question`` (a cell's row and column: ``more`` "row", "col")."""
    return LessonsState.key("answers", LessonsState.answer_part(question.id, field, *more))


def state(at: AppTest) -> LessonsState:
    return at.session_state[LessonsState.state_key()]


def check_button(at: AppTest):
    return next(b for b in at.button if b.label in ("Check", "检查"))


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "success", "error", "caption") for e in at.get(kind)
                     if isinstance(e.value, str))


def wrong_values(question: lessons.Question) -> dict:
    values = {}
    for field in question.fields:
        right = question.answer[field.key]
        if field.kind == "cell":  # a corner at least two rows or columns away
            values[field.key] = (0, 0) if max(right) >= 2 else (field.shape[0] - 1, field.shape[1] - 1)
        else:
            values[field.key] = next(o for o in field.options if o != right) if field.kind == "choice" else right + 1
    return values


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lesson, kind", NUMERIC + NETWORK)
def test_every_question_asks_then_reveals_the_answer_explanation_and_gap(lesson, kind, lang):
    at = open_lesson(lang, lesson=lesson, q=kind, seed=str(SEED))
    question = question_of(lesson, kind)
    assert t(question.prompt.key, lang, **question.prompt.values) in texts(at)
    assert not at.success and t("lesson.answer", lang) not in [h.value for h in at.subheader]  # asks first

    answer(at, question, wrong_values(question))
    assert not at.exception
    assert [e.value for e in at.error] == [t("lesson.wrong", lang)]
    shown = texts(at)
    assert question.explanation[0].text(lang) in shown  # the explanation with the question's numbers
    for gap in lessons.check(question, wrong_values(question)).gaps:
        assert gap.text.text(lang) in shown  # the gap to the learner's answer
    if question.latex:
        assert [x.value.strip("$\n") for x in at.latex] == list(question.latex)
    if question.extras.get("geometry") is not None:
        assert at.get("plotly_chart")  # the Output size view of that layer

    answer(at, question, question.answer)
    assert [s.value for s in at.success] == [t("lesson.right", lang)]
    progress = state(at).progress
    assert progress.records[question.id].checks == 2 and not progress.records[question.id].first_right


@pytest.fixture
def tiny_lesson_data(tmp_path, monkeypatch):
    """The Training lesson on a tiny synthetic MNIST, one short epoch per run."""
    monkeypatch.setenv(settings.DATA_ENV, str(write_dataset(tmp_path, (("train", 256, 0), ("t10k", 64, 1)))))
    monkeypatch.setattr(training, "TRAIN_IMAGES", 128)
    monkeypatch.setattr(training, "TEST_IMAGES", 32)
    monkeypatch.setattr(training, "LESSON_EPOCHS", 1)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_training_question_runs_both_and_overlays_the_curves(tiny_lesson_data, lang):
    at = open_lesson(lang, lesson="training", q="faster", seed="3")
    question = lessons.generate("training", "faster", 3)
    check_button(at).click().run()
    assert [e.value for e in at.error] == [t("lesson.error.no_choice", lang, label=question.fields[0].label)]
    assert not at.get("plotly_chart")  # nothing ran, nothing revealed

    picked = question.fields[0].options[0]
    answer(at, question, {"faster": picked})
    assert not at.exception
    answered, _verdict, records = state(at).revealed[question.id]
    right = answered.answer["faster"] == picked
    assert [m.value for m in (at.success if right else at.error)] == [t("lesson.right" if right else "lesson.wrong",
                                                                        lang)]
    assert answered.explanation[0].text(lang) in texts(at)
    assert len(records) == len(question.fields[0].options)
    assert at.get("plotly_chart") and at.session_state["compared_runs"] == records  # Train's Compare runs has them


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("raw, key", [(None, "lesson.error.empty"), (-3, "lesson.error.too_small"),
                                      (10**11, "lesson.error.huge")])
def test_an_empty_negative_or_huge_answer_gets_a_message_and_reveals_nothing(raw, key, lang):
    at = open_lesson(lang, lesson="padding", q="keep", seed="5")
    question = lessons.generate("padding", "keep", 5)
    if raw is not None:
        at.number_input(key=box_key(question, "padding")).set_value(raw)
    check_button(at).click().run()
    assert not at.exception
    label = question.fields[0].label.text(lang)
    assert len(at.error) == 1 and at.error[0].value.startswith(label)
    assert at.error[0].value == t(key, lang, label=question.fields[0].label, low="0", raw=f"{raw:g}" if raw else "",
                                  most=f"{lessons.core.ANSWER_MAX:,}")
    assert question.id not in state(at).revealed and not state(at).progress.records


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_answer_after_a_right_one_clears_the_old_reveal(lang):
    at = open_lesson(lang, lesson="padding", q="keep", seed="5")
    question = lessons.generate("padding", "keep", 5)
    answer(at, question, question.answer)
    assert [s.value for s in at.success] == [t("lesson.right", lang)]
    answer(at, question, {"padding": -3})  # then a bad answer: its message alone, no stale "Right!"
    assert not at.exception
    assert [e.value for e in at.error] == [t("lesson.error.too_small", lang, label=question.fields[0].label, low="0",
                                            raw="-3", most=f"{lessons.core.ANSWER_MAX:,}")]
    assert not at.success and t("lesson.answer", lang) not in [h.value for h in at.subheader]
    assert question.id not in state(at).revealed
    assert state(at).progress.records[question.id].checks == 1  # the bad answer is not counted as a try


def test_a_garbage_link_opens_the_first_lesson_with_notes():
    at = open_lesson("en", lesson="<img src=x>", q="../../etc", seed="banana", hide="everything")
    assert at.radio(key=LessonsState.key("lesson")).value == "shapes"
    notes = "\n".join(i.value for i in at.info)
    assert "`lesson=<img src=x>` is not one of" in notes and "`seed=banana` is not a whole number" in notes
    assert "is not a control" in notes
    assert check_button(at)  # a question is there to answer


def test_a_teachers_link_hides_and_locks_controls_and_keeps_them_in_the_url():
    at = open_lesson("zh", lesson="padding", q="pooled", seed="42", hide="new,progress,nav", lock="lesson,question")
    lesson, kind = at.radio(key=LessonsState.key("lesson")), at.radio(key=LessonsState.key("kind", "padding"))
    assert lesson.disabled and kind.disabled
    assert at.radio(key=LessonsState.key("lesson")).value == "padding"
    assert not [b for b in at.button if b.label == t("lesson.new", "zh")]
    assert not at.expander or all(t("lesson.progress_heading", "zh") != e.label for e in at.expander)
    assert at.query_params["seed"] == "42" and at.query_params["hide"] == "new,progress,nav"
    assert any("stSidebarNav" in str(h.proto) and "display:none" in str(h.proto) for h in at.get("html"))
    assert any(t("link.teacher_fixed", "zh") == c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_new_question_gives_another_seed_and_the_teacher_builds_a_link(lang):
    at = open_lesson(lang, lesson="shapes")
    first = state(at).seeds["shapes.layer"]
    next(b for b in at.button if b.label == t("lesson.new", lang)).click().run()
    assert state(at).seeds["shapes.layer"] != first or first == 0
    at.multiselect(key="link_hide_lessons").set_value(["nav", "new"]).run()  # the sidebar's link box
    at.multiselect(key="link_lock_lessons").set_value(["question"]).run()
    link = at.sidebar.code[0].value
    seed = state(at).seeds["shapes.layer"]
    assert link.endswith(f"/lessons?lesson=shapes&q=layer&seed={seed}&hide=new,nav&lock=question&lang={lang}"), link


def test_progress_counts_first_tries_and_resets():
    at = open_lesson("en", lesson="padding", q="stride", seed="9")
    question = lessons.generate("padding", "stride", 9)
    answer(at, question, question.answer)
    assert any("2 · Padding and pooling: 1 answered, 1 right on the first try" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Reset progress").click().run()
    assert any("2 · Padding and pooling: 0 answered, 0 right on the first try" in m.value for m in at.markdown)
    assert not at.success  # the reveal went with the progress


@pytest.mark.slow
def test_the_network_questions_use_the_drawing_from_feature_maps():
    drawing = [0] * (28 * 28)
    for row in range(4, 24):
        drawing[row * 28 + 14] = 255  # a vertical stroke: a 1
    at = AppTest.from_file(PAGE, default_timeout=60)
    image = np.asarray(drawing, np.uint8).reshape(28, 28)
    fm_state = FeatureMapsState(drawing=Drawing("d1", 28, image))  # as a click or Replay left it
    at.session_state[FeatureMapsState.state_key()] = fm_state
    at.query_params.update({"lang": "en", "lesson": "seeing", "q": "kernel", "seed": "4"})
    at.run()
    assert not at.exception
    assert "(your drawing on the Feature maps page)" in texts(at)
    at.radio(key=LessonsState.key("lesson")).set_value("seeing").run()
    at.radio(key=LessonsState.key("kind", "seeing")).set_value("say").run()
    assert "(your drawing on the Feature maps page)" in texts(at) and not at.exception


@pytest.mark.slow
@pytest.mark.parametrize("lesson, kind", NUMERIC + NETWORK)
def test_no_english_sentence_on_the_chinese_page_before_or_after_check(lesson, kind):
    at = open_lesson("zh", lesson=lesson, q=kind, seed=str(SEED))
    assert english_on_page(at) == []
    question = question_of(lesson, kind)
    answer(at, question, wrong_values(question))
    assert (english_on_page(at), english_alerts(at)) == ([], [])
    # "label：value" with Chinese punctuation: the answer lines, the explanations, the maps' captions
    # (in what the page shows: an HTML element's markup and style are not its text)
    shown = [re.sub(r"<style>.*?</style>|<[^>]*>", " ", text, flags=re.S) for text in rendered_texts(at)]
    assert [colon for text in shown for colon in ascii_colons(text)] == []


@pytest.mark.slow
def test_no_english_sentence_after_the_training_runs_in_chinese(tiny_lesson_data):
    at = open_lesson("zh", lesson="training", q="faster", seed="2")
    question = lessons.generate("training", "faster", 2)
    answer(at, question, {"faster": question.fields[0].options[-1]})
    assert not at.exception
    assert (english_on_page(at), english_alerts(at)) == ([], [])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_pick_on_the_map_must_be_made_and_its_reveal_marks_both_units(lang):
    at = open_lesson(lang, lesson="seeing", q="strongest", seed=str(SEED))
    question = question_of("seeing", "strongest")
    assert len(at.get("plotly_chart")) == 2  # the kernels and the map to click on; not the network's map
    check_button(at).click().run()
    assert [e.value for e in at.error] == [t("lessons.pick_none", lang, label=question.fields[0].label)]
    assert question.id not in state(at).revealed
    row, col = question.answer["cell"]
    at.number_input(key=box_key(question, "cell", "row")).set_value(row)
    at.number_input(key=box_key(question, "cell", "col")).set_value(min(col + 1, 27))  # one column off: still strongest
    check_button(at).click().run()
    assert [s.value for s in at.success] == [t("lesson.right", lang)]
    assert len(at.get("plotly_chart")) == 3  # now the network's map too, with both units marked
    assert t("lessons.pick_legend", lang) in [c.value for c in at.caption]
