"""The app in Chinese in headless Chromium: the browser's language picks it, the URL keeps it across
page switches, the figures' texts are Chinese characters (screenshots: characters, not boxes, with
Debian's fonts-noto-cjk), and switching back to English keeps what the user set."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from lenet_viz.i18n import t
from tests.app.test_language import english_fragments, english_labels
from tests.browser.support import (  # noqa: F401 (fixture)
    LIVE_PREDICTION,
    RECORD_DRAWN_TEXT,
    SEVEN,
    launch_chromium,
    new_context,
    prediction,
    screenshot,
    skip_without_browser,
    streamlit_server,
    stroke,
    wait_idle,
    words_on_page,
)
from tests.datasets import DEBIAN_FASHION, requires

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium for the module."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def chinese_page(browser) -> Iterator:
    """A fresh page (its own Streamlit session) whose browser language is Simplified Chinese."""
    context = new_context(browser, locale="zh-CN")
    context.add_init_script(RECORD_DRAWN_TEXT)
    try:
        yield context.new_page()
    finally:
        context.close()


def view_keys() -> set[str]:
    """The keys of the in-browser views' words, those sent and those their modules ask for: one shown
    as it is (``scale_layer``) means the view had no text for it."""
    from lenet_viz import netview_component, replay_component
    from tests.unit.test_i18n import NETVIEW, js_keys

    asked = set().union(*(js_keys(path.read_text(encoding="utf-8")) for path in NETVIEW.glob("*.js")))
    asked = {key for key in asked if "_" in key}  # scale_layer; a bare "max" or "conv" may be data
    return asked | set(netview_component.view_texts("en")) | set(replay_component.view_texts("en"))


def english_in(page) -> list[str]:
    """English catalogue sentences and one-word labels anywhere on the page: the figures' SVG texts, the
    in-browser views' words (in their shadow roots, their aria-labels, what their canvases draw), and
    the views' keys shown bare."""
    words = words_on_page(page)
    text = "\n".join(words)
    return sorted({f for f in english_fragments() if f in text} | set(words) & (english_labels() | view_keys()))


DRAWN_BY_A_VIEW = {"zh-feature-maps": "nv.undo", "zh-replay": "rp.axis_step"}


