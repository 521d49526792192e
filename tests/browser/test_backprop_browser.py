"""backprop.js in Chromium against torch autograd: the same references and comparisons as the
node test (tests/backprop_reference.py, tests/js/backprop_parity.mjs), with the module imported by
a page as the app's pages import it. The page's origin is served by Playwright's request routing
from the checkout (no server, no port)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import pytest

from tests.backprop_reference import cases
from tests.browser.support import browser_page  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://backprop.test"
SERVED = ("lenet_viz/netview/", "tests/js/")  # the only folders the page may read

pytestmark = pytest.mark.slow


def serve_checkout(route) -> None:
    """Answer a request to ORIGIN from the checkout: a blank page at /, the served folders' files."""
    path = route.request.url.removeprefix(ORIGIN + "/").split("?")[0]
    if path == "":
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>backprop</title>")
        return
    file = ROOT / path
    if not path.startswith(SERVED) or not file.is_file():
        route.fulfill(status=404, body="not found")
        return
    kind = "text/javascript" if file.suffix in (".js", ".mjs") else mimetypes.guess_type(file.name)[0]
    route.fulfill(status=200, content_type=kind or "application/octet-stream", body=file.read_bytes())


@pytest.fixture(scope="module")
def page(browser_page):  # noqa: F811
    browser_page.route(ORIGIN + "/**", serve_checkout)
    browser_page.goto(ORIGIN + "/")
    return browser_page


CHECK = """async (ref) => {
    const bp = await import("/lenet_viz/netview/backprop.js");
    const { checkCase } = await import("/tests/js/backprop_parity.mjs");
    return checkCase(bp, ref);
}"""


def test_backprop_js_equals_torch_autograd_in_chromium(page):
    results = [page.evaluate(CHECK, case) for case in cases()]
    assert len(results) >= 11
    summary = "\n".join(f"{r['name']}: worst gradient diff {r['worst']['grad']:.1e}, step {r['worst']['step']:.2f}× tol"
                        for r in results)
    print("\n" + summary)
    assert [(r["name"], r["failures"]) for r in results if r["failures"]] == [], summary
