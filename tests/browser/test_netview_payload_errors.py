"""The component's entry (index.js) in Chromium, fed what Python may send and what it must refuse:
a good payload mounts the view; a newer version, a truncated weight blob, a malformed network or
malformed view data shows a message in the page's language, in place of the view: never a blank
area, never a console error. The modules are imported by URL as the app's component does."""

from __future__ import annotations

import base64
import itertools

import pytest

from lenet_viz.models import PRESETS, build_model
from lenet_viz.netview_component import view_texts
from lenet_viz.netview_payload import PAYLOAD_VERSION, LiveViewData, LoadingViewData, model_payload, view_data
from tests.browser.support import chromium, load_netview_modules, module_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

MOUNT = """async ([data]) => {
    const { default: mount } = await import("./index.js");
    const box = document.createElement("div");
    document.body.replaceChildren(box);
    const sent = [];
    mount({ parentElement: box, data, setStateValue: (key, value) => sent.push(key) });
    const alert = box.querySelector("[role=alert]");
    return { alert: alert && alert.textContent, view: !!box.querySelector(".nv"), sent,
             prediction: box.querySelector("[role=status]")?.getAttribute("aria-label") ?? null };
}"""


@pytest.fixture(scope="module")
def page(module_page):  # noqa: F811
    errors: list[str] = []
    module_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    module_page.on("pageerror", lambda e: errors.append(str(e)))
    load_netview_modules(module_page)
    module_page.errors = errors
    return module_page


CALLS = itertools.count()  # each call names a new model and words: the page keeps what it decoded by id


def data(network, lang: str = "en", **changes) -> dict:
    spec = PRESETS["modern"]
    texts_id = f"test-{lang}-{next(CALLS)}"
    base = LiveViewData(**view_data("live", network, send_network=True, texts_id=texts_id, texts=view_texts(lang),
                                    classes=list("0123456789"), spec=spec, fill=20 / 28, image=None),
                        mode="draw", hint="", unit=None, inspecting=False)
    return {**base, "model_id": f"model-{texts_id}", **changes}


@pytest.fixture(scope="module")
def good():
    spec = PRESETS["modern"]
    return model_payload(spec, [build_model(spec).state_dict()])


def test_a_good_payload_mounts_the_view(page, good):
    shown = page.evaluate(MOUNT, [data(good)])
    assert shown["view"] and shown["alert"] is None and shown["prediction"] == "Prediction"
    assert page.errors == []


@pytest.mark.parametrize("lang, words", [("en", "newer format (version 2)"), ("zh", "格式（版本 2）")])
def test_a_newer_payload_says_so_in_the_pages_language(page, good, lang, words):
    shown = page.evaluate(MOUNT, [data({**good, "version": PAYLOAD_VERSION + 1}, lang)])
    assert not shown["view"] and words in shown["alert"]
    assert page.errors == []


def test_a_truncated_weight_blob_says_how_much_is_missing(page, good):
    blob = base64.b64decode(good["weight_sets"][0])
    cut = {**good, "weight_sets": [base64.b64encode(blob[:1000]).decode()]}
    shown = page.evaluate(MOUNT, [data(cut)])
    assert not shown["view"] and "cut short (250 of" in shown["alert"]
    assert page.errors == []


@pytest.mark.parametrize("changes, detail", [
    ({"view": "3d"}, "view"), ({"size": "28"}, "size"), ({"input": [1, 2, 3]}, "input"),
], ids=["unknown view", "size", "input"])
def test_malformed_view_data_is_a_message(page, good, changes, detail):
    shown = page.evaluate(MOUNT, [data(good, **changes)])
    assert not shown["view"] and "damaged" in shown["alert"] and detail in shown["alert"]
    assert page.errors == []


def test_a_malformed_network_is_a_message(page, good):
    shown = page.evaluate(MOUNT, [data({**good, "layers": [{"name": "conv1"}]})])
    assert not shown["view"] and "damaged (layer \"conv1\")" in shown["alert"]
    assert page.errors == []


LOADING_THEN_NETWORK = """async ([loading]) => {
    const { default: mount } = await import("./index.js");
    (await import("./drawing.js")).keepDrawing([]);  // a blank pad, whatever another test drew
    const box = document.createElement("div");
    document.body.replaceChildren(box);
    const sent = [];
    window.__mountAgain = (data) => mount({ parentElement: box, data, setStateValue: (key) => sent.push(key),
                                            setTriggerValue: (key) => sent.push(key) });
    window.__mountAgain(loading);
    return { layers: box.querySelector(".nv-layers")?.textContent, sections: box.querySelectorAll(".nv-layer").length,
             prediction: box.querySelector("[role=status]")?.textContent, alert: box.querySelector("[role=alert]"),
             sent };
}"""
AFTER = """([full]) => {
    const box = document.body.firstChild;
    const pad = box.querySelector(".nv-pad-canvas");
    window.__mountAgain(full);
    const ink = (canvas) => canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data
        .reduce((n, v, i) => n + (i % 4 === 0 && v > 0 ? 1 : 0), 0);
    return { samePad: box.querySelector(".nv-pad-canvas") === pad, padInk: ink(pad),
             sections: box.querySelectorAll(".nv-layer").length,
             prediction: box.querySelector("[role=status]")?.textContent };
}"""


def test_the_pad_draws_before_its_network_and_the_network_then_reads_the_drawing(page, good):
    """A server's first visit sends the pad first (LoadingViewData): it draws at once, and the view the
    next rerun gives its network keeps the strokes and computes them."""
    full = data(good)
    loading = LoadingViewData(view="live", loading=True, texts_id=full["texts_id"], texts=full["texts"], mode="draw",
                              hint="")
    shown = page.evaluate(LOADING_THEN_NETWORK, [loading])
    assert shown == {"layers": "Loading the network…", "sections": 0, "prediction": "–", "alert": None, "sent": []}
    box = page.locator(".nv-pad-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.2, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.85, steps=5)
    page.mouse.up()
    after = page.evaluate(AFTER, [{**full, "texts": None}])  # the words came with the pad
    assert after["samePad"] and after["padInk"] > 1000 and after["sections"] >= 6
    assert after["prediction"] in "0123456789" and after["prediction"] != ""  # the drawing, read by the network
    assert page.errors == []
    page.evaluate("async () => (await import('./drawing.js')).keepDrawing([])")
