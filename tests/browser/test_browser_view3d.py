"""The 3D view (lenet_viz/netview/view3d.js) in headless Chromium, whose software WebGL (SwiftShader)
draws it: it follows the pen with no server traffic, a drag turns it, hovering a unit shows its value,
a click selects the unit for the inspector, a phone's finger taps a unit, the control is "3D" in
Chinese too, it works in Training replay, and without WebGL the control says so and the 2D view stays.

Screenshots go to test-output/screenshots (or ``$LENET_VIZ_SHOTS``).
"""

from __future__ import annotations

import re

import pytest

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.model_store import bundled_models
from tests.browser.support import (  # noqa: F401
    COUNT_SENT_FRAMES,
    PAD,
    SEVEN,
    browser_page,
    chromium,
    new_context,
    open_page,
    screenshot,
    sent_frames,
    streamlit_server,
    stroke,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet"),
]
TIMEOUT = 60_000
CANVAS = "canvas.v3d-canvas"
# what a browser without WebGL answers: no context
NO_WEBGL = """const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  return /webgl/i.test(kind) ? null : getContext.call(this, kind, ...rest); };"""
VALUE_LINE = re.compile(r"^(\w+)\[(\d+)(?:, (\d+), (\d+))?\] = -?\d+\.\d+", re.MULTILINE)


def open_3d(page) -> None:
    """Press the 3D control and wait for the view's first picture."""
    button = page.get_by_role("button", name="3D", exact=True)
    button.click()
    page.locator(CANVAS).wait_for()
    page.wait_for_function("() => (globalThis.__view3d?.draws.length ?? 0) > 0 && globalThis.__view3d.locate")
    assert button.get_attribute("aria-pressed") == "true"


def picture(page) -> bytes:
    """The 3D canvas as it is on screen (WebGL keeps no buffer to read back: a screenshot does)."""
    return page.locator(CANVAS).screenshot()


def on_screen(page, layer: str, map_: int, row: int = 0, col: int = 0) -> dict:
    """Where the 3D view shows a unit, in page pixels (the canvas scrolled into view first)."""
    page.locator(CANVAS).scroll_into_view_if_needed()
    page.wait_for_timeout(100)
    point = page.evaluate("([layer, unit]) => globalThis.__view3d.locate(layer, unit)",
                          [layer, {"map": map_, "row": row, "col": col}])
    assert point, f"{layer}[{map_}, {row}, {col}] is not on screen"
    return point


@pytest.fixture
def page(browser_page, streamlit_server):  # noqa: F811 (fixtures imported above)
    browser_page.set_default_timeout(TIMEOUT)
    open_page(browser_page, streamlit_server, "Feature maps")
    browser_page.locator(PAD).wait_for()
    wait_idle(browser_page)
    return browser_page


def test_the_3d_view_follows_the_pen_with_no_server_traffic(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(COUNT_SENT_FRAMES)
    page.goto(streamlit_server + "/feature_maps")
    page.locator(PAD).wait_for()
    wait_idle(page)
    open_3d(page)
    page.get_by_text("conv1 (C1)").first.wait_for()  # the sheets are labelled with names and shapes
    assert page.get_by_text("6×28×28").count() >= 2 and page.get_by_text("16×5×5").count() >= 1
    page.wait_for_timeout(300)
    before, frames, updates = picture(page), sent_frames(page), page.evaluate("globalThis.__view3d.updates")
    stroke(page, [(40, 140), (240, 140), (240, 60)], lift=False)  # a bar across the 7 on show
    page.wait_for_timeout(300)
    assert sent_frames(page) == frames  # the whole stroke: nothing sent to the server
    assert page.evaluate("globalThis.__view3d.updates") > updates + 5  # recoloured as the pen moved
    assert picture(page) != before
    screenshot(page, "view3d_mid_stroke")
    page.mouse.up()


def test_a_drag_turns_the_view_and_reset_brings_it_back(page):
    open_3d(page)
    page.locator(CANVAS).scroll_into_view_if_needed()
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] - 4)  # off the canvas: no tooltip in the pictures
    page.wait_for_timeout(200)
    start = picture(page)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.8)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=12)
    page.mouse.up()
    page.mouse.move(box["x"] + 5, box["y"] - 4)
    page.wait_for_timeout(300)
    turned = picture(page)
    assert turned != start
    screenshot(page, "view3d_turned")
    page.get_by_role("button", name="Reset view").click()
    page.wait_for_timeout(300)
    assert picture(page) != turned


