"""The live network view in headless Chromium: how fast the maps follow the pen, and what a pen lift and
the unit inspector cost on the websocket.

    python benchmarks/netview_latency.py [--strokes 6] [--port 8631] [--no-3d]

Starts the app on its own port and, on a desktop (1400×1000, mouse) and a phone-sized viewport
(390×844, touch events through CDP), draws strokes on the Feature maps pad: with the 2D view alone,
then on the desktop again with the 3D view open (its "3D" control pressed: "desktop_3d"). Reports:

- pointer move → every map, the fully connected layers and the prediction repainted: the view
  records, in the animation frame that repaints, ``now - event.timeStamp`` for every pointer event
  it coalesced (``window.__netview.latencies``); median, p95 and max;
  and to the start of the next animation frame after that repaint (``shown``: when it is on screen);
- frames the page sent to the server during strokes and at each pen lift (both 0: the drawing
  stays in the browser), and the websocket bytes it received for each pen lift (counted by
  wrapping the page's WebSocket);
- on the desktop, the bytes of a click on a unit (the inspector opens, a fragment rerun) and of a
  pen lift while the inspector is open (it follows the drawing), sent and received.

With the 3D view open the 3D picture is drawn in the same animation frame as the 2D maps (the view's
forward-pass hook), so pointer move → repaint and → next frame then cover both; also reported: the
3D draw calls' own time (``window.__view3d.draws``), and orbiting: a mouse drag of 120 moves over the
3D canvas sent as fast as Playwright can, the frames the view drew per second while it lasted, the gaps
between them, and each draw's time to the next frame.

Writes ``benchmarks/results/netview_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    COUNT_SENT_BYTES,
    PAD,
    start_server,
    stop_server,
    wait_idle,
)

RESULTS = ROOT / "benchmarks" / "results" / "netview_latency.json"
# bytes the page receives on its websockets (Playwright's and CDP's frame events miss some here)
COUNT_RECEIVED_BYTES = """(() => { const Native = window.WebSocket; window.__receivedBytes = 0;
  window.WebSocket = function (...args) { const ws = new Native(...args);
    ws.addEventListener("message", (e) => { window.__receivedBytes += e.data.byteLength ?? e.data.size
      ?? e.data.length ?? 0; }); return ws; };
  window.WebSocket.prototype = Native.prototype; Object.assign(window.WebSocket, Native); })();"""
SETTLE_MS = 2500  # after a pen lift: long enough for any answer to arrive
ONES = ([(110, 75), (145, 50), (145, 235)], [(150, 40), (130, 240)])  # the example on show is a 7: a 1 changes it


def path(points: list[tuple[float, float]], steps: int = 40) -> list[tuple[float, float]]:
    """The strokes' corners joined by ``steps`` moves per segment, as a hand sends them."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        out += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(1, steps + 1)]
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def orbit(page, moves: int = 120) -> dict:
    """Drag across the 3D canvas, the moves sent as fast as Playwright can: frames drawn per second while
    the drag lasts (fewer frames than moves: the drawing is the bottleneck; as many: the input is), the
    gaps between frames, and each draw's own time to the next frame (1000 / it: the frames per second the
    view could keep up)."""
    box = page.locator("canvas.v3d-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.7)
    page.wait_for_timeout(300)
    before = page.evaluate("[window.__view3d.shown.length, window.__view3d.draws.length]")
    page.mouse.down()
    start = page.evaluate("performance.now()")
    for i in range(1, moves + 1):
        page.mouse.move(box["x"] + box["width"] * (0.25 + i * 0.004), box["y"] + box["height"] * (0.7 - i * 0.002))
    page.wait_for_timeout(100)
    end = page.evaluate("performance.now()")
    page.mouse.up()
    frames = [t for t in page.evaluate(f"window.__view3d.shown.slice({before[0]})") if t <= end]
    draws = [d for d in page.evaluate(f"window.__view3d.draws.slice({before[1]})") if d[0] <= end]
    to_frame = [min((t for t in frames if t >= d[1]), default=math.nan) - d[0] for d in draws]
    to_frame = [t for t in to_frame if not math.isnan(t)]
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    return {"moves": moves, "frames": len(frames), "frames_per_s": len(frames) / (end - start) * 1000,
            "frame_gap_ms": {"median": statistics.median(gaps), "p95": percentile(gaps, 95)} if gaps else None,
            "draw_to_next_frame_ms": {"median": statistics.median(to_frame), "p95": percentile(to_frame, 95)}
            if to_frame else None}


def run(browser, base: str, phone: bool, strokes: int, three_d: bool = False) -> dict:
    options = (dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
               if phone else dict(viewport={"width": 1400, "height": 1000}))
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a loaded machine's reruns
    page.add_init_script(COUNT_SENT_BYTES)
    page.add_init_script(COUNT_RECEIVED_BYTES)
    cdp = context.new_cdp_session(page)
    page.goto(base + "/feature_maps")
    pad = page.locator(PAD)
    pad.wait_for()
    wait_idle(page)
    if three_d:
        page.get_by_role("button", name="3D", exact=True).click()
        page.wait_for_function("(window.__view3d?.draws.length ?? 0) > 0")
        page.wait_for_timeout(1000)  # its stylesheet in, the page laid out again
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    k = box["width"] / 280

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * k, box["y"] + y * k

    def touch(kind: str, x: float = 0, y: float = 0) -> None:
        points = [] if kind == "touchEnd" else [dict(zip(("x", "y"), at(x, y)))]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def traffic() -> tuple[int, int]:
        return page.evaluate("window.__sentBytes ?? 0"), page.evaluate("window.__receivedBytes")

    during, at_lift, recv_bytes = [], [], []
    for i in range(strokes):
        if i:
            page.get_by_role("button", name="Clear").click()
            wait_idle(page)
        points = path(ONES[i % 2])
        frames = page.evaluate("window.__sentFrames")
        if phone:
            touch("touchStart", *points[0])
        else:
            page.mouse.move(*at(*points[0]))
            page.mouse.down()
        for x, y in points[1:]:
            if phone:
                touch("touchMove", x, y)
            else:
                page.mouse.move(*at(x, y))
            page.wait_for_timeout(8)  # a hand's pace: about 120 moves a second
        during.append(page.evaluate("window.__sentFrames") - frames)
        received_before = page.evaluate("window.__receivedBytes")
        touch("touchEnd") if phone else page.mouse.up()
        page.wait_for_timeout(SETTLE_MS)
        at_lift.append(page.evaluate("window.__sentFrames") - frames)
        recv_bytes.append(page.evaluate("window.__receivedBytes") - received_before)
    inspector = None if phone else open_inspector(page, traffic)
    latencies = page.evaluate("window.__netview.latencies")
    work = page.evaluate("window.__netview.work")
    shown = page.evaluate("window.__netview.shown")
    extra = {}
    if three_d:
        draws = [end - begin for begin, end in page.evaluate("window.__view3d.draws")]
        extra["view3d_draw_ms"] = {"median": statistics.median(draws), "p95": percentile(draws, 95),
                                   "draws": len(draws)}
        page.locator("canvas.v3d-canvas").scroll_into_view_if_needed()
        extra["orbit"] = orbit(page)
    context.close()
    return {**extra,
        "viewport": options["viewport"], "input": "touch" if phone else "mouse", "pointer_events": len(latencies),
        "move_to_repaint_ms": {"median": statistics.median(latencies), "p95": percentile(latencies, 95),
                               "max": max(latencies)},
        "move_to_next_frame_ms": {"median": statistics.median(shown), "p95": percentile(shown, 95)},
        "frame_work_ms": {"compute_median": statistics.median(w[0] for w in work),
                          "paint_median": statistics.median(w[1] for w in work), "frames": len(work)},
        "frames_sent_during_strokes": during, "frames_sent_per_stroke_with_lift": at_lift,
        "pen_lift_received_bytes": {"median": statistics.median(recv_bytes), "max": max(recv_bytes)},
        "inspector_bytes": inspector,
    }


def open_inspector(page, traffic) -> dict:
    """Click a unit of conv1 (the inspector opens), then draw one more stroke while it is open:
    the bytes each sends and receives, once the page is idle again."""
    before = traffic()
    unit = page.locator("canvas.nv-map-canvas[data-layer=conv1]").first
    unit.scroll_into_view_if_needed()
    box = unit.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("The network computed").wait_for()
    wait_idle(page)
    page.wait_for_timeout(SETTLE_MS)
    click = [b - a for a, b in zip(before, traffic())]
    pad = page.locator(PAD)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    k = box["width"] / 280
    before = traffic()
    page.mouse.move(box["x"] + 60 * k, box["y"] + 200 * k)
    page.mouse.down()
    page.mouse.move(box["x"] + 220 * k, box["y"] + 200 * k, steps=20)
    page.mouse.up()
    wait_idle(page)
    page.wait_for_timeout(SETTLE_MS)
    lift = [b - a for a, b in zip(before, traffic())]
    return {"click_sent": click[0], "click_received": click[1], "lift_sent": lift[0], "lift_received": lift[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=6)
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--no-3d", dest="three_d", action="store_false", help="the 2D view alone")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = start_server(args.port)
    results = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            runs = [(False, False), (True, False)] + ([(False, True)] if args.three_d else [])
            for phone, three_d in runs:
                name = ("phone" if phone else "desktop") + ("_3d" if three_d else "")
                print(f"{name}…", file=sys.stderr, flush=True)
                results[name] = run(browser, f"http://127.0.0.1:{args.port}", phone, args.strokes, three_d)
            browser.close()
    finally:
        stop_server(server)
    for name, r in results.items():
        m, b, inspector = r["move_to_repaint_ms"], r["pen_lift_received_bytes"], r["inspector_bytes"]
        work = r["frame_work_ms"]
        print(f"{name:8} {r['input']:5} {r['pointer_events']:5} moves: move→repaint median {m['median']:.1f} ms, "
              f"p95 {m['p95']:.1f} ms, max {m['max']:.1f} ms; to the next frame p95 "
              f"{r['move_to_next_frame_ms']['p95']:.1f} ms (in a frame: preprocess+forward "
              f"{work['compute_median']:.1f} ms, paint {work['paint_median']:.1f} ms) | frames sent during strokes "
              f"{r['frames_sent_during_strokes']}, with lift {r['frames_sent_per_stroke_with_lift']} | "
              f"pen lift bytes received median {b['median']:.0f} (max {b['max']:.0f})"
              + (f" | inspector: click sent {inspector['click_sent']} B, received {inspector['click_received']} B; "
                 f"pen lift while open sent {inspector['lift_sent']} B, received {inspector['lift_received']} B"
                 if inspector else ""))
        if "view3d_draw_ms" in r:
            d = r["view3d_draw_ms"]
            print(f"{'':8} 3D draw calls median {d['median']:.1f} ms, p95 {d['p95']:.1f} ms ({d['draws']} draws)")
        if r.get("orbit"):
            o = r["orbit"]
            nan = {"median": math.nan, "p95": math.nan}
            gap, cost = o["frame_gap_ms"] or nan, o["draw_to_next_frame_ms"] or nan
            print(f"{'':8} orbit: {o['frames']} frames for {o['moves']} moves, {o['frames_per_s']:.1f} frames/s, "
                  f"gap median {gap['median']:.1f} ms, p95 {gap['p95']:.1f} ms; a draw to the next frame median "
                  f"{cost['median']:.1f} ms, p95 {cost['p95']:.1f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "netview_latency", "date": time.strftime("%Y-%m-%d %H:%M"),
                                   "machine": {"platform": platform.platform(), "python": platform.python_version()},
                                   "results": results}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
