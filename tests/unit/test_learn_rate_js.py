"""The learning rate Learn from this suggests (lenet_viz/netview/backprop.js suggestLearningRate), under
node on the bundled models: tests/learn_cases.py writes them, their samples and confident inputs to a
temporary folder, and ``node --test tests/js/learn_rate.test.mjs`` checks that Step at the suggested
rate makes the network say a new True label within 3 presses without wrecking the samples. Skips,
saying why, where node or the bundled models are absent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lenet_viz.model_store import bundled_models
from tests.environment import process_environment
from tests.learn_cases import write_learn_cases

ROOT = Path(__file__).resolve().parents[2]
NODE_TEST = ROOT / "tests" / "js" / "learn_rate.test.mjs"


@pytest.mark.skipif(len(bundled_models()) < 2, reason="the bundled models are not in assets/models yet")
def test_the_suggested_rate_turns_confident_inputs_within_three_steps_under_node(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    assert len(write_learn_cases(tmp_path)) == 2
    run = subprocess.run([node, "--test", "--test-reporter=tap", str(NODE_TEST)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env=process_environment({"LEARN_CASES": str(tmp_path)}))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# skipped 0" in run.stdout and "# fail 0" in run.stdout, run.stdout[-3000:]  # the bundled cases ran
