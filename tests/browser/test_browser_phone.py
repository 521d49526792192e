"""The app on a 390×844 phone (two device pixels per CSS pixel, touch), in English and in Chinese:
Training replay, Feature maps and Output size fit the screen's width (anything wider scrolls inside
its own box), Output size's window figure keeps its axis numbers off the other grid and its legend
right under its grids (on a desktop too), and a file that is no checkpoint is refused with a message
on the page, not in a tooltip; after a training run, its curves' legend is clear of Plotly's toolbar
and its summary wraps.
Screenshots go to test-output/screenshots (or ``$LENET_VIZ_SHOTS``).
"""

from __future__ import annotations

import pytest

from lenet_viz.i18n import t
from lenet_viz.model_store import bundled_models
from tests.browser.support import (  # noqa: F401 (fixtures)
    LIVE_PREDICTION,
    chromium,
    new_context,
    screenshot,
    streamlit_server,
    wait_idle,
)
from tests.datasets import DEBIAN_FASHION, requires

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet"),
]
TIMEOUT = 60_000
PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
LANG = {"en-US": "en", "zh-CN": "zh"}

# What sticks out to the right of the screen in the page's main column (the component's shadow root
# included), unless a box of its own, itself on screen, clips it (a formula or a table that scrolls
# sideways). KaTeX's MathML copy is for screen readers, clipped to nothing.
WIDER_THAN_SCREEN = """() => {
  const limit = innerWidth + 1;
  const block = document.querySelector('[data-testid="stMainBlockContainer"]');
  const up = (e) => e.parentElement || e.parentNode?.host || null;
  const clipped = (e) => {
    for (let a = up(e); a && a !== block; a = up(a)) {
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= limit) return true;
    }
    return false;
  };
  const found = [];
  const walk = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) walk(e.shadowRoot);
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height || r.right <= limit || e.closest('.katex-mathml')) continue;
      if (!block.contains(e.getRootNode().host ?? e) || clipped(e)) continue;
      const name = String(e.className?.baseVal ?? e.className).split(' ')[0];
      found.push(`${e.tagName.toLowerCase()}.${name} right=${Math.round(r.right)}`);
    }
  };
  walk(document);
  return {found: found.slice(0, 12), count: found.length,
          page: Math.max(document.documentElement.scrollWidth, block.parentElement.scrollWidth)};
}"""

# Pairs of texts in a Plotly figure that overlap: tick numbers, axis titles and legend entries with
# each other, and any axis's words over another subplot's plot area.
PLOTLY_CLASHES = """(root) => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const hit = (a, b) => a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5;
  const texts = [...root.querySelectorAll(
      '.xaxislayer-above text, .yaxislayer-above text, .infolayer text[class*="title"], g.legend text')]
    .filter((e) => e.textContent.trim() && e.getBoundingClientRect().width > 0)
    .map((e) => ({name: e.textContent.trim(), ...box(e),
                  owner: e.closest('g.subplot')?.getAttribute('class').split(' ')[1] ?? ''}));
  const areas = [...root.querySelectorAll('g.draglayer > g')]
    .map((g) => ({name: g.getAttribute('class'), ...box(g.querySelector('rect.nsewdrag'))}));
  const clashes = [];
  texts.forEach((a, i) => {
    for (const b of texts.slice(i + 1)) if (hit(a, b)) clashes.push(`"${a.name}" × "${b.name}"`);
    for (const area of areas) {
      if (a.owner && a.owner !== area.name && hit(a, area)) clashes.push(`"${a.name}" (${a.owner}) over ${area.name}`);
    }
  });
  return {clashes, texts: texts.length, areas: areas.length};
}"""


# The bottom of a window figure's grids: its subplots' plot areas, each shrunk to its grid's square cells.
GRIDS_BOTTOM = """(root) => Math.max(...[...root.querySelectorAll('g.draglayer > g rect.nsewdrag')]
  .map((area) => area.getBoundingClientRect().bottom))"""
LEGEND_GAP = 48  # px from the grids down to their legend: a margin and a line's spacing, no empty band


def legend_gap(page, figure, lang: str) -> float:
    """Pixels from the bottom of the window figure's grids down to the legend's "input cell" entry."""
    entry = page.get_by_text(t("cell.input", lang), exact=True).first
    entry.wait_for()
    return entry.bounding_box()["y"] - figure.evaluate(GRIDS_BOTTOM)


