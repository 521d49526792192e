"""App start: seconds from ``streamlit run streamlit_app.py`` to a page rendered in headless Chromium.

    python benchmarks/app_start.py [--runs 3] [--page feature_maps --ready-text "Draw a digit on the"]
    python benchmarks/app_start.py --then "Feature maps"    # and the first switch to that page
    python benchmarks/app_start.py --deep-links             # /output_size and /feature_maps, opened first
    python benchmarks/app_start.py --deep-links --roots /tmp/before .   # two checkouts, runs interleaved

Each run starts a fresh server on a free port, waits until it answers its health check (a server
nobody has visited yet), opens the page in headless Chromium and waits until its ready text (or
``--ready-selector``) is drawn, and stops the server. It reports both the time from ``streamlit run``
(``start_s``) and from opening the URL on the fresh server (``open_s``: what a visitor of a deep link
waits, in a browser tab already open; until 2026-12-06 it also counted opening a new tab, 0.2–0.7 s
here). ``--deep-links`` measures the two deep links of issue 21: ``/output_size`` to its first slider
and ``/feature_maps`` to the drawing pad (``canvas[aria-label="Drawing pad"]``), and Home (``/``)
as the floor: a page that waits for nothing. With ``--roots``
the runs alternate between checkouts (before/after on a loaded machine). With ``--then``, it waits
``--pause`` seconds (a visitor reading the first page), clicks that page in the sidebar and times it
until ``--then-ready-text`` is drawn. Writes ``benchmarks/results/app_start.json``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class Target:
    """A page to open first, and what on it means 'ready': a text, or a CSS selector."""

    path: str
    ready_text: str | None = None
    ready_selector: str | None = None

    @property
    def name(self) -> str:
        return f"/{self.path}"

    def locator(self, page):
        return page.locator(self.ready_selector) if self.ready_selector else page.get_by_text(self.ready_text)


DEEP_LINKS = (Target("", ready_text="lenet-viz"),  # Home, which waits for nothing: the floor to compare with
              Target("output_size", ready_selector="[data-testid='stSlider']"),
              Target("feature_maps", ready_selector="canvas[aria-label='Drawing pad']"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, start: float) -> None:
    """Until the fresh server answers its health check."""
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.perf_counter() - start > 60:
            raise TimeoutError("the app did not answer within 60 s")
        time.sleep(0.05)


def one_run(browser, root: Path, target: Target, then: str | None, then_ready: str, pause: float) -> dict:
    port = free_port()
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")  # the visitor's tab
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, start)
        listening = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/{target.path}", timeout=60_000)
        target.locator(page).first.wait_for(timeout=60_000)
        ready = time.perf_counter()
        times = {"listening_s": listening - start, "open_s": ready - listening, "start_s": ready - start}
        if then:
            time.sleep(pause)
            clicked = time.perf_counter()
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=then, exact=True).click()
            page.get_by_text(then_ready).first.wait_for(timeout=60_000)
            times["switch_s"] = time.perf_counter() - clicked
        return times
    finally:
        page.close()
        server.terminate()
        server.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--page", default="", help="URL path of the page, e.g. feature_maps (default: home)")
    p.add_argument("--ready-text", default="lenet-viz", help="text whose appearance means 'rendered'")
    p.add_argument("--ready-selector", help="a CSS selector whose appearance means 'rendered' (instead of the text)")
    p.add_argument("--deep-links", action="store_true", help="measure /output_size and /feature_maps opened first")
    p.add_argument("--roots", nargs="+", type=Path, default=[ROOT], help="checkouts to run, interleaved")
    p.add_argument("--then", help="a page to switch to afterwards, by its sidebar label, e.g. 'Feature maps'")
    p.add_argument("--then-ready-text", default="Draw a digit on the black", help="that page's ready text")
    p.add_argument("--pause", type=float, default=3.0, help="seconds on the first page before switching")
    args = p.parse_args()
    targets = DEEP_LINKS if args.deep_links else (Target(args.page, args.ready_text, args.ready_selector),)
    from playwright.sync_api import sync_playwright

    runs: dict[tuple[str, str], list[dict]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(args.runs):  # interleaved: each round runs every checkout on every target once
            for target in targets:
                for root in args.roots:
                    times = one_run(browser, root.resolve(), target, args.then, args.then_ready_text, args.pause)
                    runs.setdefault((str(root), target.name), []).append(times)
        browser.close()
    report = []
    for (root, name), times in runs.items():
        entry = {"root": root, "page": name, "then": args.then, "runs": times}
        for key in ("start_s", "open_s", "switch_s"):
            if key in times[0]:
                values = [t[key] for t in times]
                entry[f"median_{key}"] = statistics.median(values)
                print(f"{root} {name} {key}: median {statistics.median(values):.2f} s over {len(values)} runs "
                      f"({', '.join(f'{v:.2f}' for v in values)})")
        report.append(entry)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app_start.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
