"""Lessons in headless Chromium, in English and Chinese: type into the number boxes and press Check, pick
a kernel and press Check; the verdict, the right answer and its explanation appear; a phone-sized
screen shows the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lenet_viz import lessons
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.i18n import t
from lenet_viz.model_store import bundled_models, load_samples
from tests.browser.support import (  # noqa: F401 (fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    screenshot,
    skip_without_browser,
    streamlit_server,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LANGS = {"en-US": "en", "zh-CN": "zh"}


@pytest.fixture(scope="module")
def browser() -> Iterator:
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser, locale: str, viewport=(1400, 1000)):
    context = browser.new_context(locale=locale, viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def open_question(page, server: str, lang: str, query: str) -> None:
    page.goto(f"{server}/lessons?{query}")  # the browser's language picks the app's (no lang= in the link)
    page.get_by_role("button", name=t("lesson.check", lang)).wait_for(timeout=90_000)
    wait_idle(page)


def type_answers(page, question: lessons.Question, values: dict, lang: str) -> None:
    for field in question.fields:
        box = page.get_by_role("spinbutton", name=field.label.text(lang), exact=True)
        box.fill(str(values[field.key]))
        box.press("Enter")
        page.wait_for_timeout(300)
    wait_idle(page)
    page.get_by_role("button", name=t("lesson.check", lang)).click()
    wait_idle(page)


@pytest.mark.parametrize("locale, viewport", [("en-US", (1400, 1000)), ("zh-CN", (390, 844))])
def test_number_boxes_then_check_reveal_the_answer_and_the_gap(browser, streamlit_server, locale, viewport):  # noqa: F811
    lang = LANGS[locale]
    question = lessons.generate("padding", "keep", 5)
    context, page, errors = new_page(browser, locale, viewport)
    try:
        open_question(page, streamlit_server, lang, "lesson=padding&q=keep&seed=5")
        assert page.get_by_text(t("lesson.answer", lang), exact=True).count() == 0  # nothing revealed yet
        wrong = question.answer["padding"] + 2
        type_answers(page, question, {"padding": wrong}, lang)
        page.get_by_text(t("lesson.wrong", lang), exact=True).wait_for(timeout=30_000)
        gap = lessons.check(question, {"padding": wrong}).gaps[0].text.text(lang)
        page.get_by_text(gap).wait_for()
        page.get_by_text(question.explanation[0].text(lang)).wait_for()  # how it is computed, with the numbers
        type_answers(page, question, question.answer, lang)
        page.get_by_text(t("lesson.right", lang), exact=True).wait_for(timeout=30_000)
        screenshot(page, f"lessons-number-{lang}-{viewport[0]}", full=True)
        assert page.get_by_test_id("stException").count() == 0 and not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_picking_a_kernel_then_check_reveals_which_made_the_map(browser, streamlit_server, locale):  # noqa: F811
    lang = LANGS[locale]
    model = next(m for m in bundled_models() if m.dataset == "mnist")
    question = lessons.generate("seeing", "kernel", 2, load_checkpoint(model.path), load_samples(model.dataset))
    context, page, errors = new_page(browser, locale)
    try:
        open_question(page, streamlit_server, lang, "lesson=seeing&q=kernel&seed=2")
        choices = page.get_by_role("radiogroup", name=question.fields[0].label.text(lang))
        choices.get_by_text(question.answer["kernel"], exact=True).click()
        wait_idle(page)
        page.get_by_role("button", name=t("lesson.check", lang)).click()
        page.get_by_text(t("lesson.right", lang), exact=True).wait_for(timeout=30_000)
        page.get_by_text(question.explanation[0].text(lang)).wait_for()
        screenshot(page, f"lessons-kernel-{lang}", full=True)
        assert page.get_by_test_id("stException").count() == 0 and not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_click_on_the_map_picks_the_unit_then_check_reveals_the_strongest(browser, streamlit_server, locale):  # noqa: F811
    lang = LANGS[locale]
    model = next(m for m in bundled_models() if m.dataset == "mnist")
    question = lessons.generate("seeing", "strongest", 2, load_checkpoint(model.path), load_samples(model.dataset))
    rows, cols = question.fields[0].shape
    row, col = question.answer["cell"]
    context, page, errors = new_page(browser, locale)
    try:
        open_question(page, streamlit_server, lang, "lesson=seeing&q=strongest&seed=2")
        title = t("lessons.pick_grid", lang, map=question.extras["channel"])
        chart = page.get_by_test_id("stPlotlyChart").filter(has_text=title)
        plot = chart.locator(".nsewdrag").first
        plot.wait_for()
        box = plot.bounding_box()
        plot.click(position={"x": (col + 0.5) * box["width"] / cols, "y": (row + 0.5) * box["height"] / rows})
        wait_idle(page)
        for label, value in (("lessons.pick_row", row), ("lessons.pick_col", col)):
            box_input = page.get_by_role("spinbutton", name=t(label, lang), exact=True)
            page.wait_for_function("([el, v]) => el.value === v", arg=[box_input.element_handle(), str(value)],
                                   timeout=30_000)  # the click filled the row and column boxes
        page.get_by_role("button", name=t("lesson.check", lang)).click()
        page.get_by_text(t("lesson.right", lang), exact=True).wait_for(timeout=30_000)
        page.get_by_text(question.explanation[0].text(lang)).wait_for()
        screenshot(page, f"lessons-pick-{lang}", full=True)
        assert page.get_by_test_id("stException").count() == 0 and not errors, errors
    finally:
        context.close()
