"""backprop.js in Chromium against torch autograd: the same references and comparisons as the
node test (tests/backprop_reference.py, tests/js/backprop_parity.mjs), with the module imported by
URL as the app's component imports it (tests/browser/support.load_netview_modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backprop_reference import cases
from tests.browser.support import MODULES_ORIGIN, chromium, load_netview_modules, module_page  # noqa: F401 (fixture)

PARITY = Path(__file__).resolve().parents[1] / "js" / "backprop_parity.mjs"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(module_page):  # noqa: F811
    load_netview_modules(module_page)
    module_page.route(MODULES_ORIGIN + "/tests/backprop_parity.mjs",  # after the modules' route: answered first
                       lambda route: route.fulfill(status=200, content_type="text/javascript",
                                                   body=PARITY.read_text(encoding="utf-8")))
    return module_page


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


WORKER = """async () => {
    const source = `
        import { backwardBatch, buildNet, createAdam, initParams } from "${location.origin}/backprop.js";
        const layers = [
            {name: "conv1", kind: "conv", input_shape: [1, 8, 8], output_shape: [2, 6, 6],
             geometry: {kernel: 3, stride: 1, padding: 0}},
            {name: "act1", kind: "relu", input_shape: [2, 6, 6], output_shape: [2, 6, 6]},
            {name: "pool1", kind: "maxpool", input_shape: [2, 6, 6], output_shape: [2, 3, 3],
             geometry: {kernel: 2, stride: 2, padding: 0}},
            {name: "flatten", kind: "flatten", input_shape: [2, 3, 3], output_shape: [18]},
            {name: "fc1", kind: "linear", input_shape: [18], output_shape: [2]},
        ];
        const net = buildNet(layers, initParams(layers, 1));
        const inputs = [0, 1].map((k) => Float32Array.from({length: 64}, (_, i) => (i % 8 < 4) === (k === 0) ? 1 : 0));
        const adam = createAdam(net, {lr: 0.05});
        const losses = [];
        for (let epoch = 0; epoch < 30; epoch++) {
            const {loss, gradParams, correct} = backwardBatch(net, inputs, [0, 1]);
            losses.push(loss);
            adam.step(gradParams);
        }
        postMessage({first: losses[0], last: losses[losses.length - 1], worker: typeof document === "undefined"});
    `;
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    const worker = new Worker(url, {type: "module"});
    return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message || "worker failed"));
    });
}"""


def test_backprop_js_trains_in_a_web_worker(page):
    """The module and what it imports run where the Teach page trains: a module Web Worker (no DOM)."""
    got = page.evaluate(WORKER)
    assert got["worker"] is True
    assert got["last"] < 0.5 * got["first"], got
