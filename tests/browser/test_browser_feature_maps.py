"""The feature-maps page in headless Chromium: the live view follows the pen with no server round
trip (not even at pen lift), shows the one prediction, hover explains a unit, Sample and Upload go
through the same view, a phone's finger draws, the drawing outlives a model and a page switch.

Screenshots go to test-output/screenshots (or ``$LENET_VIZ_SHOTS``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from lenet_viz.model_store import bundled_models
from tests.browser.support import (  # noqa: F401
    COUNT_SENT_FRAMES,
    EXAMPLE_HINT,
    LIVE_PREDICTION,
    PAD,
    SEVEN,
    browser_page,
    chromium,
    new_context,
    open_page,
    prediction,
    screenshot,
    sent_frames,
    streamlit_server,
    stroke,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet"),
]
LAYER_TITLES = ("conv1 (C1) · convolution · 6×28×28", "act1 · ReLU · 6×28×28", "pool1 (S2) · max pooling · 6×14×14",
                "conv2 (C3) · convolution · 16×10×10", "act2 · ReLU · 16×10×10", "pool2 (S4) · max pooling · 16×5×5",
                "fc1 · fully connected · 120", "fc3 · fully connected · 10")
TIMEOUT = 60_000
OVERLAY_INK = """overlay => {
  const data = overlay.getContext('2d').getImageData(0, 0, overlay.width, overlay.height).data;
  let n = 0; for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++; return n; }"""  # painted pixels


@pytest.fixture
def page(browser_page, streamlit_server):  # noqa: F811 (fixtures imported above)
    browser_page.set_default_timeout(TIMEOUT)
    open_page(browser_page, streamlit_server, "Feature maps")
    browser_page.locator(PAD).wait_for()
    wait_idle(browser_page)
    return browser_page


EXAMPLE_SAID = re.compile(r"(Until then|Until you draw), everything below shows")  # a test image is on show


def shown_words(page, words: re.Pattern) -> int:
    """How many elements the user sees that say ``words`` (hidden ones left out)."""
    return page.get_by_text(words).evaluate_all("els => els.filter((e) => e.getClientRects().length).length")


def layer_titles(page) -> str:
    return " | ".join(page.locator(".nv-layer-title").all_inner_texts())


def test_the_view_follows_the_pen_and_sends_nothing_even_at_pen_lift(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(COUNT_SENT_FRAMES)
    page.goto(streamlit_server + "/feature_maps")
    page.locator(PAD).wait_for()
    wait_idle(page)
    # under the pad once the network has come (a server's first visit sends the pad before it)
    page.locator(EXAMPLE_HINT, has_text=re.compile(r"Until you draw, .* test image #\d+, label: 7")).wait_for()
    assert shown_words(page, EXAMPLE_SAID) == 1  # said once, under the pad
    assert prediction(page) == "7"
    assert page.get_by_test_id("stMetric").count() == 0  # the prediction is shown once, in the view
    titles = layer_titles(page)
    assert all(title in titles for title in LAYER_TITLES), titles
    frames_before, painted_before = sent_frames(page), page.evaluate("window.__netview.frames")
    stroke(page, SEVEN[0], lift=False)
    page.wait_for_timeout(300)
    assert sent_frames(page) == frames_before  # the whole stroke: nothing sent to the server
    assert page.evaluate("window.__netview.frames") > painted_before + 5  # the maps were repainted as it moved
    assert page.locator(LIVE_PREDICTION).inner_text() == "7"
    screenshot(page, "mid_stroke")
    page.mouse.up()
    page.locator(EXAMPLE_HINT).wait_for(state="hidden")
    assert shown_words(page, EXAMPLE_SAID) == 0  # nothing on the page says a test image is on show any more
    page.wait_for_timeout(1000)
    assert sent_frames(page) == frames_before  # nor at pen lift: the drawing stays in the browser
    assert prediction(page) == "7"
    screenshot(page, "drawn_7_full", full=True)
    page.get_by_role("button", name="Undo").click()
    page.locator(EXAMPLE_HINT).wait_for()  # nothing left: the example again
    assert shown_words(page, EXAMPLE_SAID) == 1
    assert sent_frames(page) == frames_before


def test_hover_draws_lines_to_what_a_unit_reads_and_explains_it(page):
    stroke(page, SEVEN[0])
    wait_idle(page)
    unit = page.locator("canvas.nv-map-canvas[data-layer=conv2][data-map='3']")
    unit.scroll_into_view_if_needed()
    box = unit.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.55)
    tip = page.locator(".nv-tip")
    tip.wait_for()
    text = tip.inner_text()
    assert "conv2[3, 5, 5]" in text and "weights × inputs" in text and "pool1" in text, text
    assert page.locator(".nv-overlay").evaluate(OVERLAY_INK) > 200  # Harley's lines to its window in pool1
    screenshot(page, "hover_conv2")
    dense = page.locator("canvas.nv-strip[data-layer=fc1]")
    dense.scroll_into_view_if_needed()
    box = dense.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 3)  # the first unit of the strip
    page.locator(".nv-tip", has_text="fc1[0]").wait_for()
    page.mouse.move(1, 1)


def test_fashion_sample_goes_through_the_same_view(page):
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Fashion-MNIST")).click()
    page.get_by_role("radiogroup", name="Input").get_by_text("Sample").click()
    page.get_by_test_id("stSelectbox").filter(has_text="Test image").click()
    page.keyboard.type("Sneaker")  # the option list is virtual: filter it
    page.get_by_role("option", name=re.compile("Sneaker")).first.click()
    page.get_by_text("label: Sneaker").wait_for()
    wait_idle(page)
    assert page.locator(PAD).is_hidden()  # no pad for a sample
    page.locator(".nv-layer-title", has_text="pool2 (S4) · average pooling · 16×5×5").wait_for()
    assert prediction(page) in ("Sneaker", "Sandal", "Ankle boot")
    screenshot(page, "fashion_sample", full=True)


def test_upload_photo_of_a_digit(page, tmp_path):
    page.get_by_role("radiogroup", name="Input").get_by_text("Upload").click()
    page.locator(LIVE_PREDICTION, has_text="–").wait_for()  # the example's prediction goes: no input yet
    rng = np.random.default_rng(0)
    img = Image.new("L", (640, 480), 215)  # a dark 3 on grey paper, blurred and noisy like a phone photo
    draw = ImageDraw.Draw(img)
    draw.arc((230, 60, 410, 240), 180, 90, fill=35, width=26)
    draw.arc((230, 225, 410, 420), 270, 170, fill=35, width=26)
    noisy = np.asarray(img.filter(ImageFilter.GaussianBlur(2)), float) + rng.normal(0, 8, (480, 640))
    path = tmp_path / "three.jpg"
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB").save(path, quality=85)
    picture = page.get_by_test_id("stFileUploader").filter(has_text="Picture of a digit").locator("input[type=file]")
    picture.set_input_files(str(path))
    wait_idle(page)
    page.locator(LIVE_PREDICTION, has_text="3").wait_for()  # the view runs the server's prepared input
    assert prediction(page) == "3"
    screenshot(page, "upload")
    (tmp_path / "notes.png").write_bytes(b"this is not an image")
    picture.set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("That file is not a picture").wait_for()


def test_a_finger_draws_on_a_phone(browser_page, streamlit_server):  # noqa: F811
    phone = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
    context = new_context(browser_page.context.browser, locale="en-US", **phone)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(streamlit_server + "/feature_maps")
        pad = page.locator(PAD)
        pad.wait_for()
        wait_idle(page)
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        assert box["width"] <= 390  # the pad fits the phone
        before = page.evaluate("window.__netview.frames")
        cdp = context.new_cdp_session(page)
        k = box["width"] / 280
        points = [(70 + 14 * i, 60) for i in range(11)] + [(210 - 9 * i, 60 + 18 * i) for i in range(1, 11)]

        def touch(kind: str, x: float, y: float) -> None:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [] if kind == "touchEnd" else [
                {"x": box["x"] + x * k, "y": box["y"] + y * k}]})

        touch("touchStart", *points[0])
        for x, y in points[1:]:
            touch("touchMove", x, y)
            page.wait_for_timeout(20)
        assert page.evaluate("window.__netview.frames") > before  # the maps followed the finger
        screenshot(page, "phone_mid_stroke")
        touch("touchEnd", 0, 0)
        page.locator(EXAMPLE_HINT).wait_for(state="hidden")
        assert prediction(page) == "7"
        screenshot(page, "phone_drawn_7")
    finally:
        context.close()


def test_switching_model_and_page_keeps_the_drawing(page):
    stroke(page, SEVEN[0])
    page.locator(EXAMPLE_HINT).wait_for(state="hidden")
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Fashion-MNIST")).click()
    page.locator(".nv-layer-title", has_text="average pooling").first.wait_for()  # the view redrew for the new model
    wait_idle(page)
    fashion = prediction(page)
    assert fashion not in "0123456789"  # the drawing read by the Fashion-MNIST model (fill 1)
    page.get_by_test_id("stSidebarNav").get_by_text("Home", exact=True).click()
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Feature maps", exact=True).click()
    page.locator(PAD).wait_for()
    wait_idle(page)
    ink = page.locator(PAD).evaluate(  # white pixels (red channel) on the black pad
        "c => c.getContext('2d').getImageData(0, 0, 280, 280).data.filter((v, i) => i % 4 === 0 && v > 128).length")
    assert ink > 1000  # the drawing came back with the page
    assert page.locator(EXAMPLE_HINT).is_hidden()
    assert shown_words(page, EXAMPLE_SAID) == 0  # nor does anything else say a test image is on show
    assert prediction(page) != "–"  # the drawing read again by the model on show


def test_eraser_and_undo(page):
    one = [(140, 50), (140, 230)]
    stroke(page, one)
    page.locator(EXAMPLE_HINT).wait_for(state="hidden")
    page.get_by_role("button", name="Eraser").click()
    assert page.get_by_role("button", name="Eraser").get_attribute("aria-pressed") == "true"
    stroke(page, [(140, 40), (140, 240)])  # wider than the pen: the 1 is gone, the pad is blank again
    page.locator(LIVE_PREDICTION, has_text="–").wait_for()  # strokes, but no ink: nothing to read
    page.get_by_role("button", name="Undo").click()  # the 1 comes back
    page.locator(LIVE_PREDICTION, has_text="1").wait_for()
    assert prediction(page) == "1"


def test_a_link_opens_its_sample_and_the_bars_follow_a_switch_to_fashion(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    page.goto(streamlit_server + "/feature_maps?model=digits&sample=3")
    page.get_by_text(re.compile(r"test image #\d+, label: \d")).first.wait_for()
    page.locator(".nv-bar-label").first.wait_for()
    wait_idle(page)
    assert page.locator(".nv-bar-label").all_inner_texts() == [str(i) for i in range(10)]
    # the bars were built for the digits: a switch of model must rename them, not just the headline
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Fashion-MNIST")).click()
    page.locator(".nv-bar-label", has_text="Ankle boot").wait_for()
    wait_idle(page)
    labels = page.locator(".nv-bar-label").all_inner_texts()
    assert labels[:2] == ["T-shirt/top", "Trouser"] and labels[-1] == "Ankle boot", labels
    assert page.locator(LIVE_PREDICTION).inner_text() in labels
    assert "model=fashion" in page.url and "sample=3" in page.url  # the URL follows the widgets
    screenshot(page, "fashion_link_bars", full=True)


def test_a_tap_on_a_phone_shows_what_a_unit_reads(browser_page, streamlit_server):  # noqa: F811
    phone = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
    context = new_context(browser_page.context.browser, locale="en-US", **phone)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        page.goto(streamlit_server + "/feature_maps")
        page.locator(PAD).wait_for()
        wait_idle(page)
        page.get_by_text("Hover (or tap) a unit").first.wait_for()
        unit = page.locator("canvas.nv-map-canvas[data-layer=conv2][data-map='3']")
        unit.scroll_into_view_if_needed()
        box = unit.bounding_box()
        cdp = context.new_cdp_session(page)
        point = {"x": box["x"] + box["width"] * 0.55, "y": box["y"] + box["height"] * 0.55}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        tip = page.locator(".nv-tip")
        tip.wait_for()
        page.wait_for_timeout(500)  # the tooltip outlasts the touch's pointerleave
        assert tip.is_visible() and "conv2[3, " in tip.inner_text()
        screenshot(page, "phone_tap_unit")
    finally:
        context.close()


def test_the_drawing_reaches_training_replay_only_when_it_is_needed(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    open_page(page, streamlit_server, "Training replay")
    page.locator("input.rp-slider").wait_for()
    assert page.get_by_role("radiogroup", name="Input").get_by_text("My drawing").count() == 0  # nothing drawn yet
    page.get_by_test_id("stSidebarNav").get_by_text("Feature maps", exact=True).click()
    stroke(page, [(140, 50), (140, 230)])  # a 1
    page.locator(EXAMPLE_HINT).wait_for(state="hidden")
    page.get_by_test_id("stSidebarNav").get_by_text("Training replay", exact=True).click()
    choice = page.get_by_role("radiogroup", name="Input").get_by_text("My drawing")
    choice.wait_for()  # the replay view sent the browser's drawing: the page offers it
    choice.click()
    page.get_by_text("your last drawing on Feature maps").first.wait_for()
    wait_idle(page)
    page.locator(".rp-prediction-text", has_text="1").wait_for()  # the final snapshot reads the drawn 1
    assert page.get_by_test_id("stException").count() == 0


def test_the_drawing_reaches_a_lesson_that_asks_about_it(browser_page, streamlit_server):  # noqa: F811
    page = browser_page
    page.set_default_timeout(TIMEOUT)
    open_page(page, streamlit_server, "Feature maps")
    stroke(page, [(140, 50), (140, 230)])
    page.locator(EXAMPLE_HINT).wait_for(state="hidden")
    page.goto(streamlit_server + "/lessons?lang=en&lesson=seeing&q=kernel&seed=4")  # a reload: a new session
    page.get_by_text("your drawing on the Feature maps page").first.wait_for()  # the browser's drawing, asked for
    assert page.get_by_test_id("stException").count() == 0
