"""A teacher's link in headless Chromium: Output size opened with the page list hidden, the kernel
slider hidden and the stride slider locked, in English and in Chinese (the link's ``lang``)."""

from __future__ import annotations

import pytest

from lenet_viz.i18n import t
from tests.browser.support import (  # noqa: F401 (fixture)
    launch_chromium,
    new_context,
    screenshot,
    skip_without_browser,
    streamlit_server,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("locale, lang", [("en-US", "en"), ("zh-CN", "zh")])
def test_output_size_opened_from_a_teachers_link(streamlit_server, locale, lang):  # noqa: F811
    skip_without_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = new_context(browser, locale=locale)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{streamlit_server}/output_size?k=3&hide=kernel,nav&lock=stride&lang={lang}")
            page.get_by_text(t("link.teacher_fixed", lang), exact=True).wait_for(timeout=90_000)
            wait_idle(page)
            sliders = page.get_by_test_id("stSlider")
            expect(sliders.filter(has_text=t("os.padding", lang)).get_by_role("slider")).to_be_enabled()
            expect(sliders.filter(has_text=t("os.stride", lang)).get_by_role("slider")).to_be_disabled()
            assert sliders.filter(has_text=t("os.kernel", lang)).count() == 0
            expect(page.get_by_test_id("stMetricValue").first).to_have_text("30 × 30")  # the link's kernel 3
            expect(page.get_by_test_id("stSidebar")).to_be_visible()  # the language and the link box stay
            expect(page.get_by_test_id("stSidebarNav")).to_be_hidden()
            screenshot(page, f"teacher-link-output-size-{lang}")
            assert page.get_by_test_id("stException").count() == 0 and not errors, errors
            plain = context.new_page()  # the same page without the teacher's link: the page list is there
            plain.goto(f"{streamlit_server}/output_size?lang={lang}")
            expect(plain.get_by_test_id("stSidebarNav")).to_be_visible(timeout=90_000)
            train_link = plain.get_by_test_id("stSidebarNav").get_by_role("link", name=t("nav.train", lang), exact=True)
            expect(train_link).to_be_visible()
        finally:
            browser.close()