def phone_page(browser, locale: str):
    """A new visitor on a phone, reading the app in ``locale``."""
    context = new_context(browser, locale=locale, **PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return context, page


def to_the_bottom(page) -> None:
    """Scroll Streamlit's main column to its end (what is lower down is laid out, its images drawn)."""
    page.evaluate("() => { const main = document.querySelector('[data-testid=\"stMain\"]');"
                  " main.scrollTop = main.scrollHeight; }")
    page.wait_for_timeout(500)


def assert_fits(page, what: str) -> None:
    wide = page.evaluate(WIDER_THAN_SCREEN)
    assert wide["count"] == 0, f"{what}: wider than the 390 px screen: {wide['found']}"
    assert wide["page"] <= 390, f"{what}: the page scrolls sideways ({wide['page']} px)"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_pages_fit_a_phone(chromium, streamlit_server, locale):  # noqa: F811
    context, page = phone_page(chromium, locale)
    lang = LANG[locale]
    try:
        page.goto(streamlit_server + "/replay")
        page.wait_for_function("() => Number(globalThis.__replay?.paints) > 0")
        wait_idle(page)
        page.locator(".rp-prediction-text").scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the charts draw at their box's width
        screenshot(page, f"phone_replay_prediction_{lang}")
        to_the_bottom(page)
        assert_fits(page, "Training replay")
        screenshot(page, f"phone_replay_{lang}", full=True)

        page.goto(streamlit_server + "/feature_maps")
        page.locator(LIVE_PREDICTION).wait_for()
        wait_idle(page)
        page.locator("summary", has_text=t("learn.title", lang)).click()  # Learn from this: its figures too
        page.wait_for_timeout(500)
        to_the_bottom(page)
        assert_fits(page, "Feature maps")
        screenshot(page, f"phone_feature_maps_{lang}", full=True)

        page.goto(streamlit_server + "/output_size")
        page.locator(".js-plotly-plot").first.wait_for()
        wait_idle(page)
        to_the_bottom(page)
        assert_fits(page, "Output size")
        screenshot(page, f"phone_output_size_{lang}", full=True)
    finally:
        context.close()


@pytest.mark.parametrize("locale, link", [
    ("en-US", "/output_size"),
    ("zh-CN", "/output_size?kind=maxpool&k=2&s=2&p=0"),
    ("en-US", "/output_size?kind=convtranspose&size=8&k=3&s=2"),
])
def test_the_window_figure_keeps_its_labels_apart_on_a_phone(chromium, streamlit_server, locale, link):  # noqa: F811
    context, page = phone_page(chromium, locale)
    try:
        page.goto(streamlit_server + link)
        figure = page.locator(".js-plotly-plot").first
        figure.wait_for()
        wait_idle(page)
        figure.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        found = figure.evaluate(PLOTLY_CLASHES)
        assert found["areas"] == 2 and found["texts"] > 10, found  # both grids, their numbers and titles read
        assert found["clashes"] == [], found["clashes"]
        assert 0 < legend_gap(page, figure, LANG[locale]) < LEGEND_GAP
        screenshot(page, f"phone_window_figure_{LANG[locale]}_{link.count('&')}")

        page.set_viewport_size({"width": 1400, "height": 1000})  # the same page on a desktop's width
        page.wait_for_function("(f) => f._fullLayout?.width > 600", arg=figure.element_handle())
        wait_idle(page)
        assert 0 < legend_gap(page, figure, LANG[locale]) < LEGEND_GAP
        screenshot(page, f"wide_window_figure_{LANG[locale]}_{link.count('&')}")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_text_file_is_refused_as_a_checkpoint_in_words_on_the_page(chromium, streamlit_server, locale,  # noqa: F811
                                                                     tmp_path):
    context, page = phone_page(chromium, locale)
    lang = LANG[locale]
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a network\n")
    try:
        page.goto(streamlit_server + "/feature_maps")
        page.locator(LIVE_PREDICTION).wait_for()
        wait_idle(page)
        model = page.get_by_test_id("stSelectbox").filter(has_text=t("fm.model", lang)).inner_text()
        page.get_by_text(t("fm.upload_checkpoint", lang)).click()
        page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(notes))
        wait_idle(page)
        said = t("checkpoint.wrong_type", lang, name="notes.txt", suffixes=".pt / .pth").split("`")[0]
        error = page.get_by_test_id("stAlertContentError").filter(has_text=said)
        error.wait_for()
        assert error.is_visible()
        assert t("fm.checkpoint_error", lang, error="").strip() in error.inner_text()  # the model stays
        assert page.get_by_test_id("stSelectbox").filter(has_text=t("fm.model", lang)).inner_text() == model
        assert page.get_by_test_id("stException").count() == 0
        page.locator(LIVE_PREDICTION).wait_for()  # the view still reads with the model it had
        screenshot(page, f"phone_text_file_refused_{lang}")
    finally:
        context.close()


# Boxes that overlap in a Plotly figure: its toolbar (always shown on a touch screen) and its legend.
TOOLBAR_OVER_LEGEND = """(plot) => {
  const bar = plot.querySelector('.modebar')?.getBoundingClientRect();
  const legend = plot.querySelector('g.legend')?.getBoundingClientRect();
  if (!bar || !legend) return null;
  return bar.left < legend.right && legend.left < bar.right && bar.top < legend.bottom && legend.top < bar.bottom;
}"""


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@requires(DEBIAN_FASHION, "Fashion-MNIST, the Train page's default dataset (apt-get install dataset-fashion-mnist)")
def test_a_finished_run_reads_whole_on_a_phone(chromium, streamlit_server, locale):  # noqa: F811
    """After a run: the curves' legend clear of Plotly's toolbar, and the run's summary wrapped, not cut off."""
    lang = "zh" if locale.startswith("zh") else "en"
    context, page = phone_page(chromium, locale)
    try:
        page.goto(f"{streamlit_server}/train")
        images = page.get_by_role("spinbutton", name=t("train.subset", lang))
        images.fill("1024")
        images.press("Enter")
        epochs = page.get_by_role("spinbutton", name=t("train.epochs", lang))
        epochs.fill("1")
        epochs.press("Enter")
        wait_idle(page)
        page.get_by_role("button", name=t("train.start", lang), exact=True).click()
        page.get_by_text(t("training.finished_one", lang)).wait_for(timeout=120_000)
        wait_idle(page)
        curves = page.locator(".js-plotly-plot").first
        curves.scroll_into_view_if_needed()
        assert curves.evaluate(TOOLBAR_OVER_LEGEND) is False
        summary = page.get_by_test_id("stCode").first
        summary.scroll_into_view_if_needed()
        screenshot(page, f"phone-train-finished-{locale}")
        assert summary.evaluate("(box) => { const pre = box.querySelector('pre');"
                                " return pre.scrollWidth <= pre.clientWidth + 1; }")
    finally:
        context.close()
