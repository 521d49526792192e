"""Harley's click: a click on a unit of a live feature map, in Chromium, opens that unit in the
server-side inspector (and the view marks it); the inspector is a fragment, so the click reruns it
alone, and while it is open it follows the drawing."""

from __future__ import annotations

import pytest

from lenet_viz.model_store import bundled_models
from tests.browser.support import (  # noqa: F401
    SEVEN,
    browser_page,
    chromium,
    click_unit,
    draw,
    open_page,
    screenshot,
    streamlit_server,
    wait_idle,
)

pytestmark = pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet")


@pytest.mark.browser
def test_clicking_a_map_unit_inspects_that_unit(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(60_000)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    page.get_by_text("Click a unit in a map above").wait_for()  # closed: nothing computed yet
    assert page.locator(".katex").count() == 0 and page.get_by_text("The network computed").count() == 0
    title = page.get_by_role("heading", name="Feature maps").element_handle()
    for layer, (map_, row, col) in (("conv1", (3, 10, 12)), ("pool2", (9, 2, 4))):
        click_unit(page, layer, map_, row, col)
        wait_idle(page)
        page.get_by_text(f"for {layer}[{map_}, {row}, {col}]").wait_for()  # the inspector's caption names the unit
    assert title.evaluate("h => h.isConnected")  # the page around the fragment was not redrawn
    value = page.get_by_text("The network computed").inner_text()
    draw(page, [[(60, 200), (220, 200)]])  # a bar under the 7: the open inspector follows the drawing
    page.get_by_text("The network computed").filter(has_not_text=value).wait_for()
    screenshot(page, "unit-click", full=True)
    page.get_by_role("button", name="Close the inspector").click()
    page.get_by_text("Click a unit in a map above").wait_for()
    assert page.get_by_test_id("stException").count() == 0
