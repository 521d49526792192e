"""backprop.js under node against torch autograd (quick tier): tests/backprop_reference.py writes
the references to a temporary folder and ``node --test tests/js/backprop.test.mjs`` checks every
case (3 presets, the bundled models, 6 random specs). Skips, saying why, where node is absent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backprop_reference import write_cases
from tests.environment import process_environment

ROOT = Path(__file__).resolve().parents[2]
NODE_TEST = ROOT / "tests" / "js" / "backprop.test.mjs"


def test_backprop_js_equals_torch_autograd_under_node(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JS backward pass is checked in Chromium only")
    paths = write_cases(tmp_path)
    assert len(paths) >= 11
    run = subprocess.run([node, "--test", "--test-reporter=tap", str(NODE_TEST)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env=process_environment({"BACKPROP_CASES": str(tmp_path)}))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    compared = [line for line in run.stdout.splitlines() if line.startswith("ok ") and "equal torch's" in line]
    assert len(compared) == len(paths), run.stdout[-3000:]  # every case ran, none skipped
