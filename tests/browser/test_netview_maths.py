"""lenet.js in Chromium against torch and lenet_viz.preprocess: every layer of every network kind,
float16 weight sets, unit explanations, and the MNIST-style preprocessing (Pillow's resize ported).

One blank page imports the ES modules (lenet.js, preprocess.js) for the whole module; Python sends
payloads and pixels, the page answers with plain lists.
"""

from __future__ import annotations

import base64
import random

import numpy as np
import pytest
import torch

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.models import (
    ACTIVATIONS,
    PRESETS,
    ConvBlock,
    LeNetSpec,
    SpecError,
    build_model,
    forward_all,
    layer_plan,
    validate_spec,
)
from lenet_viz.netview_payload import model_payload
from lenet_viz.preprocess import FASHION_FILL, MNIST_FILL, mnist_style, rgba_to_gray
from tests.browser.support import chromium, load_netview_modules, module_page  # noqa: F401 (fixture)
from tests.browser.test_browser_digits import DIGITS

TOLERANCE = 1e-4  # float32 sums in another order than torch's

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(module_page):  # noqa: F811
    load_netview_modules(module_page)
    return module_page


def random_specs(count: int, seed: int = 13) -> list[LeNetSpec]:
    """Valid custom networks of every kind: kernels, paddings, strides, activations, pooling, widths."""
    rng = random.Random(seed)
    specs: list[LeNetSpec] = []
    while len(specs) < count:
        blocks = tuple(
            ConvBlock(rng.randint(1, 12), kernel=rng.choice((1, 2, 3, 5, 7)), stride=rng.choice((1, 1, 2, 3)),
                      padding=rng.choice((0, 0, 1, 2, 3)), pool=rng.choice(("avg", "max", "none")),
                      pool_kernel=rng.choice((2, 3)), pool_stride=rng.choice((1, 2, 3)))
            for _ in range(rng.randint(1, 3)))
        spec = LeNetSpec(conv=blocks, hidden=tuple(rng.randint(1, 90) for _ in range(rng.randint(0, 3))),
                         activation=ACTIVATIONS[len(specs) % 3], in_channels=rng.choice((1, 1, 3)),
                         input_size=rng.choice((28, 28, 32, 20)), num_classes=rng.choice((10, 10, 4)))
        try:
            validate_spec(spec)
        except SpecError:
            continue
        specs.append(spec)
    return specs


CUSTOM = random_specs(6)


def js_forward(page, payload: dict, inputs: list[np.ndarray], set_index: int | None = None) -> list[dict]:
    """Each input through lenet.js: every layer's output as a list, the probabilities and prediction."""
    return page.evaluate(
        """([payload, inputs, setIndex]) => {
            const model = LeNet.decode(payload);
            const net = LeNet.net(model, setIndex === null ? undefined : setIndex);
            return inputs.map((x) => {
                const r = LeNet.forward(net, Float32Array.from(x));
                const outputs = {};
                for (const [name, v] of Object.entries(r.outputs)) outputs[name] = Array.from(v);
                return {outputs, shapes: r.shapes, probabilities: Array.from(r.probabilities),
                        prediction: r.prediction};
            });
        }""", [payload, [x.ravel().tolist() for x in inputs], set_index])


def fixed_inputs(spec: LeNetSpec) -> list[np.ndarray]:
    """A uniform-noise input and a sparse bright one (a stroke-like pattern), fixed by a seed."""
    rng = np.random.default_rng(7)
    shape = (spec.in_channels, spec.input_size, spec.input_size)
    sparse = (rng.random(shape) > 0.85).astype(np.float32)
    return [rng.random(shape, dtype=np.float32), sparse]


def assert_parity(page, spec: LeNetSpec, model: torch.nn.Module, inputs: list[np.ndarray], payload: dict,
                  set_index: int | None = None) -> float:
    """Every layer of lenet.js equals torch's within TOLERANCE; returns the worst difference seen."""
    results = js_forward(page, payload, inputs, set_index)
    worst = 0.0
    for x, got in zip(inputs, results):
        with torch.no_grad():
            expected = forward_all(model, torch.from_numpy(x)[None])
        assert list(got["outputs"]) == [name for name, _ in expected]
        for name, tensor in expected:
            want = tensor[0].numpy()
            assert got["shapes"][name] == list(want.shape), name
            diff = float(np.max(np.abs(np.asarray(got["outputs"][name], np.float32) - want.ravel())))
            assert diff <= TOLERANCE, f"{name}: max abs diff {diff:.2e}"
            worst = max(worst, diff)
        probs = torch.softmax(expected[-1][1][0], 0).numpy()
        np.testing.assert_allclose(got["probabilities"], probs, atol=TOLERANCE)
        if np.sort(probs)[-1] - np.sort(probs)[-2] > 1e-4:
            assert got["prediction"] == int(probs.argmax())
    return worst


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_match_torch_in_every_layer(page, preset):
    spec = PRESETS[preset]
    torch.manual_seed(3)
    model = build_model(spec).eval()
    assert_parity(page, spec, model, fixed_inputs(spec), model_payload(spec, [model.state_dict()]))


