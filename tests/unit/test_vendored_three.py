"""The vendored three.js (lenet_viz/netview/vendor/three) is the version package.json pins, with its licence.

Where node and ``node_modules`` are installed (``npm ci``), the copy must also be byte for byte what
``npm run vendor`` writes from them (tools/vendor_three.mjs --check).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "lenet_viz" / "netview" / "vendor" / "three"


def pinned() -> str:
    return json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["three"]


def test_three_is_pinned_to_an_exact_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned()), pinned()
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/three"]["version"] == pinned()


def test_the_vendored_files_are_the_pinned_version_with_its_licence():
    revision = re.search(r"const REVISION = '(\d+)';", (VENDOR / "three.core.js").read_text(encoding="utf-8"))
    assert revision and revision.group(1) == pinned().split(".")[1]
    assert "three.js authors" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert f"three.js {pinned()}" in (VENDOR / "README.md").read_text(encoding="utf-8")
    # a browser cannot resolve a bare 'three' import: every import is relative
    for name in ("three.module.js", "OrbitControls.js"):
        imports = re.findall(r"^\}? ?from '([^']+)';|^import .* from '([^']+)';", (VENDOR / name).read_text(
            encoding="utf-8"), re.MULTILINE)
        assert imports and all(spec.startswith("./") for pair in imports for spec in pair if spec), (name, imports)


def test_the_vendored_copy_matches_node_modules():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    if not (ROOT / "node_modules" / "three").is_dir():
        pytest.skip("node_modules/three is not installed (npm ci)")
    done = subprocess.run([node, "tools/vendor_three.mjs", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
