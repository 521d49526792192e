"""Scrub the Training replay's slider over the digit model's snapshots for a fixed test digit: the
prediction is wrong or unsure early and right at the end, and scrubbing never talks to the server.

The bundled digit model is used when it carries snapshots; until it does, a short run of the same
network on real MNIST digits is trained with the CLI and uploaded on the page, as a user would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.model_store import bundled_models
from tests.browser.support import browser_page, chromium, open_page, screenshot, streamlit_server, wait_idle  # noqa: F401
from tests.datasets import SHARED_MNIST
from tests.environment import process_environment

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def bundled_digits_with_snapshots():
    digits = next((m for m in bundled_models() if m.dataset == "mnist"), None)
    return digits if digits and load_checkpoint(digits.path).snapshots else None


@pytest.fixture(scope="module")
def digit_run(tmp_path_factory) -> Path | None:
    """None when the bundled digit model has snapshots; else a checkpoint of a short MNIST run."""
    if bundled_digits_with_snapshots():
        return None
    if not SHARED_MNIST.exists():
        pytest.skip(f"the bundled digit model has no snapshots and MNIST is not at {SHARED_MNIST}")
    out = tmp_path_factory.mktemp("replay") / "digits-run.pt"
    subprocess.run([sys.executable, "-m", "lenet_viz", "train", "--dataset", "mnist", "--data-dir", str(SHARED_MNIST),
                    "--model", "modern", "--optimizer", "adam", "--lr", "0.002", "--epochs", "2", "--subset", "2000",
                    "--batch-size", "32", "--test-range", "5000:5500", "--snapshots", "24", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=600, env=process_environment())
    return out


def show(page, base_url: str, run: Path | None) -> None:
    open_page(page, base_url, "Training replay")
    wait_idle(page)
    if run is not None:
        page.get_by_text("Upload a checkpoint (.pt)").click()
        page.locator("input[type=file]").set_input_files(str(run))
        wait_idle(page)
    page.locator("input.rp-slider").wait_for()
    page.wait_for_function("() => Number(globalThis.__replay?.paints) > 0", timeout=60_000)


@pytest.mark.browser
def test_scrubbing_shows_the_network_learning_the_digit(browser_page, streamlit_server, digit_run):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.set_default_timeout(60_000)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append("sent")))
    show(page, streamlit_server, digit_run)
    wait_idle(page)
    truth = page.locator(".rp-root").get_attribute("data-truth")
    assert truth == "7"  # the page's default sample
    slider = page.locator("input.rp-slider")
    last = int(slider.get_attribute("max"))
    assert last >= 10
    sent_before = len(frames)
    seen = []
    for index in range(last + 1):
        slider.fill(str(index))
        expect(page.locator(".rp-status")).to_contain_text(f"snapshot {index + 1} of {last + 1}")
        text = page.locator(".rp-prediction-text")
        seen.append((text.get_attribute("data-prediction"), float(text.get_attribute("data-confidence"))))
        if index == 1:
            screenshot(page, "replay-early", full=True)
    screenshot(page, "replay-end", full=True)
    assert len(frames) == sent_before, "scrubbing sent messages to the server"
    first_prediction, first_confidence = seen[0]
    assert first_prediction != truth or first_confidence < 0.5, f"already right at step 0: {seen[0]}"
    final_prediction, final_confidence = seen[-1]
    assert final_prediction == truth and final_confidence > 0.5, f"wrong at the end: {seen[-1]}"
    print(f"\n{truth}: " + " ".join(f"{p}:{c:.2f}" for p, c in seen))


@pytest.mark.browser
def test_play_walks_through_the_snapshots_and_pause_stops(browser_page, streamlit_server, digit_run):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.set_default_timeout(60_000)
    show(page, streamlit_server, digit_run)
    page.locator("input.rp-slider").fill("0")
    play = page.locator("button.rp-play")
    play.click()
    expect(page.locator(".rp-status")).to_have_text(re.compile(r"^snapshot ([3-9]|\d\d) of"))  # polls may skip some
    play.click()
    expect(play).to_have_text("▶ Play")
    stopped = page.locator(".rp-status").text_content()
    page.wait_for_timeout(1200)
    assert page.locator(".rp-status").text_content() == stopped
    assert int(page.locator("input.rp-slider").input_value()) >= 2