def go(page, link: str, marker: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    page.get_by_text(marker).first.wait_for(timeout=60_000)
    wait_idle(page)


@pytest.mark.browser
def test_chinese_from_the_browser_language_kept_across_pages(chinese_page, streamlit_server):  # noqa: F811
    page = chinese_page
    page.goto(streamlit_server + "/")
    page.get_by_text("卷积神经网络").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert re.search(r"[?&]lang=zh", page.url), page.url
    assert english_in(page) == []
    screenshot(page, "zh-home", full=True)

    go(page, "输出尺寸", "一层输出的特征图有多大")
    assert re.search(r"[?&]lang=zh", page.url), page.url  # the page switch kept the language
    page.locator(".os-legend li").first.wait_for(timeout=30_000)  # the window figure is drawn, its legend under it
    legend = page.locator(".os-legend li").all_text_contents()
    assert "窗口读取的格子" in legend, legend
    assert english_in(page) == []
    screenshot(page, "zh-output-size", full=True)
    page.get_by_role("tab", name="整个 LeNet").click()
    page.get_by_text("展平尺寸").first.wait_for()
    wait_idle(page)
    assert english_in(page) == []
    screenshot(page, "zh-output-size-lenet", full=True)

    for link, marker, name in (("训练", "迭代周期数", "zh-train"), ("特征图", "实时预测", "zh-feature-maps"),
                               ("训练回放", "这份快照的预测", "zh-replay")):
        go(page, link, marker)
        assert re.search(r"[?&]lang=zh", page.url), page.url
        page.wait_for_timeout(1500)  # the in-browser view draws
        assert english_in(page) == [], link
        if name in DRAWN_BY_A_VIEW:  # the check reads the views' own words: a button, a canvas's axis label
            assert t(DRAWN_BY_A_VIEW[name], "zh") in words_on_page(page), name
        screenshot(page, name, full=True)


@pytest.mark.browser
def test_switching_to_english_keeps_the_settings(chinese_page, streamlit_server):  # noqa: F811
    from playwright.sync_api import expect

    page = chinese_page
    page.goto(streamlit_server + "/output_size?lang=zh")
    page.get_by_text("一层输出的特征图有多大").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_test_id("stRadio").get_by_text("最大池化层").click()
    wait_idle(page)
    page.get_by_test_id("stRadio").get_by_text("平均池化层").click()  # an option no longer first
    expect(page.get_by_test_id("stRadio").get_by_role("radio", name="平均池化层")).to_be_checked()
    wait_idle(page)
    kernel = page.get_by_test_id("stSlider").filter(has_text="卷积核大小 F")
    for value in ("6", "7"):  # 5 → 7: with padding 2, 28×28 gives 26×26
        kernel.get_by_role("slider").press("ArrowRight")
        page.wait_for_function("v => [...document.querySelectorAll('[data-testid=stSliderThumbValue]')]"
                               ".some(t => t.closest('[data-testid=stSlider]').innerText.includes('卷积核大小') "
                               "&& t.innerText === v)", arg=value)
        wait_idle(page)
    page.get_by_text("26 × 26").wait_for(timeout=30_000)
    wait_idle(page)
    assert kernel.get_by_test_id("stSliderThumbValue").inner_text() == "7"

    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="English").click()
    page.get_by_text("How big is the map that comes out of a layer").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert re.search(r"[?&]lang=en", page.url), page.url
    kernel = page.get_by_test_id("stSlider").filter(has_text="Kernel size F")
    assert kernel.get_by_test_id("stSliderThumbValue").inner_text() == "7"
    average = page.get_by_test_id("stRadio").get_by_role("radio", name="Average pooling")
    assert average.is_checked()  # the choice shows under its English name
    before = page.get_by_test_id("stMetricValue").first.inner_text()
    kernel.get_by_role("slider").press("ArrowLeft")  # a rerun: every widget sends its value back
    wait_idle(page)
    assert average.is_checked()
    assert page.get_by_test_id("stMetricValue").first.inner_text() != before
    screenshot(page, "en-output-size-after-switch")


@pytest.mark.browser
@requires(DEBIAN_FASHION, "Fashion-MNIST")
def test_a_training_run_in_chinese(chinese_page, streamlit_server):  # noqa: F811
    page = chinese_page
    page.goto(streamlit_server + "/train?lang=zh")
    page.get_by_role("heading", name="训练 LeNet").wait_for(timeout=60_000)
    wait_idle(page)
    for name, value in (("训练图片数", "1000"), ("迭代周期数", "1")):
        box = page.get_by_role("spinbutton", name=name)
        box.fill(value)
        box.press("Enter")
        wait_idle(page)
    page.get_by_role("button", name="开始").click()
    page.get_by_text("混淆矩阵").wait_for(timeout=120_000)
    page.wait_for_function("() => [...document.querySelectorAll('svg text')].some(t => t.textContent === 'T恤')",
                           timeout=60_000)  # the confusion matrix is drawn
    wait_idle(page)
    ticks = page.locator("svg text").all_text_contents()
    assert "T恤" in ticks and "短靴" in ticks, ticks[:40]  # Fashion-MNIST's classes on the confusion matrix
    assert "训练损失" in page.locator(".legendtext").all_text_contents()
    screenshot(page, "zh-train-finished", full=True)


@pytest.mark.browser
def test_switching_language_keeps_the_drawing(browser, streamlit_server):  # noqa: F811
    context = new_context(browser, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(streamlit_server + "/feature_maps")
        stroke(page, SEVEN[0])
        wait_idle(page)
        page.wait_for_timeout(1500)
        drawn = prediction(page, "en")
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="中文").click()
        page.get_by_text("实时预测").first.wait_for()
        wait_idle(page)
        page.wait_for_timeout(1500)
        pad = page.locator("canvas[aria-label='画板']")
        ink = pad.evaluate("c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
                           ".filter((v, i) => i % 4 === 0 && v > 128).length")
        assert ink > 500  # the strokes are still on the pad
        assert prediction(page, "zh") == drawn  # the view's status, named 预测 now
        assert page.locator(LIVE_PREDICTION).count() == 1
        screenshot(page, "zh-feature-maps-drawn", full=True)
    finally:
        context.close()
