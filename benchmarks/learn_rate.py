"""Learn from this's suggested learning rate (lenet_viz/netview/backprop.js suggestLearningRate):
how many Steps it takes to make the network say a new True label, and what those steps do to the
bundled samples' accuracy.

    python benchmarks/learn_rate.py

Writes each bundled model, its samples and the inputs to re-label (tests/learn_cases.py: the samples
of class 7 and three drawn sevens) to a temporary folder and runs ``node benchmarks/learn_rate.mjs``
on them: every input the model reads with p ≥ 0.9, re-labelled as each other class, stepped as the
page's Step does (plain SGD on that one input's cross-entropy, at the suggested rate) until the
network says the label (at most 30 steps), by the rule before 2026-12-06 and by the current one.
Deterministic: the counts do not depend on the machine's load (the suggestion's milliseconds do).
Writes ``benchmarks/results/learn_rate.json``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.learn_cases import write_learn_cases  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "learn_rate.json"


def main() -> int:
    node = shutil.which("node")
    if node is None:
        print("node is not installed", file=sys.stderr)
        return 1
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        if not write_learn_cases(Path(folder)):
            print("no bundled model with samples in assets/", file=sys.stderr)
            return 1
        script = ROOT / "benchmarks" / "learn_rate.mjs"
        return subprocess.run([node, str(script), folder, str(RESULTS)], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
