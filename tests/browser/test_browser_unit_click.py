"""Harley's click: a click on a cell of a feature map, in Chromium, opens that unit in the inspector."""

from __future__ import annotations

import pytest

from lenet_viz import feature_figures as ff
from tests.browser.support import SEVEN, browser_page, draw, open_page, screenshot, streamlit_server, wait_idle  # noqa: F401

# page coordinates of tiled cell (y, x) in the plotly chart whose title contains `title`
CELL_TO_PIXELS = """([title, y, x]) => {
    const gd = [...document.querySelectorAll('.js-plotly-plot')].find(el => el.textContent.includes(title));
    const box = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


@pytest.mark.browser
def test_clicking_a_map_cell_inspects_that_unit(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(60_000)
    open_page(page, streamlit_server, "Feature maps")
    draw(page, SEVEN)
    page.get_by_test_id("stMetricValue").wait_for()

    for layer, shape, unit in (("conv1 (C1)", (6, 28, 28), (3, 10, 12)), ("pool2 (S4)", (16, 5, 5), (9, 2, 4))):
        grid, _ = ff.layer_grid_shape(*shape)
        top, left = grid.origin(unit[0])
        cell = page.locator(".js-plotly-plot", has_text=layer).first
        cell.scroll_into_view_if_needed()
        x, y = page.evaluate(CELL_TO_PIXELS, [layer, top + unit[1], left + unit[2]])
        page.mouse.click(x, y)
        wait_idle(page)
        expected = f"{layer.split()[0]}[{unit[0]}, {unit[1]}, {unit[2]}]"
        page.get_by_text(f"for {expected}").wait_for()  # the inspector's caption names the clicked unit
    screenshot(page, "unit-click", full=True)
    assert page.get_by_test_id("stException").count() == 0
