"""Shared pieces for browser tests: a private Streamlit server and a headless Chromium page.

Use in a test module::

    from tests.browser.support import browser_page, streamlit_server  # noqa: F401 (fixtures)

    @pytest.mark.browser
    def test_something(browser_page, streamlit_server):
        browser_page.goto(streamlit_server + "/feature_maps")

Both fixtures skip (with the reason) when Debian's Chromium (``/usr/bin/chromium``, the one every
launch uses) or Playwright is missing; :func:`screenshot` saves pictures in test-output/screenshots
(or ``$LENET_VIZ_SHOTS``). The server runs the whole app on a free port, in the session's clean
environment plus what its caller names (``tests/environment.py``), and is stopped, by its process,
when the module's tests are done. Every page a test opens says its language: make contexts with
:func:`new_context` (``locale=`` required), as the app answers in the browser's language.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.environment import process_environment

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS_ENV = "LENET_VIZ_SHOTS"  # where browser tests save screenshots (default: test-output/screenshots)
LOCALES = ("en-US", "zh-CN")  # the browser languages the tests read the app in


def screenshot(page, name: str, full: bool = False) -> Path:
    """Save a screenshot to ``$LENET_VIZ_SHOTS/<name>.png`` (default ``test-output/screenshots/``).

    ``full`` grows the viewport to the whole app first (Streamlit scrolls inside the page, so
    Playwright's ``full_page`` sees only one screen).
    """
    folder = os.environ.get(SHOTS_ENV) or ROOT / "test-output" / "screenshots"
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    if full:
        height = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? document.body.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
        page.wait_for_timeout(1500)
    page.screenshot(path=str(path))
    if full:
        page.set_viewport_size(size)
    return path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _streamlit() -> list[str]:
    exe = Path(sys.executable).with_name("streamlit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]


def start_server(port: int, timeout: float = 60.0, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``streamlit run streamlit_app.py`` on ``port`` and wait until it answers its health check.

    Its environment is explicit: the session's clean one (no ``LENET_VIZ_*`` or ``STREAMLIT_*`` from
    the shell, a private cache) plus ``env``, the settings the caller means it to have."""
    cmd = [*_streamlit(), "run", "streamlit_app.py", "--server.port", str(port), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=process_environment(env))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"streamlit did not answer on port {port} within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server process we started (terminate, then kill if it lingers)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


def skip_without_browser() -> None:
    """Skip the calling test when Debian's Chromium (the one every launch uses) or Playwright is not installed."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser test: {CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser test: the playwright package is not installed")


@pytest.fixture(scope="module")
def streamlit_server() -> Iterator[str]:
    """Base URL of a private app server, for this test module."""
    skip_without_browser()
    proc = start_server(free_port())
    port = proc.args[proc.args.index("--server.port") + 1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


def launch_chromium(playwright):
    """Debian's headless Chromium with the project's flags (``playwright`` from ``sync_playwright()``)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_context(browser, *, locale: str, **options):
    """A browser context (a fresh Streamlit session) whose language is ``locale``, one of :data:`LOCALES`.

    The app answers in the browser's language, so a page made without one reads Chinese on a
    Chinese desktop: the language is a required argument. ``options`` go to Playwright's
    ``new_context`` (the viewport is 1400×1000 unless given).
    """
    if locale not in LOCALES:
        raise ValueError(f"locale {locale!r}: use one of {LOCALES}")
    return browser.new_context(locale=locale, **{"viewport": {"width": 1400, "height": 1000}, **options})


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium, launched once for a test module."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium):
    """A page for one test, 1400×1000, in English whatever the machine's language: a new visitor
    each time, in its own context, so that nothing an earlier test left in the tab (the drawing the
    view keeps in sessionStorage, a Streamlit session's choices) changes what this one sees."""
    context = new_context(chromium, locale="en-US")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def module_page(chromium):
    """One English page shared by a module's tests on purpose: the maths pages, which load the
    view's modules once and hold no app state."""
    return new_context(chromium, locale="en-US").new_page()


NETVIEW = ROOT / "lenet_viz" / "netview"
MODULES_ORIGIN = "http://netview.test"  # answered by Playwright from NETVIEW: ES modules need an http origin
LOAD_MODULES = """async () => {
    const [lenet, pre, payload] = await Promise.all(
        ["lenet.js", "preprocess.js", "payload.js"].map((file) => import(`./${file}`)));
    window.LeNet = {...lenet, ...pre, halfToFloat: payload.halfToFloat};
}"""


def load_netview_modules(page) -> None:
    """Open a blank page that imports the view's ES modules (``lenet_viz/netview``) as the app's
    component does, by relative URL, and gathers what the maths tests call into ``window.LeNet``."""
    def answer(route):
        name = route.request.url.removeprefix(MODULES_ORIGIN + "/").split("?")[0]
        path = NETVIEW / name
        if name == "":
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>netview</title>")
        elif path.is_file() and path.parent == NETVIEW:
            route.fulfill(status=200, content_type="text/javascript", body=path.read_text(encoding="utf-8"))
        else:
            route.fulfill(status=404, body="")

    page.route(MODULES_ORIGIN + "/**", answer)
    page.goto(MODULES_ORIGIN + "/")
    page.evaluate(LOAD_MODULES)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_timeout(400)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def open_page(page, base_url: str, link: str) -> None:
    """Open the app as a new visitor (no drawing kept from an earlier test: the view keeps it in the
    tab's sessionStorage) and go to a page through the sidebar, as a user does."""
    page.goto(base_url + "/")
    page.evaluate("sessionStorage.clear()")
    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()


SEVEN = [[(70, 60), (210, 60), (120, 240)]]  # pen strokes on the 280×280 drawing pad, as (x, y) points
PAD = "canvas[aria-label='Drawing pad']"  # the live network view's pad (Playwright's CSS pierces its shadow root)
LIVE_PREDICTION = "[data-testid='netview-prediction']"  # the view's prediction, in any language
EXAMPLE_HINT = ".nv-pad .nv-hint"  # under an empty pad: the test image the view shows until something is drawn


def prediction(page, lang: str = "en") -> str:
    """The prediction on Feature maps as a screen reader finds it: the view's status named Prediction (预测)."""
    status = page.get_by_role("status", name={"en": "Prediction", "zh": "预测"}[lang], exact=True)
    status.wait_for()
    return status.inner_text().strip()
# Counts what the page sends to the server: Playwright's ``framesent`` (and CDP) miss Streamlit's
# frames after the first in this Chromium, so the count is taken where the page sends them.
COUNT_SENT_FRAMES = """window.__sentFrames = 0;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) { window.__sentFrames += 1; return send.call(this, data); };"""


# The same, with the bytes of those frames (``window.__sentBytes``).
COUNT_SENT_BYTES = COUNT_SENT_FRAMES.replace("window.__sentFrames += 1;",
                                             "window.__sentFrames += 1; window.__sentBytes = (window.__sentBytes ?? 0)"
                                             " + (data.byteLength ?? data.length ?? data.size ?? 0);")


def sent_frames(page) -> int:
    """Websocket frames the page has sent since it loaded (needs ``page.add_init_script(COUNT_SENT_FRAMES)``)."""
    return page.evaluate("window.__sentFrames ?? -1")


def sent_bytes(page) -> int:
    """Websocket bytes the page has sent since it loaded (needs ``page.add_init_script(COUNT_SENT_BYTES)``)."""
    return page.evaluate("window.__sentBytes ?? 0")


def stroke(page, points: list[tuple[float, float]], lift: bool = True) -> None:
    """One mouse stroke on the pad; points in the pad's own 280×280 pixels (it may be shown smaller)."""
    pad = page.locator(PAD)
    pad.wait_for()
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    k = box["width"] / 280
    page.mouse.move(box["x"] + points[0][0] * k, box["y"] + points[0][1] * k)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * k, box["y"] + y * k, steps=10)
    if lift:
        page.mouse.up()