@pytest.mark.parametrize("key", [m.key for m in bundled_models()])
def test_bundled_models_match_torch_on_samples(page, key):
    bundled = next(m for m in bundled_models() if m.key == key)
    checkpoint = load_checkpoint(bundled.path)
    samples = load_samples(bundled.dataset)
    inputs = fixed_inputs(checkpoint.spec)
    if samples is not None:
        inputs += [(samples.images[i][None] / np.float32(255)).astype(np.float32) for i in range(4)]
    assert_parity(page, checkpoint.spec, checkpoint.model, inputs,
                  model_payload(checkpoint.spec, [checkpoint.model.state_dict()]))


@pytest.mark.parametrize("index", range(len(CUSTOM)))
def test_custom_networks_match_torch_in_every_layer(page, index):
    spec = CUSTOM[index]
    torch.manual_seed(index)
    model = build_model(spec).eval()
    assert_parity(page, spec, model, fixed_inputs(spec), model_payload(spec, [model.state_dict()]))


def test_custom_networks_cover_every_layer_option():
    blocks = [b for s in CUSTOM for b in s.conv]
    assert {s.activation for s in CUSTOM} == set(ACTIVATIONS)
    assert {b.pool for b in blocks} == {"avg", "max", "none"}
    assert {b.stride for b in blocks} > {1} and {b.padding for b in blocks} > {0}
    assert len({b.kernel for b in blocks}) >= 3 and len({s.hidden for s in CUSTOM}) >= 3


def test_float16_weight_sets_decode_exactly_and_each_set_runs(page):
    spec = PRESETS["modern"]
    states = []
    for seed in range(3):
        torch.manual_seed(seed)
        states.append({k: v.half() for k, v in build_model(spec).state_dict().items()})
    payload = model_payload(spec, states, dtype="float16")
    decoded = page.evaluate("(p) => LeNet.decode(p).sets.map((s) => Array.from(s))", payload)
    for flat, state in zip(decoded, states):
        expected = np.concatenate([v.float().numpy().ravel() for v in state.values()])
        np.testing.assert_array_equal(np.asarray(flat, np.float32), expected)
    for index in (0, 2):
        model = build_model(spec).eval()
        model.load_state_dict({k: v.float() for k, v in states[index].items()})
        assert_parity(page, spec, model, fixed_inputs(spec)[:1], payload, index)


def test_float16_special_values(page):
    halves = np.array([0, 1, 0.5, -2, 65504, 6e-8, -0.0, np.inf, 1e-5], np.float16)
    got = page.evaluate("(bits) => bits.map((b) => LeNet.halfToFloat(b))", halves.view(np.uint16).tolist())
    np.testing.assert_array_equal(np.asarray(got, np.float32), halves.astype(np.float32))


def js_explain(page, payload: dict, x: np.ndarray, queries: list[tuple[str, int, int, int]]) -> list[dict]:
    return page.evaluate(
        """([payload, x, queries]) => {
            const net = LeNet.net(LeNet.decode(payload), 0);
            const result = LeNet.forward(net, Float32Array.from(x));
            return queries.map(([layer, map, row, col]) => LeNet.explainUnit(net, result, layer, map, row, col));
        }""", [payload, x.ravel().tolist(), queries])


@pytest.mark.parametrize("spec", [PRESETS["classic"], PRESETS["modern"], CUSTOM[0], CUSTOM[1]],
                         ids=["classic", "modern", "custom0", "custom1"])
