"""The feature-maps page in headless Chromium: draw a 7 with the mouse, pick a sample, upload a picture.

Screenshots go to test-output/screenshots (or ``$LENET_VIZ_SHOTS``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from lenet_viz.model_store import bundled_models
from tests.browser.support import SEVEN, browser_page, draw, open_page, screenshot, streamlit_server  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not bundled_models(), reason="the bundled models are not in assets/models yet"),
]
LAYER_TITLES = ("conv1 (C1) · convolution · 6×28×28", "act1 · ReLU · 6×28×28", "pool1 (S2) · max pooling · 6×14×14",
                "conv2 (C3) · convolution · 16×10×10", "act2 · ReLU · 16×10×10", "pool2 (S4) · max pooling · 16×5×5")
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def page(browser_page, streamlit_server):  # noqa: F811 (fixtures imported above)
    browser_page.set_default_timeout(TIMEOUT)
    open_page(browser_page, streamlit_server, "Feature maps")
    return browser_page


def prediction(page) -> str:
    metric = page.get_by_test_id("stMetric")
    metric.wait_for()
    return page.get_by_test_id("stMetricValue").inner_text().strip()


def test_drawing_a_seven_shows_prediction_and_all_layer_grids(page):
    page.get_by_test_id("stBidiComponentIsolated").locator("canvas.upper-canvas").wait_for()
    page.get_by_text("Until then, everything below shows a test image").wait_for()  # an example, at once
    assert prediction(page) == "7" and page.get_by_text(re.compile(r"test image #\d+, label: 7")).count() == 1
    page.locator("svg text", has_text=LAYER_TITLES[0]).first.wait_for()
    screenshot(page, "example_before_drawing")
    draw(page, SEVEN)
    assert page.get_by_text("Until then").count() == 0  # the drawing replaced the example
    assert prediction(page) == "7"
    for title in LAYER_TITLES:
        page.locator("svg text", has_text=title).first.wait_for()
    page.locator("svg text", has_text="output").first.wait_for()  # the fully connected strips
    page.locator("svg text", has_text="conv2 kernels").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "drawn_7")
    screenshot(page, "drawn_7_full", full=True)
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Until then, everything below shows a test image").wait_for()  # a fresh canvas: the example


def test_fashion_sample(page):
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Fashion-MNIST")).click()
    page.get_by_role("radiogroup", name="Input").get_by_text("Sample").click()
    page.get_by_test_id("stSelectbox").filter(has_text="Test image").click()
    page.keyboard.type("Sneaker")  # the option list is virtual: filter it
    page.get_by_role("option", name=re.compile("Sneaker")).first.click()
    page.get_by_text("label: Sneaker").wait_for()
    assert prediction(page) in ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                                "Bag", "Ankle boot")
    page.locator("svg text", has_text="pool2 (S4) · average pooling · 16×5×5").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "fashion_sample")
    screenshot(page, "fashion_sample_full", full=True)


def test_upload_photo_of_a_digit(page, tmp_path):
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Digits")).click()
    page.get_by_role("radiogroup", name="Input").get_by_text("Upload").click()
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
    assert prediction(page) == "3"
    page.wait_for_timeout(1000)
    screenshot(page, "upload")
    (tmp_path / "notes.png").write_bytes(b"this is not an image")
    picture.set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("That file is not a picture").wait_for()
    # the old prediction goes once the rerun has replaced the page's elements
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stMetric\"]').length === 0")
