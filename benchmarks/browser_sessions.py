"""Several Chromium sessions drawing on Feature maps at once, on one app server.

    python benchmarks/browser_sessions.py [--sessions 8] [--port 8702]

Starts the app on its own port and opens ``--sessions`` browser contexts (each its own session and
renderer) on Feature maps. Then all of them at once draw two strokes on the pad at a hand's pace,
and each clicks a unit of conv1, which opens the unit inspector (the one thing on this page that
still asks the server: a fragment rerun). Reports, per session and over all of them:

- pointer move → repainted (the view's own measure, ``window.__netview.latencies``), median and p95;
- websocket frames each page sent while drawing and at its pen lifts (the drawing stays in the
  browser, so a pen lift has nothing to wait for);
- click on a unit → the inspector's first words on screen, for every session clicking at once, and
  → the server's last message of that answer received (the rest is the page drawing the inspector:
  its Plotly and KaTeX code, fetched and compiled by each browser on its first click).

Writes ``benchmarks/results/browser_sessions.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.netview_latency import ONES, path, percentile  # noqa: E402
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, COUNT_SENT_FRAMES, PAD, start_server, stop_server  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "browser_sessions.json"
INSPECTOR_READY = "The network computed"
# When the page last received a websocket message (performance.now()), to tell the server's answer
# from the page's drawing of it.
STAMP_MESSAGES = """window.__lastMessageAt = 0;
window.WebSocket = class extends window.WebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", () => { window.__lastMessageAt = performance.now(); });
  }
};"""


async def open_feature_maps(browser, base: str):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.add_init_script(COUNT_SENT_FRAMES)
    await page.add_init_script(STAMP_MESSAGES)
    await page.goto(base + "/feature_maps")
    await page.locator(PAD).wait_for()
    await page.wait_for_function("window.__netview !== undefined")
    return context, page


async def draw_then_inspect(page, start: asyncio.Event) -> dict:
    """Two strokes, then a click on a unit of conv1: frames sent, and the click's answer time."""
    pad = page.locator(PAD)
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    k = box["width"] / 280
    await start.wait()
    frames = await page.evaluate("window.__sentFrames")
    during = 0
    for stroke in ONES:
        points = path(stroke)
        await page.mouse.move(box["x"] + points[0][0] * k, box["y"] + points[0][1] * k)
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(box["x"] + x * k, box["y"] + y * k)
            await page.wait_for_timeout(8)  # a hand's pace: about 120 moves a second
        during += await page.evaluate("window.__sentFrames") - frames
        await page.mouse.up()
    await page.wait_for_timeout(1000)
    at_lift = await page.evaluate("window.__sentFrames") - frames
    unit = page.locator("canvas.nv-map-canvas[data-layer=conv1]").first
    await unit.scroll_into_view_if_needed()
    ubox = await unit.bounding_box()
    clicked_at = await page.evaluate("performance.now()")
    clicked = time.perf_counter()
    await page.mouse.click(ubox["x"] + ubox["width"] / 2, ubox["y"] + ubox["height"] / 2)
    await page.get_by_text(INSPECTOR_READY).first.wait_for()
    inspector_s = time.perf_counter() - clicked
    await page.wait_for_timeout(500)  # nothing more comes; the last message was the answer's end
    answered_s = (await page.evaluate("window.__lastMessageAt") - clicked_at) / 1000
    latencies = await page.evaluate("window.__netview.latencies")
    return {"frames_sent_during_strokes": during, "frames_sent_with_lifts": at_lift, "inspector_s": inspector_s,
            "server_answered_s": answered_s,
            "moves": len(latencies), "move_to_repaint_ms": {"median": statistics.median(latencies),
                                                             "p95": percentile(latencies, 95)}}


async def measure(base: str, sessions: int) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        opened = [await open_feature_maps(browser, base) for _ in range(sessions)]
        start = asyncio.Event()
        tasks = [asyncio.create_task(draw_then_inspect(page, start)) for _, page in opened]
        await asyncio.sleep(1)
        start.set()
        results = await asyncio.gather(*tasks)
        for context, _ in opened:
            await context.close()
        await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--port", type=int, default=8702)
    args = parser.parse_args()
    server = start_server(args.port)
    load_before = os.getloadavg()[0]
    try:
        results = asyncio.run(measure(f"http://127.0.0.1:{args.port}", args.sessions))
    finally:
        stop_server(server)
    for i, r in enumerate(results, 1):
        m = r["move_to_repaint_ms"]
        print(f"session {i}: {r['moves']} moves, move→repaint median {m['median']:.1f} ms, p95 {m['p95']:.1f} ms; "
              f"frames sent while drawing {r['frames_sent_during_strokes']}, with the lifts "
              f"{r['frames_sent_with_lifts']}; click → inspector {r['inspector_s']:.2f} s "
              f"(server's answer received {r['server_answered_s']:.2f} s)")
    answers = [r["inspector_s"] for r in results]
    served = [r["server_answered_s"] for r in results]
    p95s = [r["move_to_repaint_ms"]["p95"] for r in results]
    print(f"{args.sessions} sessions at once (load average {load_before:.1f} before): move→repaint p95 "
          f"{min(p95s):.1f}–{max(p95s):.1f} ms; frames sent while drawing and at the lifts: "
          f"{sum(r['frames_sent_with_lifts'] for r in results)}; click → inspector median "
          f"{statistics.median(answers):.2f} s, slowest {max(answers):.2f} s; the server's answers received "
          f"{min(served):.2f}–{max(served):.2f} s after the clicks")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "browser_sessions", "date": time.strftime("%Y-%m-%d %H:%M"),
                                   "machine": {"platform": platform.platform(), "load_before": load_before},
                                   "sessions": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
