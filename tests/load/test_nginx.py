"""The deploy recipe works: two app processes behind Debian's nginx (deploy/), on loopback.

Through nginx's one port: a protocol-level websocket session answers reruns (upgrade and sticky
routing work; their times are recorded and printed, the only bound relative: no rerun far slower than
the others), and a real browser opens Feature maps and uploads a checkpoint (the upload's HTTP PUT
reaches the process that holds the session, past nginx's body size limit).
"""

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from lenet_viz.model_store import bundled_models
from tests.browser.support import free_port, launch_chromium, new_context, screenshot, skip_without_browser
from tests.browser.test_load import SHOWS
from tests.load.latency import TAIL_AT_MOST, record
from tests.load.stclient import open_feature_maps, pick_sample

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
from local_cluster import NGINX, cluster  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    if not Path(NGINX).exists() and not shutil.which("nginx"):
        pytest.skip("nginx is not installed (apt-get install nginx)")
    if not bundled_models():
        pytest.skip("no bundled model to show or upload")
    first = free_port()
    with cluster(2, first, free_port(), run_dir=tmp_path_factory.mktemp("nginx")) as (url, apps, nginx):
        yield url, apps, nginx


def test_websocket_sessions_work_through_nginx(behind_nginx):
    url, apps, nginx = behind_nginx

    async def scenario():
        opened = await asyncio.gather(*(open_feature_maps(url) for _ in range(4)))
        answers = await asyncio.gather(*(pick_sample(s, i) for i, (s, _) in enumerate(opened)))
        await asyncio.gather(*(s.close() for s, _ in opened))
        return [a for _, a in opened] + answers

    answers = asyncio.run(asyncio.wait_for(scenario(), 180))
    assert all(a.messages > 20 and not a.exceptions for a in answers)
    record("open Feature maps through nginx, 4 at once", answers[:4])
    picks = record("pick a sample through nginx, 4 sessions", answers[4:])
    assert picks.p95 <= TAIL_AT_MOST * picks.p50, "one session's rerun took far longer: a routing detour?"
    assert all(p.poll() is None for p in [*apps, nginx])  # nobody fell over


def test_a_browser_uploads_a_checkpoint_through_nginx(behind_nginx, tmp_path):
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    url, apps, nginx = behind_nginx
    upload = tmp_path / "through-nginx.pt"
    upload.write_bytes(bundled_models()[0].path.read_bytes())
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = new_context(browser, locale="en-US", viewport={"width": 1300, "height": 900}).new_page()
            page.goto(url + "/feature_maps")
            page.wait_for_selector("[data-testid=stMain] h1", timeout=120_000)
            page.get_by_text("Upload a checkpoint (.pt)").wait_for(timeout=120_000)
            page.get_by_text("Upload a checkpoint (.pt)").click()
            page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(upload))
            page.wait_for_function(SHOWS, arg="Uploaded: through-nginx.pt", timeout=120_000)
            assert page.locator("[data-testid=stException]").count() == 0
            screenshot(page, "nginx-upload")
            assert "Failed to fetch" not in page.locator("[data-testid=stMain]").inner_text()
        finally:
            browser.close()
    assert all(p.poll() is None for p in [*apps, nginx])