def test_explain_unit_recomputes_every_kind_of_unit(page, spec):
    torch.manual_seed(5)
    model = build_model(spec).eval()
    x = fixed_inputs(spec)[0]
    with torch.no_grad():
        outputs = dict(forward_all(model, torch.from_numpy(x)[None]))
    state = model.state_dict()
    rng = np.random.default_rng(1)
    queries = []
    for name, out in outputs.items():
        shape = out.shape[1:]
        for _ in range(3):
            index = [int(rng.integers(0, n)) for n in shape]
            queries.append((name, index[0], *(index[1:] if len(index) == 3 else (0, 0))))
    explained = js_explain(page, model_payload(spec, [state]), x, queries)
    for (name, m, r, c), unit in zip(queries, explained):
        out = outputs[name][0]
        value = float(out[m, r, c] if out.dim() == 3 else out[m])
        assert unit["value"] == pytest.approx(value, abs=TOLERANCE)
        values = np.array([s["value"] for s in unit["sources"]], np.float64)
        kind = unit["kind"]
        if kind in ("conv", "linear"):
            weights = np.array([s["weight"] for s in unit["sources"]], np.float64)
            assert unit["bias"] == pytest.approx(float(state[f"{name}.bias"][m]))
            assert float(weights @ values) + unit["bias"] == pytest.approx(value, abs=TOLERANCE)
        elif kind == "maxpool":
            assert values.max() == pytest.approx(value, abs=1e-6)
        elif kind == "avgpool":
            assert values.mean() == pytest.approx(value, abs=1e-6)
        elif kind in ACTIVATIONS:
            (source,) = values
            f = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}[kind]
            assert float(f(torch.tensor(source))) == pytest.approx(value, abs=1e-6)
        if kind == "conv":
            block, planned = spec.conv[int(name[4:]) - 1], layer_plan(spec)[name]
            cin, size = planned.input_shape[0], planned.input_shape[-1]
            window = unit["window"]
            assert window == {"top": r * block.stride - block.padding, "left": c * block.stride - block.padding,
                              "size": block.kernel}
            inside = [(i, j) for i in range(block.kernel) for j in range(block.kernel)
                      if 0 <= window["top"] + i < size and 0 <= window["left"] + j < size]
            assert len(unit["sources"]) == cin * len(inside)
        assert unit["formula"]


# ---- preprocessing ---------------------------------------------------------------------------

DRAW_JS = """([strokes, width, size, colour, background, outSize = 28, fill = 20 / 28]) => {
    const canvas = document.createElement("canvas");
    canvas.width = size; canvas.height = size;
    const ctx = canvas.getContext("2d");
    if (background) { ctx.fillStyle = background; ctx.fillRect(0, 0, size, size); }
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.lineCap = "round"; ctx.lineJoin = "round";
    for (const stroke of strokes) {
        ctx.beginPath();
        ctx.moveTo(stroke[0][0], stroke[0][1]);
        for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
        ctx.stroke();
    }
    const rgba = ctx.getImageData(0, 0, size, size).data;
    const r = LeNet.preprocess(rgba, size, size, outSize, fill);
    let text = "";
    for (let i = 0; i < rgba.length; i += 8192) text += String.fromCharCode(...rgba.subarray(i, i + 8192));
    return {rgba: btoa(text), result: r && {bbox: r.bbox, offset: r.offset, scaledShape: r.scaledShape,
            image: Array.from(r.image), input: Array.from(r.input)}};
}"""


def drawings() -> list[tuple]:
    """(name, strokes, pen width, canvas size, colour, background[, input size, fill]): the ten
    digits as the app's pad draws them, small, thin, coloured, translucent and off-centre ones, and
    Fashion-MNIST's fill and other input sizes."""
    cases = [(f"digit{d}", strokes, 18, 280, "white", "black") for d, strokes in DIGITS.items()]
    cases += [
        ("tiny-bilinear", [[(100, 100), (108, 104), (104, 112)]], 3, 280, "white", None),
        ("thin-transparent", DIGITS[3], 2, 280, "rgba(255,255,255,0.6)", None),
        ("coloured", DIGITS[5], 11, 280, "#e0a030", "#102040"),
        ("corner", [[(5, 5), (60, 20), (20, 70)]], 9, 280, "white", "black"),
        ("wide-flat", [[(10, 140), (270, 150)]], 6, 280, "white", None),
        ("tall-thin", [[(140, 5), (141, 275)]], 4, 280, "white", None),
        ("small-canvas", [[(10, 10), (40, 50), (12, 60)]], 5, 64, "white", "black"),
        ("fashion-fill", DIGITS[8], 30, 280, "white", "black", 28, FASHION_FILL),
        ("input-32", DIGITS[2], 14, 280, "white", None, 32, MNIST_FILL),
        ("input-20-fashion", DIGITS[0], 20, 280, "white", "black", 20, FASHION_FILL),
    ]
    return cases


