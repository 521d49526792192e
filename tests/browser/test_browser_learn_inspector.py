"""The unit inspector after "Learn from this" stepped the network in the browser, in headless Chromium:
a click on a unit inspects the network the view shows (its weights go with the click, and only then),
the inspector says after how many steps, follows Step and Reset weights while it is open, and after
Reset weights a click inspects the trained network again. The view's value for a unit is its
tooltip's (lenet.js); the inspector's is the server's (torch)."""

from __future__ import annotations

import re

import pytest

from lenet_viz.model_store import bundled_models
from tests.browser.support import (  # noqa: F401
    COUNT_SENT_BYTES,
    SEVEN,
    browser_page,
    chromium,
    click_unit,
    draw,
    open_page,
    screenshot,
    sent_bytes,
    streamlit_server,
    unit_point,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet"),
]
TIMEOUT = 60_000
UNIT = ("conv2", 3, 4, 4)  # a convolution unit: its value moves with its kernel and bias at every step
WEIGHTS_BYTES = 4 * 61_706  # the digits model's float32 weights, before base64
SAME = 2e-4  # both show 4 decimals; torch and lenet.js agree far closer than that
VALUE = re.compile(r"-?\d+\.\d{4}")


def view_value(page, unit: tuple[str, int, int, int] = UNIT) -> float:
    """A unit's value in the view: the first line of its tooltip (``conv2[3, 4, 4] = 1.2345``)."""
    page.mouse.move(*unit_point(page, *unit))
    head = page.locator(".nv-tip-head")
    head.wait_for()
    layer, map_, row, col = unit
    assert head.inner_text().startswith(f"{layer}[{map_}, {row}, {col}] = ")
    return float(head.inner_text().split("= ")[1])


def inspected(page) -> tuple[tuple[str, int, int, int], float]:
    """The unit the server's inspector shows and its value there (its caption ``The network computed
    1.2345 for conv2[3, 4, 4]; …``): a new input moves it to that input's strongest unit."""
    caption = page.get_by_text("The network computed").inner_text()
    layer, map_, row, col = re.search(r"for (\w+)\[(\d+), (\d+), (\d+)\]", caption).groups()
    return (layer, int(map_), int(row), int(col)), float(VALUE.search(caption).group())


def inspector_value(page) -> float:
    """The value the server's inspector shows for :data:`UNIT` (the unit clicked)."""
    unit, value = inspected(page)
    assert unit == UNIT
    return value


def agree(page) -> float:
    """The inspector's value for the unit it shows, checked against the view's for that unit."""
    unit, value = inspected(page)
    assert value == pytest.approx(view_value(page, unit), abs=SAME), unit
    return value


def settle(page) -> None:
    """Wait for the fragment rerun a click or a step started, and its answer."""
    page.wait_for_timeout(300)
    wait_idle(page)


