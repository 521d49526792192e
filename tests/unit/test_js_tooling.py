"""The in-browser views' JS held to the Python side's standard: its node unit tests (tests/js/, fed
payloads and drawings that Python writes here, with torch's and lenet_viz.preprocess's results),
ESLint and TypeScript's checkJs. Each skips, saying why, where node or the npm dev tools
(``npm ci``, as the README's test command runs it) are missing."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lenet_viz.models import PRESETS, ConvBlock, LeNetSpec, build_model, forward_all
from lenet_viz.netview_payload import PAYLOAD_VERSION, model_payload
from lenet_viz.preprocess import FASHION_FILL, MNIST_FILL, mnist_style
from tests.environment import process_environment

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
TOOLS = ROOT / "node_modules" / ".bin"
FED = ("tests/js/payload.test.mjs", "tests/js/lenet.test.mjs", "tests/js/preprocess.test.mjs")  # read our fixtures
PLAIN = ("tests/js/draw.test.mjs",)  # need nothing from Python but the catalogues
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (the JS unit tests need Node 20+)")
needs_tools = pytest.mark.skipif(
    not (TOOLS / "eslint").exists() or not (TOOLS / "tsc").exists(),
    reason="the npm dev tools are not installed: run `npm ci` (the README's test command does)")


def _network_case(name: str, spec: LeNetSpec, seed: int, dtype: str = "float32", sets: int = 1) -> dict:
    """A good payload and torch's output of every layer for two inputs, on its last weight set."""
    torch.manual_seed(seed)
    states = [build_model(spec).state_dict() for _ in range(sets)]
    if dtype == "float16":
        states = [{k: v.half() for k, v in state.items()} for state in states]
    model = build_model(spec).eval()
    model.load_state_dict({k: v.float() for k, v in states[-1].items()})
    rng = np.random.default_rng(seed)
    inputs = [rng.random((spec.in_channels, spec.input_size, spec.input_size), dtype=np.float32) for _ in range(2)]
    outputs = []
    with torch.no_grad():
        for x in inputs:
            layers = forward_all(model, torch.from_numpy(x)[None])
            outputs.append({layer: out[0].flatten().tolist() for layer, out in layers})
    return {"name": name, "expect": "ok", "payload": model_payload(spec, states, dtype=dtype),
            "inputs": [x.ravel().tolist() for x in inputs], "outputs": outputs, "set_index": sets - 1}


def _bad_cases(good: dict) -> list[dict]:
    """Payloads the view must refuse with a message: newer, unknown version, truncated blob, broken shapes."""
    blob = base64.b64decode(good["weight_sets"][0])
    cut = {**good, "weight_sets": [base64.b64encode(blob[: len(blob) // 2]).decode()]}
    return [
        {"name": "newer", "expect": "payload_newer", "payload": {**good, "version": PAYLOAD_VERSION + 1}},
        {"name": "no version", "expect": "payload_malformed",
         "payload": {k: v for k, v in good.items() if k != "version"}},
        {"name": "truncated", "expect": "payload_truncated", "payload": cut},
        {"name": "no layers", "expect": "payload_malformed", "payload": {**good, "layers": []}},
        {"name": "garbage", "expect": "payload_malformed", "payload": "not a payload"},
    ]


def _drawing_cases() -> list[dict]:
    """Gray drawings and what lenet_viz.preprocess.mnist_style makes of them (None: blank)."""
    cases = []
    for name, lines, width, size, fill in (("seven", [(70, 60), (210, 60), (120, 240)], 20, 28, MNIST_FILL),
                                           ("one, fashion fill", [(140, 40), (140, 240)], 20, 28, FASHION_FILL),
                                           ("thin bar, 32", [(40, 200), (250, 180)], 6, 32, MNIST_FILL),
                                           ("blank", [], 20, 28, MNIST_FILL)):
        img = Image.new("L", (280, 280), 0)
        if lines:
            ImageDraw.Draw(img).line(lines, fill=255, width=width)
        gray = np.asarray(img)
        prepared = mnist_style(gray, size, fill)
        expected = None if prepared is None else {"bbox": list(prepared.bbox), "offset": list(prepared.offset),
                                                  "image": prepared.image.ravel().tolist()}
        cases.append({"name": name, "width": 280, "height": 280, "gray": gray.ravel().tolist(), "size": size,
                      "fill": fill, "expected": expected})
    return cases


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("js-fixtures")
    custom = LeNetSpec(conv=(ConvBlock(4, 3, stride=2, padding=1, pool="avg"), ConvBlock(5, 2, pool="none")),
                       hidden=(7,), activation="tanh", in_channels=3, input_size=20, num_classes=4)
    good = [_network_case("modern", PRESETS["modern"], 1), _network_case("classic, float16 snapshots",
                                                                          PRESETS["classic"], 2, "float16", 3),
            _network_case("custom", custom, 3)]
    (folder / "payloads.json").write_text(json.dumps(good + _bad_cases(good[0]["payload"])))
    (folder / "preprocess.json").write_text(json.dumps(_drawing_cases()))
    return folder


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=process_environment(env))


@needs_node
def test_node_unit_tests_pass_on_pythons_payloads_and_drawings(fixtures):
    result = _run([NODE, "--test", "--test-reporter=tap", *FED, *PLAIN], LENET_VIZ_JS_FIXTURES=str(fixtures))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# skipped 0" in result.stdout and "# fail 0" in result.stdout  # the Python-fed tests ran too


@needs_tools
def test_eslint_is_clean():
    result = _run([str(TOOLS / "eslint"), "."])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@needs_tools
def test_the_js_type_checks():
    result = _run([str(TOOLS / "tsc"), "-p", "jsconfig.json"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
