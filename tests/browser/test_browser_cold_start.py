"""Fresh servers, pages switched at once: no exception on any page.

Issue 16: a quick switch made Streamlit start a new run while the old one was still importing pandas
for a table, and plotly read the half-imported module (``AttributeError: partially initialized module
'pandas'``; before the fix this test saw it in 2 of 5 cold starts). Each cold start waits a different
time after Output size first shows, so the switches land at different points of the imports.
"""

from __future__ import annotations

import pytest

from tests.browser.support import (
    free_port,
    launch_chromium,
    new_context,
    screenshot,
    skip_without_browser,
    start_server,
    stop_server,
    wait_idle,
)

PAUSES_MS = (0, 400, 150)  # one cold start each: how long after Output size shows the visitor switches
SWITCHES = ("Feature maps", "Output size", "Train", "Output size")


@pytest.mark.slow
def test_switching_pages_at_once_on_fresh_servers_shows_no_exception():
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for pause in PAUSES_MS:
                server = start_server(free_port())
                port = server.args[server.args.index("--server.port") + 1]
                page = new_context(browser, locale="en-US").new_page()  # it waits for English words
                try:
                    page.goto(f"http://127.0.0.1:{port}/output_size")
                    page.get_by_text("How big is the map").wait_for(timeout=90_000)
                    page.wait_for_timeout(pause)
                    for link in SWITCHES:
                        page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
                        page.wait_for_timeout(200)
                    page.get_by_text("How big is the map").wait_for(timeout=90_000)
                    wait_idle(page)
                    page.wait_for_timeout(1000)  # a rerun still finishing would show its exception by now
                    exceptions = page.get_by_test_id("stException")
                    exceptions.or_(page.get_by_test_id("stPlotlyChart")).first.wait_for(timeout=30_000)
                    shown = [exceptions.nth(i).inner_text()[:300] for i in range(exceptions.count())]
                    drawn = page.get_by_test_id("stPlotlyChart").count()  # the sliding window
                    if shown or drawn != 1:
                        screenshot(page, f"cold-start-{pause}ms-failed", full=True)
                    assert not shown, f"switching {pause} ms after Output size showed: {shown}"
                    assert drawn == 1, f"switching {pause} ms after Output size: {drawn} sliding-window pictures"
                finally:
                    page.context.close()
                    stop_server(server)
        finally:
            browser.close()