def test_hover_shows_a_units_value_and_a_click_inspects_it(page):
    from playwright.sync_api import expect

    open_3d(page)
    point = on_screen(page, "conv2", 3, 4, 5)
    page.mouse.move(point["x"], point["y"])
    tip = page.locator(".v3d-tip")
    tip.wait_for()
    text = tip.inner_text()
    head = VALUE_LINE.search(text)
    assert head and head.group(0).startswith("conv2[3, 4, 5] = "), text
    assert "reads 150 units of pool1 (5×5 window)" in text and "click to inspect it below" in text
    screenshot(page, "view3d_hover")
    page.mouse.click(point["x"], point["y"])
    wait_idle(page)
    page.get_by_text(re.compile(r"conv2\[3, 4, 5\]")).last.wait_for()  # the inspector's caption below
    assert page.get_by_role("button", name="3D", exact=True).get_attribute("aria-pressed") == "true"
    # a fully connected unit: its value and the strongest of the units it reads
    point = on_screen(page, "fc3", 7)
    page.mouse.move(point["x"], point["y"])
    expect(tip).to_have_text(re.compile(r"^fc3\[7\] = -?\d+\.\d+"))  # the tooltip is in the component's shadow root
    layer_off = page.get_by_role("checkbox", name="Show pool2")
    layer_off.uncheck()  # per-layer show/hide
    assert not layer_off.is_checked()


def test_without_webgl_the_control_says_so_and_the_2d_view_stays(browser_page, streamlit_server):  # noqa: F811
    context = new_context(browser_page.context.browser, locale="en-US")
    context.add_init_script(NO_WEBGL)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(streamlit_server + "/feature_maps")
        page.locator(PAD).wait_for()
        wait_idle(page)
        button = page.get_by_role("button", name="3D", exact=True)
        button.click()
        page.get_by_text("3D needs WebGL, which this browser does not offer").wait_for()
        assert button.get_attribute("aria-pressed") == "false" and page.locator(CANVAS).count() == 0
        assert page.locator("canvas.nv-map-canvas").count() > 20  # the 2D maps are still there
    finally:
        context.close()


def test_the_control_is_3d_in_chinese_and_a_finger_taps_a_unit_on_a_phone(browser_page, streamlit_server):  # noqa: F811
    phone = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
    context = new_context(browser_page.context.browser, locale="zh-CN", **phone)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(streamlit_server + "/feature_maps")
        page.locator("canvas.nv-pad-canvas").wait_for()
        wait_idle(page)
        open_3d(page)
        page.get_by_role("button", name="重置视角").wait_for()
        point = on_screen(page, "conv1", 0, 2, 2)  # the top left map: in front of the camera
        cdp = context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        tip = page.locator(".v3d-tip")
        tip.wait_for()
        page.wait_for_timeout(300)  # the tooltip outlasts the touch
        assert tip.is_visible() and tip.inner_text().startswith("conv1[0, 2, 2] = ")
        assert "点击" in tip.inner_text()  # the tooltip's words in Chinese
        screenshot(page, "view3d_phone_zh")
    finally:
        context.close()


def test_the_same_view_in_training_replay_follows_the_chosen_snapshot(browser_page, streamlit_server):  # noqa: F811
    digits = next((m for m in bundled_models() if m.dataset == "mnist"), None)
    if digits is None or not load_checkpoint(digits.path).snapshots:
        pytest.skip("the bundled digit model has no snapshots to replay")
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(COUNT_SENT_FRAMES)
    page.goto(streamlit_server + "/replay")
    page.locator("input.rp-slider").wait_for()
    wait_idle(page)
    open_3d(page)
    page.locator(CANVAS).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    last, frames, updates = picture(page), sent_frames(page), page.evaluate("globalThis.__view3d.updates")
    page.locator("input.rp-slider").fill("0")  # the first snapshot: a barely trained network
    page.wait_for_function(f"() => globalThis.__view3d.updates > {updates}")
    page.wait_for_timeout(300)
    assert picture(page) != last and sent_frames(page) == frames  # scrubbing stays in the page
    point = on_screen(page, "fc3", 7)
    page.mouse.move(point["x"], point["y"])
    tip = page.locator(".v3d-tip")
    tip.wait_for()
    assert tip.inner_text().startswith("fc3[7] = ") and "click to inspect" not in tip.inner_text()  # no inspector
    screenshot(page, "view3d_replay")
