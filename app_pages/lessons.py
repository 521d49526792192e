"""Lessons (练习): every question asks first, then reveals the right answer, how it is computed and the gap.

Thin: the questions, answers and checks are :mod:`lenet_viz.lessons`; this page draws the answer
boxes, the Check button and the reveal, keeps this session's progress, and reads and writes the
link (``/lessons?lesson=…&q=…&seed=…&hide=…&lock=…&lang=…``, see the README; the sidebar's link box
builds a teacher's link, as on every page).
"""

from functools import partial

import numpy as np
import streamlit as st

from lenet_viz import compare_section, lessons, links, preprocess, ui
from lenet_viz import netview_component as nv
from lenet_viz.data import DATASETS
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import localize, t
from lenet_viz.lessons.core import cell_name, format_number
from lenet_viz.page_state import LessonsState
from lenet_viz.ui import tr

PLOT = {"displayModeBar": False}


def apply_link(state: LessonsState) -> links.Controls:
    """Before the widgets: set lesson, question and seed from a new link; the controls it hides or locks."""
    view = ui.link_from_url("lessons")
    if isinstance(view, links.LessonsView):
        kind = view.question or lessons.LESSONS[view.lesson][0]
        ui.update_page(state, lesson=view.lesson, kind={view.lesson: kind})
        if view.seed is not None:
            state.seeds[state.seed_part(view.lesson, kind)] = view.seed
    ui.show_link_notes("lessons")
    return ui.teacher_controls("lessons")


def picker(control: str, label: str, options, state: LessonsState, name: str, *entry: str, fixed: links.Controls,
           **kwargs) -> str:
    """A lesson or question picker (``state.<name>``, its ``entry`` for a dict field), unless a teacher's
    link hides it (its value stays) or locks it."""
    key = ui.bind(state, name, *entry, default=options[0], options=options)
    value = getattr(state, name)[entry[0]] if entry else getattr(state, name)
    if fixed.hidden(control):
        return value
    return st.radio(label, options, key=key, disabled=fixed.locked(control), horizontal=True, **kwargs)


def network_inputs():
    """The bundled digits model, its samples and the learner's drawing, for the network's questions."""
    from lenet_viz.model_store import bundled_models, load_samples

    model = next((m for m in bundled_models() if m.dataset == "mnist"), None)
    samples = load_samples(model.dataset) if model else None
    if model is None or samples is None:
        return None
    nv.drawing_source(LessonsState.key("drawing"), 28, preprocess.MNIST_FILL)  # the drawing: in the browser until asked
    return ui.load_bundled(str(model.path)), samples, nv.drawn_input(28)


def gray(values: np.ndarray) -> np.ndarray:
    """A map scaled to 0…255 and enlarged, for st.image."""
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return preprocess.enlarge((scaled * 255).astype(np.uint8), 140)


def grid_table(grid: np.ndarray) -> str:
    """A small map as a Markdown table."""
    head = "| " + " | ".join(" " for _ in range(grid.shape[1])) + " |\n|" + "---|" * grid.shape[1] + "\n"
    return head + "\n".join("| " + " | ".join(f"{v:g}" for v in row) + " |" for row in grid)


def show_question(question: lessons.Question, lang: str) -> None:
    """The prompt, and what the learner needs to see to answer (nothing that gives the answer away)."""
    st.markdown(localize(question.prompt, lang))
    extras = question.extras
    if question.kind == "layer":
        from lenet_viz.models import describe

        st.caption(tr("lesson.network", network=describe(extras["spec"], lang), size=extras["spec"].input_size))
    elif question.kind == "pooled":
        st.markdown(f"**{tr('lesson.grid')}**\n\n" + grid_table(extras["grid"]))
    elif question.kind == "kernel":
        from lenet_viz.figures.feature_maps import kernel_grid

        left, right = st.columns(2)
        left.image(preprocess.enlarge(extras["image"], 140), caption=tr("lesson.input"), width=140)
        right.image(gray(extras["map"]), caption=tr("lesson.map"), width=140)
        st.plotly_chart(kernel_grid("conv1", extras["kernels"], lang=lang), config=PLOT,
                        key=LessonsState.key("kernels"))
    elif question.kind == "strongest":
        from lenet_viz.figures.feature_maps import kernel_grid

        st.plotly_chart(kernel_grid("conv1", extras["kernels"], lang=lang), config=PLOT,
                        key=LessonsState.key("kernels"))
    elif question.kind == "say":
        left, right = st.columns(2)
        left.image(preprocess.enlarge(extras["image"], 140), caption=tr("lesson.input"), width=140)
        right.image(preprocess.enlarge(extras["edited"], 140), caption=tr("lesson.edited"), width=140)
    elif question.kind == "faster":
        from lenet_viz.lessons import training

        st.caption(tr("lesson.training_data", count=f"{training.TRAIN_IMAGES:,}",
                      dataset=DATASETS.get(training.lesson_dataset(), {}).get("torchvision", "–"),
                      epochs=training.LESSON_EPOCHS))


