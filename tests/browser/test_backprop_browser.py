"""backprop.js in Chromium against torch autograd: the same references and comparisons as the
node test (tests/backprop_reference.py, tests/js/backprop_parity.mjs), with the module imported by
URL as the app's component imports it (tests/browser/support.load_netview_modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backprop_reference import cases
from tests.browser.support import MODULES_ORIGIN, browser_page, load_netview_modules  # noqa: F401 (fixture)

PARITY = Path(__file__).resolve().parents[1] / "js" / "backprop_parity.mjs"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(browser_page):  # noqa: F811
    load_netview_modules(browser_page)
    browser_page.route(MODULES_ORIGIN + "/tests/backprop_parity.mjs",  # after the modules' route: answered first
                       lambda route: route.fulfill(status=200, content_type="text/javascript",
                                                   body=PARITY.read_text(encoding="utf-8")))
    return browser_page


CHECK = """async (ref) => {
    const bp = await import("./backprop.js");
    const { checkCase } = await import("./tests/backprop_parity.mjs");
    return checkCase(bp, ref);
}"""


def test_backprop_js_equals_torch_autograd_in_chromium(page):
    results = [page.evaluate(CHECK, case) for case in cases()]
    assert len(results) >= 11
    summary = "\n".join(f"{r['name']}: worst gradient diff {r['worst']['grad']:.1e}, step {r['worst']['step']:.2f}x tol"
                        for r in results)
    print("\n" + summary)
    assert [(r["name"], r["failures"]) for r in results if r["failures"]] == [], summary