def test_the_inspector_shows_the_network_the_view_shows_after_steps(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(COUNT_SENT_BYTES)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    page.locator("summary", has_text="Learn from this").click()
    page.get_by_label("True label").select_option(label="3")
    step = page.get_by_role("button", name="Step", exact=True)

    before = sent_bytes(page)
    click_unit(page, *UNIT)
    settle(page)
    plain_click = sent_bytes(page) - before
    trained = inspector_value(page)
    assert view_value(page) == pytest.approx(trained, abs=SAME)
    page.get_by_role("button", name="Close the inspector").click()  # closed: steps send nothing
    settle(page)

    for _ in range(3):
        step.click()
    page.get_by_text("3 steps taken").wait_for()
    stepped = view_value(page)
    assert abs(stepped - trained) > 20 * SAME, "the steps moved the unit in the view"
    before = sent_bytes(page)
    click_unit(page, *UNIT)
    page.get_by_text("the trained network after 3 steps of Learn from this").wait_for()
    settle(page)
    stepped_click = sent_bytes(page) - before
    assert inspector_value(page) == pytest.approx(stepped, abs=SAME)
    assert plain_click < 10_000 < WEIGHTS_BYTES < stepped_click, (plain_click, stepped_click)  # weights: when stepped
    screenshot(page, "learn_inspector_after_steps", full=True)

    before = sent_bytes(page)
    draw(page, [[(60, 200), (220, 200)]])  # the open inspector follows the drawing, still on the stepped network
    settle(page)
    assert sent_bytes(page) - before < 20_000, "the weights went once, with the click (a trigger, not state)"
    agree(page)  # on the new input's strongest unit
    page.get_by_role("button", name="Undo", exact=True).click()  # the pad's: back to the seven alone
    settle(page)
    agree(page)

    step.click()  # while the inspector is open, it follows the steps
    page.get_by_text("the trained network after 4 steps of Learn from this").wait_for()
    settle(page)
    agree(page)

    page.get_by_role("button", name="Reset weights").click()
    page.get_by_text("steps of Learn from this").wait_for(state="detached")
    settle(page)
    agree(page)
    assert view_value(page) == pytest.approx(trained, abs=SAME)
    before = sent_bytes(page)
    click_unit(page, *UNIT)  # a click after Reset weights: the trained network, and no weights sent
    settle(page)
    assert inspector_value(page) == pytest.approx(trained, abs=SAME)
    assert sent_bytes(page) - before < 10_000
    assert page.get_by_text("steps of Learn from this").count() == 0
    assert page.get_by_test_id("stException").count() == 0


def test_steps_survive_a_visit_to_another_page(browser_page, streamlit_server):  # noqa: F811
    """The decoded network stays in the page (index.js), stepped: back on Feature maps, the Learn panel
    still counts its steps and Reset weights still reaches the trained network."""
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    trained = view_value(page)
    page.locator("summary", has_text="Learn from this").click()
    page.get_by_label("True label").select_option(label="3")
    for _ in range(2):
        page.get_by_role("button", name="Step", exact=True).click()
    stepped = view_value(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Output size", exact=True).click()
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Feature maps", exact=True).click()
    wait_idle(page)
    assert view_value(page) == pytest.approx(stepped, abs=SAME)
    page.locator("summary", has_text="Learn from this").click()
    page.get_by_text("2 steps taken").wait_for()
    page.get_by_role("button", name="Reset weights").click()
    assert view_value(page) == pytest.approx(trained, abs=SAME)


def test_a_click_in_the_3d_view_sends_the_stepped_network_too(browser_page, streamlit_server):  # noqa: F811
    """The 3D view draws the stepped network (the same net as the 2D maps), and its click goes through
    the same hook: the inspector shows the value its tooltip shows."""
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    page.locator("summary", has_text="Learn from this").click()
    page.get_by_label("True label").select_option(label="3")
    for _ in range(2):
        page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_role("button", name="3D", exact=True).click()
    canvas = page.locator("canvas.v3d-canvas")
    canvas.wait_for()
    page.wait_for_function("() => (globalThis.__view3d?.draws.length ?? 0) > 0 && globalThis.__view3d.locate")
    canvas.scroll_into_view_if_needed()
    layer, map_, row, col = UNIT
    point = page.evaluate("([layer, unit]) => globalThis.__view3d.locate(layer, unit)",
                          [layer, {"map": map_, "row": row, "col": col}])
    page.mouse.move(point["x"], point["y"])
    tip = page.locator(".v3d-tip")
    tip.wait_for()
    assert tip.inner_text().startswith(f"{layer}[{map_}, {row}, {col}] = ")
    shown = float(VALUE.search(tip.inner_text()).group())
    page.mouse.click(point["x"], point["y"])
    page.get_by_text("the trained network after 2 steps of Learn from this").wait_for()
    settle(page)
    assert inspector_value(page) == pytest.approx(shown, abs=SAME)
    assert view_value(page) == pytest.approx(shown, abs=SAME)  # and the 2D view's