def test_preprocessing_matches_the_server_on_drawn_digits(page):
    worst, compared = 0, 0
    for name, strokes, width, size, colour, background, *shape in drawings():
        out_size, fill = shape or (28, MNIST_FILL)
        got = page.evaluate(DRAW_JS, [strokes, width, size, colour, background, out_size, fill])
        rgba = np.frombuffer(base64.b64decode(got["rgba"]), np.uint8).reshape(size, size, 4)
        prepared = mnist_style(rgba_to_gray(rgba), out_size, fill)
        assert prepared is not None and got["result"] is not None, name
        result = got["result"]
        assert tuple(result["bbox"]) == prepared.bbox, name
        assert tuple(result["scaledShape"]) == prepared.scaled.shape, name
        image = np.asarray(result["image"], np.int16).reshape(out_size, out_size)
        diff = int(np.abs(image - prepared.image.astype(np.int16)).max())
        assert diff <= 2, f"{name}: {diff}/255"
        np.testing.assert_allclose(result["input"], prepared.image.ravel() / np.float32(255), atol=2 / 255 + 1e-6)
        worst, compared = max(worst, diff), compared + 1
    print(f"\npreprocessing parity: {compared} drawings, max diff {worst}/255")
    assert compared >= 10


@pytest.mark.parametrize("filter_name, pillow", [("box", "BOX"), ("bilinear", "BILINEAR")])
def test_pillow_resize_is_reproduced_exactly(page, filter_name, pillow):
    """Every pixel, in both pass orders (Pillow 13 shrinks vertically first when the height loses
    more than twice as many pixels as the width) and with one side unchanged."""
    from PIL import Image

    rng = np.random.default_rng(4)
    cases = []
    for index in range(80):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        nh, nw = (int(v) for v in rng.integers(1, 40, 2))
        if index % 8 == 0:
            nh = h  # one pass only
        cases.append((rng.integers(0, 256, (h, w), dtype=np.uint8), nh, nw))
    got = page.evaluate(
        "([cases, f]) => cases.map(([px, h, w, nh, nw]) => Array.from(LeNet.pillowResize(Uint8Array.from(px), w, h,"
        " nw, nh, f)))", [[(img.ravel().tolist(), *img.shape, nh, nw) for img, nh, nw in cases], filter_name])
    vertical_first = 0
    for (img, nh, nw), js in zip(cases, got):
        expected = np.asarray(Image.fromarray(img).resize((nw, nh), getattr(Image.Resampling, pillow)))
        np.testing.assert_array_equal(np.asarray(js, np.uint8).reshape(nh, nw), expected,
                                      err_msg=f"{img.shape} -> {(nh, nw)}")
        vertical_first += int(img.shape[0] - nh > 2 * (img.shape[1] - nw) and nh < img.shape[0])
    assert 10 <= vertical_first <= len(cases) - 10  # both orders were tried


def test_blank_and_faint_drawings_give_null(page):
    assert page.evaluate(DRAW_JS, [[], 10, 100, "white", "black"])["result"] is None
    assert page.evaluate(DRAW_JS, [[], 10, 100, "white", None])["result"] is None
    faint = page.evaluate(DRAW_JS, [[[(10, 10), (80, 80)]], 10, 100, "rgb(12,12,12)", "black"])
    rgba = np.frombuffer(base64.b64decode(faint["rgba"]), np.uint8).reshape(100, 100, 4)
    assert mnist_style(rgba_to_gray(rgba)) is None and faint["result"] is None


def test_bad_calls_raise_clear_errors_and_the_last_set_is_the_default(page):
    spec = PRESETS["classic"]
    states = []
    for seed in range(2):
        torch.manual_seed(seed)
        states.append(build_model(spec).state_dict())
    got = page.evaluate(
        """(payload) => {
            const model = LeNet.decode(payload);
            const tryIt = (f) => { try { f(); return null; } catch (e) { return e.message; } };
            return {
                lastIsDefault: LeNet.net(model) === LeNet.net(model, 1),
                badSet: tryIt(() => LeNet.net(model, 2)),
                badInput: tryIt(() => LeNet.forward(LeNet.net(model), new Float32Array(10))),
                badLayer: tryIt(() => LeNet.explainUnit(LeNet.net(model), LeNet.forward(LeNet.net(model),
                    new Float32Array(784)), "conv9", 0, 0, 0)),
            };
        }""", model_payload(spec, states))
    assert got == {"lastIsDefault": True, "badSet": "no weight set 2", "badInput": "the input needs 784 values, got 10",
                   "badLayer": "no layer conv9"}