def picked_on_map(state: LessonsState, chart_key: str, part: str) -> None:
    """A click on a pick map (its ``on_select``): the clicked unit goes into the row and column boxes."""
    points = st.session_state[chart_key].selection.points
    unit = next((p for p in points if p.get("curve_number", 0) == 0), None)
    if unit is not None:
        ui.update_page(state, answers={f"{part}.row": int(unit["y"]), f"{part}.col": int(unit["x"])})


def pick_on_map(state: LessonsState, question: lessons.Question, field: lessons.Field, lang: str) -> tuple:
    """A cell answer: the map to click on (the input pixel at each unit's window centre) and, for the
    keyboard, row and column boxes that a click fills; the pick as (row, column)."""
    from lenet_viz.figures.feature_maps import pick_map

    part = state.answer_part(question.id, field.key)
    row_key, col_key = ui.bind(state, "answers", f"{part}.row"), ui.bind(state, "answers", f"{part}.col")
    chart_key = state.key("pick", part)
    picked = (state.answers.get(f"{part}.row"), state.answers.get(f"{part}.col"))
    shown = picked if None not in picked else None
    title = tr("lessons.pick_grid", map=question.extras["channel"])
    st.plotly_chart(pick_map(question.extras["backdrop"], title, shown, lang=lang), config=PLOT, key=chart_key,
                    on_select=partial(picked_on_map, state, chart_key, part), selection_mode="points",
                    width="content")
    rows, cols = field.shape
    left, right, _ = st.columns([1, 1, 2])
    row = left.number_input(tr("lessons.pick_row"), 0, rows - 1, value=None, step=1, key=row_key)
    col = right.number_input(tr("lessons.pick_col"), 0, cols - 1, value=None, step=1, key=col_key)
    if None not in (row, col):
        st.caption(localize(cell_name(int(row), int(col)), lang))
    return row, col


def answer_boxes(state: LessonsState, question: lessons.Question, lang: str) -> dict:
    """One box per field (empty until the learner fills it); their values by field key."""
    given = {}
    columns = st.columns(2)  # two boxes a row: the 2×2 pooled output reads as a 2×2 grid
    for index, field in enumerate(question.fields):
        key = ui.bind(state, "answers", state.answer_part(question.id, field.key))
        label = localize(field.label, lang)
        if field.kind == "cell":
            given[field.key] = pick_on_map(state, question, field, lang)
        elif field.kind == "number":
            where = columns[index % len(columns)]
            step = 1 if field.integer else 0.25
            given[field.key] = where.number_input(label, value=None, step=step, format=None if field.integer else "%g",
                                                  key=key)
        else:
            given[field.key] = st.radio(label, field.options, index=None, horizontal=True, key=key,
                                        format_func=lambda o, f=field: str(localize(f.label_of(o), lang)))
    return given


def run_training(question: lessons.Question):
    """Run the question's variants on the lesson's small subset; the answered question and the run records."""
    from lenet_viz.lessons import training

    data = training.lesson_data()
    with st.spinner(tr("lesson.running")):
        return training.run_variants(question, data)


def on_check(state: LessonsState, question: lessons.Question, given: dict, lang: str) -> None:
    """Check: read the answers (a clear message for a box that holds none), run what must run, reveal."""
    try:
        lessons.read_answers(question, given)
        records = []
        if question.kind == "faster":
            question, records = run_training(question)
        verdict = lessons.check(question, given)
    except LenetVizError as exc:
        state.revealed.pop(question.id, None)  # the message replaces an earlier reveal: it no longer matches the boxes
        st.error(exc.text(lang), icon=":material/error:")
        return
    state.progress.add(question, verdict)
    compare_section.add_runs(records)
    state.revealed[question.id] = (question, verdict, records)


