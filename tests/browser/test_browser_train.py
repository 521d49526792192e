"""Training in headless Chromium: start a short run, watch the curves grow, stop, save, use the model."""

from __future__ import annotations

import pytest

from tests.browser.support import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    new_context,
    screenshot,
    streamlit_server,
    wait_idle,
)
from tests.datasets import DEBIAN_FASHION, requires

# points drawn in the live curves (the page's first chart; results add more charts below it)
POINTS = "() => (document.querySelector('.js-plotly-plot')?.data || [])" \
         ".reduce((n, trace) => n + (trace.x ? trace.x.length : 0), 0)"


@pytest.mark.browser
@pytest.mark.slow
@requires(DEBIAN_FASHION, "Fashion-MNIST, the Train page's default dataset (apt-get install dataset-fashion-mnist)")
def test_train_watch_stop_save(browser_page, streamlit_server):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(streamlit_server)
    page.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()
    page.get_by_role("heading", name="Train LeNet").wait_for(timeout=60_000)
    expect(page.get_by_role("checkbox", name="Quick run on a subset of the training images")).to_be_checked()  # default
    images = page.get_by_role("spinbutton", name="Training images")
    images.fill("3000")
    images.press("Enter")
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("20")
    epochs.press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Start").click()

    page.wait_for_function(f"({POINTS})() >= 2", timeout=60_000)
    first = page.evaluate(POINTS)
    page.wait_for_function(f"({POINTS})() > {first}", timeout=30_000)  # the chart grows while we watch
    screenshot(page, "train-running", full=True)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped by request").wait_for(timeout=30_000)
    stopped_at = page.evaluate(POINTS)
    page.wait_for_timeout(1500)
    assert page.evaluate(POINTS) == stopped_at  # nothing more arrives after Stop

    page.get_by_role("button", name="Save").wait_for(timeout=60_000)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("the Feature maps and Training replay pages list it").wait_for(timeout=30_000)
    screenshot(page, "train-stopped-saved", full=True)
    assert page.get_by_test_id("stException").count() == 0

    page.get_by_test_id("stSidebarNav").get_by_text("Feature maps", exact=True).click()
    page.get_by_text("Prediction").first.wait_for(timeout=60_000)
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first.click()  # the sidebar has the language one
    assert page.get_by_role("option", name="modern").count() >= 1  # the saved model (the default network) is offered
    page.keyboard.press("Escape")
    assert not errors, errors


@pytest.mark.browser
@pytest.mark.slow
@requires(DEBIAN_FASHION, "Fashion-MNIST, the Train page's default dataset (apt-get install dataset-fashion-mnist)")
def test_replay_this_run_in_chinese_opens_that_run(browser_page, streamlit_server):  # noqa: F811
    """训练 → a short run → 回放这次训练: Training replay shows that run (it showed the bundled model, issue 21)."""
    context = new_context(browser_page.context.browser, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(streamlit_server + "/train?lang=zh")
        page.get_by_role("heading", name="训练 LeNet").wait_for(timeout=60_000)
        images = page.get_by_role("spinbutton", name="训练图片数")
        images.fill("1000")
        images.press("Enter")
        epochs = page.get_by_role("spinbutton", name="迭代周期数")
        epochs.fill("1")
        epochs.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="开始").click()
        replay = page.get_by_role("button", name="回放这次训练")
        replay.wait_for(timeout=120_000)
        replay.click()
        page.get_by_role("heading", name="训练回放").wait_for(timeout=60_000)
        picker = page.get_by_role("combobox", name="模型")
        picker.wait_for(timeout=60_000)
        wait_idle(page)
        screenshot(page, "zh-train-replay-this-run", full=True)
        assert picker.input_value().startswith("已保存："), picker.input_value()  # this run, not the bundled model
        assert page.get_by_test_id("stException").count() == 0
        assert not errors, errors
    finally:
        context.close()
