"""The whole app in headless Chromium: every page through the sidebar, no exception, no console error,
nothing fetched from the internet."""

from __future__ import annotations

import pytest

from tests.browser.support import browser_page, chromium, screenshot, streamlit_server, wait_idle  # noqa: F401

PAGES = [  # sidebar link text, a text each page shows once rendered
    ("Feature maps", "Prediction"),
    ("Output size", "Output size"),
    ("Train", "Start"),
    ("Home", "lenet-viz"),
]


@pytest.mark.browser
def test_every_page_renders_without_errors(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []  # the app works offline: nothing may be fetched from another host
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:",
                                                                                 "blob:")) else None)
    page.goto(streamlit_server)
    page.get_by_role("heading", name="lenet-viz").wait_for(timeout=60_000)
    for link, marker in PAGES:
        page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
        page.get_by_text(marker).first.wait_for(timeout=60_000)
        wait_idle(page)
        assert page.get_by_test_id("stException").count() == 0, f"{link} shows an exception"
        screenshot(page, f"page-{link.lower().replace(' ', '-')}", full=True)
    assert not errors, errors
    assert not outside, outside
