"""The Teach page's own controls (in its component's shadow root) look like the Streamlit widgets around
them, on a desktop and on a 390×844 phone, in English and in Chinese: the theme's radius and font,
40 px tall (a finger's target on a phone), the main action filled with the theme's primary colour,
inputs on the theme's input background, a disabled button faded, and a keyboard focus ring.
Screenshots go to test-output/screenshots (or ``$LENET_VIZ_SHOTS``).
"""

from __future__ import annotations

import pytest

from lenet_viz.i18n import t
from lenet_viz.model_store import bundled_models
from tests.browser.support import chromium, new_context, screenshot, streamlit_server, wait_idle  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
LANG = {"en-US": "en", "zh-CN": "zh"}

# An element's look as the browser computes it (Playwright's CSS selectors reach into the shadow root).
LOOK = """(e) => {
  const s = getComputedStyle(e);
  return {radius: s.borderTopLeftRadius, height: e.getBoundingClientRect().height, font: s.fontFamily,
          background: s.backgroundColor, color: s.color, cursor: s.cursor,
          outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`};
}"""
THEME = "(e, name) => getComputedStyle(e).getPropertyValue(name).trim()"  # a Streamlit theme variable there
# The page's own controls: its pad, classes, training and keep sections (not the live view it mounts below
# once trained, which keeps its look; nor a drawing's small delete button on its thumbnail).
BUTTONS = ".teach-top button:not(.teach-delete), .teach-train button, .teach-keep button"
INPUTS = ".teach-top input[type=text], .teach-train select, .teach-train input[type=number]"


def rgb(hex_colour: str) -> str:
    """``#C53948`` as the browser computes it: ``rgb(197, 57, 72)``."""
    value = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(value[i:i + 2], 16) for i in (0, 2, 4)))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_teach_controls_look_like_streamlits(chromium, streamlit_server, device, locale):  # noqa: F811
    lang = LANG[locale]
    context = new_context(chromium, locale=locale, **(PHONE if device == "phone" else {}))
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(streamlit_server + "/teach")
        wait_idle(page)
        name_box = page.get_by_role("textbox", name=t("teach.ui.new_class", lang))
        name_box.fill("A")
        name_box.press("Enter")  # a class, so that its Add drawing button is there too
        add = page.get_by_role("button", name=t("teach.ui.add_drawing", lang, name="A"), exact=True)
        add.wait_for()
        streamlit_button = page.get_by_test_id("stBaseButton-secondary").first.evaluate(LOOK)  # the sidebar's
        train = page.get_by_role("button", name=t("teach.ui.train", lang), exact=True)
        theme = {name: train.evaluate(THEME, f"--st-{name}")
                 for name in ("primary-color", "secondary-background-color")}

        buttons = page.locator(BUTTONS)
        assert buttons.count() >= 7  # clear pad, add class, add drawing, remove class, train, stop, download, save
        for look in (buttons.nth(i).evaluate(LOOK) for i in range(buttons.count())):
            assert look["radius"] == streamlit_button["radius"] and look["font"] == streamlit_button["font"], look
            assert look["height"] >= 40, look  # Streamlit's height, and a finger's target
        for main in (train, add):  # the main actions: filled with the theme's primary colour
            look = main.evaluate(LOOK)
            assert (look["background"], look["color"]) == (rgb(theme["primary-color"]), "rgb(255, 255, 255)"), look
        stop = page.get_by_role("button", name=t("teach.ui.stop", lang), exact=True).evaluate(LOOK)
        assert stop["cursor"] == "not-allowed" and stop["background"] == "rgba(0, 0, 0, 0)", stop  # disabled
        controls = page.locator(INPUTS).all()
        assert len(controls) == 5  # the class name, the network, the learning rate, the epochs, the held-out share
        for control in controls:
            look = control.evaluate(LOOK)
            assert look["height"] >= 40 and look["radius"] == streamlit_button["radius"], look
            assert look["background"] == rgb(theme["secondary-background-color"]), look
        if device == "phone":
            for option in page.locator(".teach .teach-radios label").all():
                assert option.bounding_box()["height"] >= 40
        model = next(m for m in bundled_models() if m.dataset == "mnist")
        start = page.get_by_role("radio", name=t("teach.ui.bundled", lang, title=model.title(lang)), exact=True)
        assert start.is_checked()  # what it starts from, read in the language's own punctuation

        page.locator(".teach-train select").last.focus()  # the held-out share, just before Train
        page.keyboard.press("Tab")
        focused = train.evaluate(LOOK)
        assert focused["outline"] == f"solid 2px {rgb(theme['primary-color'])}", focused
        train.scroll_into_view_if_needed()
        screenshot(page, f"teach_controls_{device}_{lang}")
    finally:
        context.close()