def unit_point(page, layer: str, map_: int, row: int, col: int) -> tuple[float, float]:
    """The middle of one unit of a live feature map on screen (scrolled into view)."""
    canvas = page.locator(f"canvas.nv-map-canvas[data-layer={layer}][data-map='{map_}']")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    height, width = canvas.evaluate("c => [c.height, c.width]")
    return box["x"] + (col + 0.5) * box["width"] / width, box["y"] + (row + 0.5) * box["height"] / height


def click_unit(page, layer: str, map_: int, row: int, col: int) -> None:
    """Click one unit of a live feature map (the server's inspector opens on it)."""
    page.mouse.click(*unit_point(page, layer, map_, row, col))


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes with the mouse on the Feature maps pad, each kept by the view at its pen lift."""
    for points in strokes:
        before = page.evaluate("window.__netview?.lifts ?? 0")
        stroke(page, points)
        page.wait_for_function(f"(window.__netview?.lifts ?? 0) > {before}")  # the view kept the drawing
        wait_idle(page)  # a rerun, if the inspector was open


# Records every string a canvas draws (fillText/strokeText), for tests that read what the views draw:
# ``context.add_init_script(RECORD_DRAWN_TEXT)`` before the page loads, then :func:`words_on_page`.
RECORD_DRAWN_TEXT = """window.__drawnTexts = [];
for (const method of ["fillText", "strokeText"]) {
  const draw = CanvasRenderingContext2D.prototype[method];
  CanvasRenderingContext2D.prototype[method] = function (text, ...rest) {
    window.__drawnTexts.push(String(text));
    return draw.call(this, text, ...rest);
  };
}"""
# Not words of the app: code, and Streamlit's own chrome, which no app can translate (the file
# uploader's "Upload" button and size hint; icon names drawn as font ligatures, "play_arrow").
NOT_THE_APPS_WORDS = ("script, style, noscript, [data-testid=stFileUploaderDropzone], "
                      "[data-testid=stIconMaterial], [data-testid=stIconEmoji]")
WORDS_ON_PAGE = """skip => {
  const words = [];
  const read = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!node.parentElement?.closest(skip)) words.push(node.textContent.trim());
    }
    for (const element of root.querySelectorAll("*")) {
      if (!element.closest(skip)) {
        for (const name of ["aria-label", "title", "placeholder", "alt"]) words.push(element.getAttribute(name) ?? "");
      }
      if (element.shadowRoot) read(element.shadowRoot);
    }
  };
  read(document);
  return [...words, ...(window.__drawnTexts ?? [])].filter((word) => word);
}"""


def words_on_page(page) -> list[str]:
    """Every text of the app on the page as separate strings: text nodes (hidden ones and those in
    shadow roots, where the in-browser views live, included), aria-labels, titles, placeholders, alt
    texts, and what canvases drew (with :data:`RECORD_DRAWN_TEXT`); not Streamlit's own chrome
    (:data:`NOT_THE_APPS_WORDS`). ``inner_text("body")`` sees none of the views' words."""
    return page.evaluate(WORDS_ON_PAGE, NOT_THE_APPS_WORDS)