def reveal(question: lessons.Question, verdict: lessons.Verdict, records: list, lang: str) -> None:
    """The verdict, the right answer, how it is computed (with the learner's numbers) and the gaps."""
    (st.success if verdict.right else st.error)(tr("lesson.right" if verdict.right else "lesson.wrong"))
    st.subheader(tr("lesson.answer"))
    for gap in verdict.gaps:
        field = question.field(gap.key)
        right = (localize(field.label_of(str(gap.right)), lang) if field.kind == "choice"
                 else localize(cell_name(*gap.right), lang) if field.kind == "cell" else format_number(gap.right))
        st.markdown(tr("lesson.answer_line", label=field.label, right=right, gap=gap.text))
    st.subheader(tr("lesson.how"))
    for line in question.explanation:
        st.markdown(localize(line, lang))
    for latex in question.latex:
        st.latex(latex)
    extras = question.extras
    if extras.get("geometry") is not None:
        from lenet_viz.figures.output_size import window_picture

        side = extras["input_side"]
        st.caption(tr("lesson.figure"))
        ui.window_picture(window_picture(extras["geometry"], side, side, 0, lang),
                          LessonsState.key("window", question.id))
    if question.kind == "kernel":
        from lenet_viz.lessons.seeing import kernel_differences

        st.caption(tr("lesson.candidate_maps"))
        st.image([gray(m) for m in extras["candidate_maps"]], width=90,
                 caption=[localize(line, lang) for line in kernel_differences(extras["differences"])])
    if question.kind == "strongest":
        from lenet_viz.figures.feature_maps import pick_map

        gap = verdict.gaps[0]
        st.plotly_chart(pick_map(extras["map"], tr("lessons.pick_map", map=extras["channel"]), gap.given, gap.right,
                                 lang), config=PLOT, key=LessonsState.key("map", question.id), width="content")
        st.caption(tr("lessons.pick_legend"))
    if question.kind == "say":
        st.dataframe({c: [f"{p:.1%}"] for c, p in zip(extras["classes"], extras["after"], strict=True)},
                     hide_index=True)
    if records:
        from lenet_viz.figures.train import compare_curves

        st.caption(tr("lesson.curves"))
        st.plotly_chart(compare_curves(records, lang), width="stretch", key=LessonsState.key("curves", question.id))


def progress_section(state: LessonsState, fixed: links.Controls) -> None:
    """What this session has done per lesson, and Reset (not when a teacher's link locks progress)."""
    if fixed.hidden("progress"):
        return
    with st.expander(tr("lesson.progress_heading"), icon=":material/checklist:"):
        for lesson in lessons.LESSONS:
            done, first = state.progress.summary(lesson)
            st.markdown("- " + tr("lesson.progress", lesson=tr(f"lesson.name.{lesson}"), done=done, first=first))
        if st.button(tr("lesson.reset"), icon=":material/restart_alt:", key=state.key("reset"),
                     disabled=fixed.locked("progress")):
            state.progress.reset()
            state.revealed.clear()
            st.rerun()


def main() -> None:
    lang = ui.lang()
    st.title(tr("lesson.title"))
    st.caption(tr("lesson.intro"))
    state = ui.page_state(LessonsState)
    fixed = apply_link(state)
    lesson = picker("lesson", tr("lesson.pick_lesson"), tuple(lessons.LESSONS), state, "lesson", fixed=fixed,
                    format_func=lambda name: t(f"lesson.name.{name}", lang))  # bound: also called outside this run
    kinds = lessons.LESSONS[lesson]
    kind = picker("question", tr("lesson.pick_kind"), kinds, state, "kind", lesson, fixed=fixed,
                  format_func=lambda name: t(f"lesson.kind.{name}", lang))
    seed = state.seeds.setdefault(state.seed_part(lesson, kind), lessons.new_seed())
    ui.share_view("lessons", links.LessonsView(lesson, kind, seed))

    context = {}
    if kind in lessons.NEEDS_NETWORK:
        context = dict(zip(("ckpt", "samples", "drawing"), network_inputs() or (), strict=False))
        if not context:
            st.warning(tr("lesson.no_model"))
            return
    question = lessons.generate(lesson, kind, seed, **context)
    head, new = st.columns([3, 1], vertical_alignment="center")
    head.caption(tr("lesson.question_id", id=question.id))
    if not fixed.hidden("new") and new.button(tr("lesson.new"), icon=":material/casino:",
                                              disabled=fixed.locked("new"), key=state.key("new")):
        state.seeds[state.seed_part(lesson, kind)] = lessons.new_seed()
        st.rerun()
    with st.container(border=True):
        show_question(question, lang)
        given = answer_boxes(state, question, lang)
        if st.button(tr("lesson.check"), type="primary", icon=":material/check:", key=state.key("check", question.id)):
            on_check(state, question, given, lang)
    if revealed := state.revealed.get(question.id):
        reveal(*revealed, lang)
    progress_section(state, fixed)


main()
