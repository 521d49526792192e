"""Teach → Save network → Train → Continue in headless Chromium (English): a network taught in the page
goes on training on the Train page, on the server, on the drawings its Save kept with it."""

from __future__ import annotations

import re

import pytest

from tests.browser.support import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    screenshot,
    streamlit_server,
    wait_idle,
)
from tests.browser.teach_support import pad
from tests.browser.test_browser_teach import drawn_examples_zip

pytestmark = pytest.mark.slow


def pick(page, label: str, option: re.Pattern, tries: int = 5) -> None:
    """Choose ``option`` in the selectbox ``label``, opening it again if a rerun closed it first."""
    for _ in range(tries):
        page.get_by_test_id("stSelectbox").filter(has_text=label).click()
        choice = page.get_by_role("option", name=option)
        try:
            choice.wait_for(timeout=5_000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the list closed before it was seen
            page.keyboard.press("Escape")
            wait_idle(page)
            continue
        choice.click()
        return
    raise AssertionError(f"{label}: no option {option.pattern} after {tries} tries")


def test_a_network_taught_in_the_page_continues_on_the_train_page(browser_page, streamlit_server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{streamlit_server}/teach")
    wait_idle(page)
    pad(page).wait_for(timeout=60_000)
    (tmp_path / "mine.zip").write_bytes(drawn_examples_zip(6))  # 18 drawings: 3 held out (a quarter, rounded down)
    page.get_by_text("Restore examples from a zip", exact=True).click()
    page.locator("input[type=file]").set_input_files(tmp_path / "mine.zip")
    expect(page.get_by_text(re.compile("Restored 18 drawings in 3 classes"))).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("status", name="Training status")).to_contain_text("Trained", timeout=120_000)
    page.get_by_role("button", name="Save network").click()
    expect(page.get_by_text(re.compile("^Saved as .*with the drawings it learned from"))).to_be_visible(timeout=60_000)

    page.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()
    page.get_by_role("heading", name="Train LeNet").wait_for(timeout=60_000)
    wait_idle(page)  # a rerun while the picker is open would close it
    page.get_by_text("Continue training a saved network", exact=True).click()
    pick(page, "Saved in this session", re.compile("一 · ○ · ×"))
    wait_idle(page)  # the pick's rerun done: a click during it can be lost
    page.get_by_role("button", name="Load, then press Continue").click()
    expect(page.get_by_text(re.compile("^Loaded the network taught to tell 一 · ○ · × apart"))).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("18 drawings of 3 classes (一 · ○ · ×), kept in the checkpoint with the network: "
                            "15 train it and the 3 held out test it", exact=False)).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile("data folder"))).to_have_count(0)  # no MNIST folder here
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("3")
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(re.compile(r"Finished 3 more epochs"))).to_be_visible(timeout=120_000)
    expect(page.get_by_role("heading", name=re.compile(r"The taught network \(一 · ○ · ×\) on 15 drawings"))
           ).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="test acc")).to_have_count(1)
    screenshot(page, "teach-continued-on-train", full=True)
    wait_idle(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(re.compile("^Saved as “Taught: 一 · ○ · ×"))).to_be_visible(timeout=30_000)
    assert page.get_by_test_id("stException").count() == 0
    assert not errors, errors
