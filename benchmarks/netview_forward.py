"""lenet.js in headless Chromium: milliseconds per forward pass and per preprocessing of a drawing.

    python benchmarks/netview_forward.py [--runs 500]

For each network (the bundled models and the presets with random weights) it times
``LeNet.forward`` on fixed inputs after a warm-up, and ``LeNet.preprocess`` of a 280×280 RGBA
drawing (the pad's size); prints median and p95 and writes ``benchmarks/results/netview_forward.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet_viz.checkpoints import load_checkpoint  # noqa: E402
from lenet_viz.model_store import bundled_models  # noqa: E402
from lenet_viz.models import PRESETS, build_model  # noqa: E402
from lenet_viz.netview_payload import model_payload  # noqa: E402
from tests.browser.support import load_netview_modules  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TIME_JS = """([payload, runs]) => {
    const net = LeNet.net(LeNet.decode(payload));
    const [c, h, w] = payload.layers[0].input_shape;
    const pixel = (k, i) => ((i * 7919 + k * 104729) % 255) / 255;
    const inputs = Array.from({length: 8}, (_, k) => Float32Array.from({length: c * h * w}, (_, i) => pixel(k, i)));
    for (let i = 0; i < 50; i++) LeNet.forward(net, inputs[i % 8]);
    const times = [];
    for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        LeNet.forward(net, inputs[i % 8]);
        times.push(performance.now() - t0);
    }
    return times;
}"""

PREPROCESS_JS = """(runs) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 280;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "black"; ctx.fillRect(0, 0, 280, 280);
    ctx.strokeStyle = "white"; ctx.lineWidth = 18; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(80, 60); ctx.lineTo(200, 60); ctx.lineTo(120, 235); ctx.stroke();
    const times = [];
    for (let i = 0; i < runs + 20; i++) {
        const t0 = performance.now();
        const rgba = ctx.getImageData(0, 0, 280, 280).data;
        LeNet.preprocess(rgba, 280, 280);
        if (i >= 20) times.push(performance.now() - t0);
    }
    return times;
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def networks() -> list[tuple[str, dict]]:
    found = []
    for bundled in bundled_models():
        checkpoint = load_checkpoint(bundled.path)
        found.append((f"bundled {bundled.key} ({bundled.path.name})",
                      model_payload(checkpoint.spec, [checkpoint.model.state_dict()])))
    for name, spec in PRESETS.items():
        torch.manual_seed(0)
        found.append((f"preset {name}", model_payload(spec, [build_model(spec).state_dict()])))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        load_netview_modules(page)  # the app's ES modules, imported by URL as the component does
        for name, payload in networks():
            times = page.evaluate(TIME_JS, [payload, args.runs])
            rows.append({"what": f"forward, {name}", "median_ms": percentile(times, 0.5),
                         "p95_ms": percentile(times, 0.95)})
        times = page.evaluate(PREPROCESS_JS, args.runs // 5)
        rows.append({"what": "getImageData + preprocess, 280×280 drawing", "median_ms": percentile(times, 0.5),
                     "p95_ms": percentile(times, 0.95)})
        browser.close()
    print(f"{'':<58} {'median ms':>10} {'p95 ms':>8}   (load 1 min: {os.getloadavg()[0]:.1f})")
    for row in rows:
        print(f"{row['what']:<58} {row['median_ms']:>10.3f} {row['p95_ms']:>8.3f}")
    out = ROOT / "benchmarks" / "results" / "netview_forward.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": args.runs, "load": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
