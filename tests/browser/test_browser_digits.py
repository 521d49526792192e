"""Draw each digit 0-9 with the mouse on the Feature maps pad and count what the bundled model says.

This is the check a newcomer makes first: does the default model read my handwriting? The prediction
is the view's own (the network in the page); tests/browser/test_netview_maths.py holds that network
to torch's, and its preprocessing to the server's.
"""

from __future__ import annotations

import math

import pytest

from tests.browser.support import (  # noqa: F401
    EXAMPLE_HINT,
    browser_page,
    chromium,
    draw,
    open_page,
    prediction,
    screenshot,
    streamlit_server,
    wait_idle,
)

# Pen strokes on the 280×280 pad, one list of (x, y) points per stroke.
ZERO = [(140 + 55 * math.sin(t / 12 * 2 * math.pi), 140 - 85 * math.cos(t / 12 * 2 * math.pi)) for t in range(13)]
DIGITS = {
    0: [ZERO],
    1: [[(120, 75), (145, 50), (145, 235)]],
    2: [[(85, 95), (110, 55), (160, 50), (192, 85), (180, 125), (90, 225), (205, 225)]],
    3: [[(85, 65), (150, 48), (190, 85), (140, 135), (195, 175), (165, 225), (85, 215)]],
    4: [[(165, 50), (80, 170), (210, 170)], [(170, 100), (170, 235)]],
    5: [[(190, 55), (105, 55), (98, 130), (150, 118), (195, 160), (175, 215), (90, 222)]],
    6: [[(180, 55), (120, 90), (92, 160), (105, 215), (150, 230), (190, 195), (175, 145), (120, 140), (96, 170)]],
    7: [[(80, 60), (200, 60), (120, 235)]],
    8: [[(140, 135), (95, 100), (110, 55), (170, 55), (185, 100), (140, 135), (90, 180), (110, 230), (170, 230),
         (190, 180), (140, 135)]],
    9: [[(185, 85), (150, 50), (100, 70), (100, 120), (150, 135), (185, 90), (185, 150), (172, 235)]],
}


@pytest.mark.browser
@pytest.mark.slow
def test_bundled_model_reads_drawn_digits(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(60_000)
    open_page(page, streamlit_server, "Feature maps")
    predictions = {}
    for digit, strokes in DIGITS.items():
        page.locator(EXAMPLE_HINT).wait_for()  # a clear pad (the example under it)
        draw(page, strokes)
        page.locator(EXAMPLE_HINT).wait_for(state="hidden")
        predictions[digit] = prediction(page)
        screenshot(page, f"digit-{digit}")
        page.get_by_role("button", name="Clear").click()
    right = sum(predictions[d] == str(d) for d in DIGITS)
    print(f"drawn digits read correctly: {right}/10 {predictions}")
    assert right >= 9, predictions
