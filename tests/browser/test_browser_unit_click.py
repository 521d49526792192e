"""Harley's click: a click on a unit of a live feature map, in Chromium, opens that unit in the
server-side inspector (and the view marks it)."""

from __future__ import annotations

import pytest

from lenet_viz.model_store import bundled_models
from tests.browser.support import SEVEN, browser_page, draw, open_page, screenshot, streamlit_server, wait_idle  # noqa: F401

pytestmark = pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet")


@pytest.mark.browser
def test_clicking_a_map_unit_inspects_that_unit(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(60_000)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    page.get_by_test_id("stMetricValue").wait_for()
    for layer, (map_, row, col) in (("conv1", (3, 10, 12)), ("pool2", (9, 2, 4))):
        canvas = page.locator(f"canvas.nv-map-canvas[data-layer={layer}][data-map='{map_}']")
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        height, width = canvas.evaluate("c => [c.height, c.width]")
        page.mouse.click(box["x"] + (col + 0.5) * box["width"] / width, box["y"] + (row + 0.5) * box["height"] / height)
        wait_idle(page)
        page.get_by_text(f"for {layer}[{map_}, {row}, {col}]").wait_for()  # the inspector's caption names the unit
    screenshot(page, "unit-click", full=True)
    assert page.get_by_test_id("stException").count() == 0
