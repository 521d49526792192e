"""The Teach page in headless Chromium: how fast drawn symbols train in the page, how well the taught
network reads new drawings, whether the pad stays smooth while the worker trains, and that none of it
talks to the server.

    python benchmarks/teach.py [--per-class 8] [--test-per-class 10] [--port 8652]

Starts the app on its own port, opens Teach (en-US, 1400×1000), names three classes (一 ○ ×,
tests/browser/teach_support.py) and draws ``--per-class`` examples of each with the mouse, then
presses Train with the page's defaults (the bundled digits model with a new last layer, all layers,
Adam lr 0.001, 10 epochs, 25% held out). Reports:

- Train pressed → the first epoch at ≥ 95% on the training drawings (the page's clock: the progress
  the worker posts, ``window.__teach.progress``), and → the whole run done;
- the held-out share's accuracy at the end of the run, and ``--test-per-class`` new drawings per
  class read by the live view's Prediction afterwards;
- pointer move → the frame that shows it (``window.__teach.latencies``) while a run trains: the first
  run (the pad alone) and a second, longer one that trains on while the live view of the taught network
  follows the pen (then Stop);
- websocket frames the page sent while drawing and training (must be 0).

Writes ``benchmarks/results/teach.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNT_SENT_FRAMES,
    sent_frames,
    start_server,
    stop_server,
    wait_idle,
)
from tests.browser.teach_support import SYMBOLS, draw_strokes, pad, symbol_strokes, teach_classes  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "teach.json"
STATUS = "[role=status][aria-label='Training status']"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def wait_trained(page, timeout_s: float = 300) -> str:
    """The Training status once a run is over (it starts with Trained or Stopped)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = page.locator(STATUS).text_content() or ""
        if text.startswith(("Trained", "Stopped", "The loss blew up")):
            return text
        page.wait_for_timeout(100)
    raise TimeoutError("the run did not end")


def latencies_while(page, draw) -> dict:
    """Pointer → frame latencies (ms) of the strokes ``draw`` makes (while a run trains)."""
    page.evaluate("window.__teach.latencies = []")
    draw()
    values = page.evaluate("window.__teach.latencies")
    return {"n": len(values), "median": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1),
            "max": round(max(values, default=float("nan")), 1)}


def scribble(page, rng: random.Random, strokes: int) -> None:
    for _ in range(strokes):
        draw_strokes(page, symbol_strokes(rng.choice(SYMBOLS), rng), steps=12)
    page.get_by_role("button", name="Clear pad").click()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--test-per-class", type=int, default=10)
    parser.add_argument("--port", type=int, default=8652)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = start_server(args.port)
    result: dict = {"machine": f"{platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
                    "per_class": args.per_class}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")
            page.add_init_script(COUNT_SENT_FRAMES)
            page.goto(f"http://127.0.0.1:{args.port}/teach")
            wait_idle(page)
            pad(page).wait_for(timeout=60_000)
            frames = sent_frames(page)
            teach_classes(page, args.per_class, seed=1)
            rng = random.Random(2)

            page.get_by_role("button", name="Train", exact=True).click()
            first = latencies_while(page, lambda: scribble(page, rng, 3))
            status = wait_trained(page)
            run = page.evaluate("window.__teach")
            pressed = run["trainPressedAt"]
            at95 = next((e for e in run["progress"] if e["trainAcc"] >= 0.95), None)
            last = run["progress"][-1]
            result["first run"] = {
                "status": status, "epochs": len(run["progress"]),
                "train >= 95% after (s, Train pressed)":
                    None if at95 is None else round((at95["at"] - pressed) / 1000, 2),
                "train >= 95% at epoch": None if at95 is None else at95["epoch"],
                "whole run (s, Train pressed)": round((last["at"] - pressed) / 1000, 2),
                "train acc": last["trainAcc"], "held-out acc (share of the drawings)": last["heldAcc"],
                "pointer->frame while training (ms)": first,
            }

            right, total = 0, 0
            for _ in range(args.test_per_class):
                for symbol in SYMBOLS:
                    page.get_by_role("button", name="Clear pad").click()
                    draw_strokes(page, symbol_strokes(symbol, rng))
                    page.wait_for_timeout(50)
                    right += page.get_by_role("status", name="Prediction").text_content() == symbol
                    total += 1
            page.get_by_role("button", name="Clear pad").click()
            result["new drawings read right"] = {"right": right, "of": total, "accuracy": round(right / total, 3)}

            page.get_by_label("Epochs").fill("200")  # a long run, to draw while it trains on with the live view
            page.get_by_role("button", name="Train", exact=True).click()
            page.wait_for_timeout(500)
            second = latencies_while(page, lambda: scribble(page, rng, 4))
            page.get_by_role("button", name="Stop").click()
            result["second run (train on, live view following the pen)"] = {
                "status": wait_trained(page),
                "pointer->frame while training (ms)": second,
            }
            result["websocket frames sent while drawing and training"] = sent_frames(page) - frames
            browser.close()
    finally:
        stop_server(server)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
