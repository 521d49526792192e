"""App start: seconds from ``streamlit run streamlit_app.py`` to the home page rendered in Chromium.

    python benchmarks/app_start.py [--runs 3] [--page feature_maps --ready-text "Draw a digit on the"]
    python benchmarks/app_start.py --then "Feature maps"    # and the first switch to that page

Each run starts a fresh server on a free port, polls the page in headless Chromium until its
ready text is drawn, and stops the server. With ``--then``, it waits ``--pause`` seconds (a
visitor reading the first page), clicks that page in the sidebar and times it until
``--then-ready-text`` is drawn. Writes ``benchmarks/results/app_start.json``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(browser, path: str, ready_text: str, then: str | None, then_ready: str, pause: float) -> dict:
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = browser.new_page()
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/{path}", timeout=2000)
                break
            except Exception:  # noqa: BLE001 - server not listening yet
                if time.perf_counter() - start > 60:
                    raise TimeoutError("the app did not answer within 60 s") from None
                time.sleep(0.05)
        page.get_by_text(ready_text).first.wait_for(timeout=60_000)
        times = {"start_s": time.perf_counter() - start}
        if then:
            time.sleep(pause)
            clicked = time.perf_counter()
            page.get_by_test_id("stSidebarNav").get_by_role("link", name=then, exact=True).click()
            page.get_by_text(then_ready).first.wait_for(timeout=60_000)
            times["switch_s"] = time.perf_counter() - clicked
        page.close()
        return times
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--page", default="", help="URL path of the page, e.g. feature_maps (default: home)")
    p.add_argument("--ready-text", default="lenet-viz", help="text whose appearance means 'rendered'")
    p.add_argument("--then", help="a page to switch to afterwards, by its sidebar label, e.g. 'Feature maps'")
    p.add_argument("--then-ready-text", default="Draw a digit on the black", help="that page's ready text")
    p.add_argument("--pause", type=float, default=3.0, help="seconds on the first page before switching")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        runs = [one_run(browser, args.page, args.ready_text, args.then, args.then_ready_text, args.pause)
                for _ in range(args.runs)]
        browser.close()
    report = {"page": args.page or "home", "then": args.then, "pause_s": args.pause, "runs": runs}
    for key, what in (("start_s", f"app start to first page rendered ({args.page or 'home'})"),
                      ("switch_s", f"then the first switch to {args.then}")):
        if key in runs[0]:
            times = [r[key] for r in runs]
            report[f"median_{key}"] = statistics.median(times)
            print(f"{what}: median {statistics.median(times):.2f} s over {args.runs} runs "
                  f"({', '.join(f'{t:.2f}' for t in times)})")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app_start.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
