"""Load: several real browser sessions at once against one local server while one of them trains.

Six separate browser contexts (six Streamlit sessions) on localhost: one trains (1 epoch at a time
on 6,000 synthetic images, the server capped at one run), one tries to train too and must get the
cap message, one uploads a checkpoint that another must not see, and the rest use the other pages.
Every session must still answer, with no exception shown. Bounded: 6 sessions, cut by the timeout below.
"""

import re

import pytest

from lenet_viz.data import DATA_ENV
from lenet_viz.model_store import bundled_models
from lenet_viz.run_slots import MAX_RUNS_ENV
from tests.browser.support import (
    free_port,
    launch_chromium,
    new_context,
    screenshot,
    skip_without_browser,
    start_server,
    stop_server,
)
from tests.datasets import synthetic_digits, write_idx

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.load]
SESSIONS = 6


@pytest.fixture(scope="module")
def loaded_server(tmp_path_factory):
    """A private server capped at one training run, its data folder 6,000 synthetic images."""
    skip_without_browser()
    folder = tmp_path_factory.mktemp("load-data")
    for split, n, seed in (("train", 6000, 0), ("t10k", 200, 1)):
        images, labels = synthetic_digits(n, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    cache = tmp_path_factory.mktemp("load-cache")  # its unpacked copies stay out of the user's ~/.cache
    proc = start_server(free_port(), env={MAX_RUNS_ENV: "1", DATA_ENV: str(folder), "OMP_NUM_THREADS": "1",
                                          "XDG_CACHE_HOME": str(cache)})
    try:
        yield f"http://127.0.0.1:{proc.args[proc.args.index('--server.port') + 1]}"
    finally:
        stop_server(proc)


def settle(page, timeout: float = 30.0) -> None:
    """Wait until the app has drawn and its script is not running."""
    page.wait_for_selector("[data-testid=stMain] h1", timeout=timeout * 1000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget] button')",
                           timeout=timeout * 1000)


SHOWS = """text => [...document.querySelectorAll('[data-testid=stSelectbox]')].some(box =>
    box.innerText.includes(text) || [...box.querySelectorAll('input')].some(i => (i.value || '').includes(text)))"""


def no_exception(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0, page.locator("[data-testid=stException]").first


@pytest.mark.timeout(240)  # a wedged session fails the test instead of hanging the run
def test_many_sessions_while_one_trains(loaded_server, tmp_path):
    if not bundled_models():
        pytest.skip("no bundled model to upload")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            size = {"width": 1300, "height": 900}
            pages = [new_context(browser, locale="en-US", viewport=size).new_page() for _ in range(SESSIONS)]
            trainer, rival, uploader, viewer, sizes, home = pages
            for page, path in zip(pages, ["/train", "/train", "/feature_maps", "/feature_maps", "/output_size", "/"]):
                page.goto(loaded_server + path)
            for page in pages:
                settle(page)

            # one session trains (long enough for the others to meet it) ...
            trainer.get_by_label("Epochs").fill("50")  # 300,000 examples: it runs until the test stops it
            trainer.get_by_label("Epochs").press("Enter")
            settle(trainer)
            trainer.get_by_role("button", name=re.compile("Start")).click()
            trainer.get_by_text(re.compile(r"epoch [\d.]+ of 50")).wait_for(timeout=30_000)

            # ... a second one is refused, with the reason ...
            rival.get_by_role("button", name=re.compile("Start")).click()
            rival.get_by_text("already training 1 network, its limit").wait_for(timeout=20_000)
            assert "LENET_VIZ_MAX_RUNS=1" in rival.locator("[data-testid=stAlert]").first.inner_text()

            # ... one uploads a model that another session must never see ...
            secret = tmp_path / "secret-upload.pt"
            secret.write_bytes(bundled_models()[0].path.read_bytes())
            uploader.get_by_text("Upload a checkpoint (.pt)").click()
            uploader.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(secret))
            uploader.wait_for_function(SHOWS, arg="Uploaded: secret-upload.pt", timeout=20_000)
            viewer.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()
            options = viewer.get_by_role("option").all_inner_texts()
            viewer.keyboard.press("Escape")
            assert options and not any("secret-upload" in o for o in options), options

            # ... and everyone else keeps working while it trains.
            kernel = sizes.get_by_test_id("stSlider").filter(has_text="Kernel size F").get_by_role("slider")
            kernel.press("ArrowLeft")
            kernel.press("ArrowLeft")  # 5 → 3: with padding 2, 28×28 gives 30×30
            sizes.get_by_text("30 × 30").wait_for(timeout=30_000)
            for page in pages:
                settle(page)
                no_exception(page)
            assert trainer.get_by_text(re.compile(r"epoch [\d.]+ of 50")).count()  # still training

            trainer.get_by_role("button", name=re.compile("Stop")).click()
            trainer.get_by_text("Stopped by request").wait_for(timeout=30_000)
            rival.get_by_role("button", name=re.compile("Start")).click()  # the slot is free again
            rival.get_by_text(re.compile(r"epoch [\d.]+ of")).first.wait_for(timeout=30_000)
            rival.get_by_role("button", name=re.compile("Stop")).click()
            rival.get_by_text("Stopped by request").wait_for(timeout=30_000)
            for i, page in enumerate(pages):
                settle(page)
                no_exception(page)
                assert page.locator("[data-testid=stMain] h1").first.inner_text()
                screenshot(page, f"load-session-{i}")
        finally:
            browser.close()
