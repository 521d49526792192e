"""The Teach page's pure JS modules under node (quick tier): ``tests/js/teach.test.mjs``, the zip the
page's Download writes (teach-zip.js) read back by the server's reader of uploads (lenet_viz.teach),
and the drawings Save sends (teach-net.js keptExamples) kept in the checkpoint the server makes.
Skips, saying why, where node is absent."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lenet_viz import teach
from lenet_viz.checkpoints import load_checkpoint
from tests.unit.test_teach import report

ROOT = Path(__file__).resolve().parents[2]
WRITE_ZIP = """
import { writeFileSync } from "node:fs";
import { grayPng, zipFiles } from "./lenet_viz/netview/teach-zip.js";
const image = (k) => Uint8Array.from({ length: 784 }, (_, i) => (i * k) % 256);
const files = [1, 2, 3].map((k) => ({ name: `images/000${k}.png`, bytes: grayPng(image(k), 28, 28) }));
const labels = { format: "FORMAT", classes: ["一", "△"], examples: [{ file: "images/0001.png", class: "一" },
  { file: "images/0002.png", class: "△" }, { file: "images/0003.png", class: "一" }] };
files.push({ name: "labels.json", bytes: new TextEncoder().encode(JSON.stringify(labels)) });
writeFileSync(process.argv[1], zipFiles(files));
"""


KEPT = """
import { keptExamples } from "./lenet_viz/netview/teach-net.js";
const examples = Array.from({ length: 9 }, (_, i) => ({ id: 20 - i, label: i % 3,
  image: Uint8Array.from({ length: 784 }, (_, k) => (k * (i + 1)) % 256) }));
console.log(JSON.stringify(keptExamples(examples, new Set([20, 16]), 28)));
"""


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the Teach page's modules are checked in Chromium only")
    return path


def test_teach_modules_pass_their_node_tests():
    run = subprocess.run([node(), "--test", "--test-reporter=tap", "tests/js/teach.test.mjs"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_the_zip_the_page_downloads_is_the_zip_the_server_restores(tmp_path):
    out = tmp_path / "examples.zip"
    script = WRITE_ZIP.replace("FORMAT", teach.FORMAT)
    run = subprocess.run([node(), "--input-type=module", "-e", script, str(out)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    examples = teach.read_examples_zip(out.read_bytes())
    assert examples.classes == ("一", "△") and examples.labels.tolist() == [0, 1, 0]
    for k, image in zip((1, 2, 3), examples.images, strict=True):
        np.testing.assert_array_equal(image.ravel(), (np.arange(784) * k) % 256)


def test_the_drawings_save_sends_are_the_drawings_the_checkpoint_keeps():
    run = subprocess.run([node(), "--input-type=module", "-e", KEPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    kept = load_checkpoint(teach.taught_checkpoint(report(examples=json.loads(run.stdout))[1])).examples
    assert kept.labels.tolist() == [0, 1, 2] * 3
    assert kept.held_out.tolist() == [True, False, False, False, True, False, False, False, False]  # ids 20, 16
    for i, image in enumerate(kept.images.numpy()):
        np.testing.assert_array_equal(image.ravel(), (np.arange(784) * (i + 1)) % 256)
