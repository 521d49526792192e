"""Training replay: milliseconds from a slider move to the repainted view, in headless Chromium.

    python benchmarks/replay_latency.py [--checkpoint run.pt] [--moves 200] [--phone]

Starts the app, opens Training replay (uploading ``--checkpoint`` when given; else the bundled
digit model must carry snapshots), then moves the slider to random snapshots. The page stamps
each move (``performance.now()`` in the input handler) and the end of the repaint it triggers
(``requestAnimationFrame`` callback after every layer, chart and bar is drawn): those times are in
``globalThis.__replay.latencies``. Also counts websocket frames sent while scrubbing (should be 0).
Writes ``benchmarks/results/replay_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import CHROMIUM_ARGS, free_port, start_server, stop_server, wait_idle  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(base_url: str, checkpoint: Path | None, moves: int, viewport: dict) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport)
        page.set_default_timeout(120_000)
        frames = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda _: frames.append(1)))
        page.goto(base_url + "/replay")
        wait_idle(page)
        if checkpoint:
            page.get_by_text("Upload a checkpoint (.pt)").click()
            page.locator("input[type=file]").set_input_files(str(checkpoint))
            wait_idle(page)
        slider = page.locator("input.rp-slider")
        slider.wait_for()
        page.wait_for_function("() => Number(globalThis.__replay?.paints) > 0")
        last = int(slider.get_attribute("max"))
        page.evaluate("() => { globalThis.__replay.latencies = []; }")
        sent = len(frames)
        rng = random.Random(0)
        for _ in range(moves):
            slider.fill(str(rng.randint(0, last)))
            page.wait_for_timeout(30)
        page.wait_for_timeout(500)
        latencies = page.evaluate("() => globalThis.__replay.latencies")
        browser.close()
    return {"viewport": viewport, "snapshots": last + 1, "moves": moves, "repaints": len(latencies),
            "median_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
            "max_ms": max(latencies), "frames_sent_while_scrubbing": len(frames) - sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint with snapshots to upload")
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--phone", action="store_true", help="also on a 390×844 viewport")
    args = parser.parse_args()
    viewports = [{"width": 1400, "height": 1000}] + ([{"width": 390, "height": 844}] if args.phone else [])
    proc = start_server(free_port())
    base = f"http://127.0.0.1:{proc.args[proc.args.index('--server.port') + 1]}"
    try:
        rows = [measure(base, args.checkpoint, args.moves, viewport) for viewport in viewports]
    finally:
        stop_server(proc)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for row in rows:
        v = row["viewport"]
        print(f"{v['width']}×{v['height']}: {row['snapshots']} snapshots, {row['moves']} moves → {row['repaints']} "
              f"repaints; slider move → repaint median {row['median_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
              f"max {row['max_ms']:.1f} ms; frames sent while scrubbing: {row['frames_sent_while_scrubbing']}")
    out = ROOT / "benchmarks" / "results" / "replay_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
