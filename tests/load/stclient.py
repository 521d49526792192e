"""A protocol-level Streamlit client: many app sessions from one process, without browsers.

Forty Chromium tabs do not fit on 2 cores next to the server they measure, so the load tests and
``benchmarks/server_load.py`` speak the browser's own protocol instead: one websocket per session to
``/_stcore/stream`` carrying Streamlit's ``BackMsg`` and ``ForwardMsg`` protobufs, imported from the
installed ``streamlit`` package (``streamlit.proto``). A session opens a page with a rerun BackMsg
(``ClientState`` with the page name and query string), the server answers with ForwardMsgs (new
session, deltas, ``script_finished``); a widget change is another rerun BackMsg carrying every
widget's value, exactly as the frontend sends after a click or a pen lift. Like the frontend, it
claims the large messages it already holds (``cached_message_hashes``), so the server sends an
unchanged figure as a reference instead of in full. What it skips: static
files and fragment timers (``auto_rerun``), so a page that polls (Train's live curves) sends no
polls from here.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from lenet_viz.page_state import FeatureMapsState, TrainState

FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY  # others: st.rerun(), a compile error
FRAGMENT_FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


class ProtocolError(AssertionError):
    """The server answered a rerun with an error, an exception element, or not at all."""


@dataclass
class Widget:
    """A widget the page drew: its element type (``selectbox``, ``button``…), id and proto."""

    kind: str
    id: str
    proto: object
    fragment_id: str = ""  # the fragment that drew it: a rerun of only that fragment can be asked for


@dataclass
class Answer:
    """One rerun's answer: how long it took and what came back."""

    seconds: float
    messages: int
    exceptions: list[str] = field(default_factory=list)


class Session:
    """One browser session over one websocket. Use ``async with Session(base, page) as s``."""

    def __init__(self, base_url: str, page: str = "", query: str = "", timeout: float = 120.0):
        parts = urlsplit(base_url)
        self.ws_url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.base_url, self.page, self.query, self.timeout = base_url, page, query, timeout
        self.widgets: dict[str, Widget] = {}  # by widget id
        self.states: dict[str, WidgetState] = {}  # what this client has set, sent with every rerun
        self.ws = None
        self.cached: set[str] = set()  # hashes of large messages received, claimed as cached like a browser
        self.texts: list[str] = []  # markdown and alert bodies of the last answer, to read notes

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def open(self) -> Answer:
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=self.timeout, ping_interval=None)
        return await self.rerun()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def find(self, key: str | None = None, label: str | None = None) -> Widget:
        """A widget by its user key (ids end with ``-<key>``) or by its label."""
        for widget in self.widgets.values():
            if (key and widget.id.endswith(f"-{key}")) or (label and getattr(widget.proto, "label", None) == label):
                return widget
        raise KeyError(f"no widget with key={key!r} label={label!r}; have {[w.id for w in self.widgets.values()]}")

    def set_string(self, widget: Widget, value: str) -> None:
        """A selectbox or radio choice: the option's text as shown."""
        self.states[widget.id] = WidgetState(id=widget.id, string_value=value)

    def set_int(self, widget: Widget, value: int) -> None:
        self.states[widget.id] = WidgetState(id=widget.id, int_value=value)

    async def click(self, widget: Widget) -> Answer:
        """Press a button: a trigger sent once, as the frontend does."""
        trigger = WidgetState(id=widget.id, trigger_value=True)
        return await self.rerun(extra=[trigger])

    async def rerun(self, extra: list[WidgetState] = (), fragment_id: str = "") -> Answer:
        """Send a rerun with every widget value this client holds (of the page, or of the fragment
        ``fragment_id`` alone, as the browser does for a widget inside a fragment); wait for it to finish."""
        msg = BackMsg()
        state = msg.rerun_script
        state.fragment_id = fragment_id
        state.query_string = self.query
        state.page_name = self.page
        state.context_info.url = f"{self.base_url.rstrip('/')}/{self.page}" + (f"?{self.query}" if self.query else "")
        state.widget_states.widgets.extend([*self.states.values(), *extra])
        state.cached_message_hashes.extend(self.cached)
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        return await self._answer(started)

    async def _answer(self, started: float) -> Answer:
        answer, texts = Answer(0.0, 0), []
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise ProtocolError(f"no script_finished within {self.timeout:.0f} s")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except TimeoutError:
                continue
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            answer.messages += 1
            if fwd.metadata.cacheable:
                self.cached.add(fwd.hash)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._note_element(fwd.delta.new_element, answer, texts, fwd.delta.fragment_id)
            elif kind == "script_finished":
                status = fwd.script_finished
                if status in (FINISHED, FRAGMENT_FINISHED):
                    answer.seconds = time.perf_counter() - started
                    self.texts = texts
                    return answer
                if status == ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR:
                    raise ProtocolError(f"script finished with status {status}")

    def _note_element(self, element, answer: Answer, texts: list[str], fragment_id: str = "") -> None:
        kind = element.WhichOneof("type")
        if kind is None:
            return
        body = getattr(element, kind)
        if kind == "exception":
            answer.exceptions.append(f"{body.type}: {body.message}")
        elif kind in ("markdown", "alert"):
            texts.append(body.body)
        elif kind == "progress":
            texts.append(body.text)
        elif kind == "metric":
            texts.append(f"{body.label}: {body.body}")
        widget_id = getattr(body, "id", "")
        if isinstance(widget_id, str) and widget_id:
            self.widgets[widget_id] = Widget(kind, widget_id, body, fragment_id)


def server_rss(pid: int) -> int:
    """Resident memory of a process (and its children, none here), in bytes, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ProcessLookupError(pid)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank, of a non-empty list."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --- What a student does on Feature maps --------------------------------------------------------------
async def open_feature_maps(base_url: str) -> tuple[Session, Answer]:
    """A session on Feature maps (its first answer draws the example input), switched to samples."""
    session = Session(base_url, "feature_maps")
    first = await session.open()
    return session, first


NETVIEW_KEY = FeatureMapsState.key("netview")  # the in-browser network view's component, where it exists


def has_netview(session: Session) -> bool:
    return any(w.id.endswith(f"-{NETVIEW_KEY}") for w in session.widgets.values())


async def pen_lift(session: Session, image, index: int = 0) -> Answer:
    """The most the in-browser view asks of the server about a drawing: a pen lift itself sends
    nothing, so this is a click on a unit with the drawing's input (``image``: uint8 values, computed
    in the browser), which opens the unit inspector: a rerun of the view's fragment only, as the
    browser sends it. Pages without that view get a new sample instead (:func:`pick_sample`), the
    same server work there."""
    if not has_netview(session):
        return await pick_sample(session, index)
    view = session.find(key=NETVIEW_KEY)
    values = [int(v) for v in image.ravel()]
    side = int(len(values) ** 0.5)
    drawing = {"id": f"load-{index}", "size": side, "input": values, "model_id": None,
               "strokes": [{"tool": "pen", "points": [[10, 10], [20, 20 + index % 5]]}]}
    state = {"unit": {"layer": "conv1", "map": index % 6, "row": 14, "col": 14, "at": index, "drawing": drawing}}
    session.states[view.id] = WidgetState(id=view.id, json_value=json.dumps(state))
    return await session.rerun(fragment_id=view.fragment_id)


def sample_options(session: Session) -> list[str]:
    return list(session.find(key=FeatureMapsState.key("sample")).proto.options)


async def pick_sample(session: Session, index: int) -> Answer:
    """Choose the Sample input and one test image: the same server work as a pen lift (new input,
    forward pass, every figure), without the canvas."""
    source = session.find(key=FeatureMapsState.key("source"))
    if session.states.get(source.id) is None:
        session.set_string(source, "Sample")
        await session.rerun()
    options = sample_options(session)
    session.set_string(session.find(key=FeatureMapsState.key("sample")), options[index % len(options)])
    return await session.rerun()


# --- What the one training session does ---------------------------------------------------------------
async def start_training(base_url: str, epochs: int = 50) -> Session:
    """A session on Train that starts a long run (the server's data folder decides the dataset size)."""
    session = Session(base_url, "train")
    await session.open()
    session.set_int(session.find(key=TrainState.key("epochs")), epochs)
    await session.rerun()
    answer = await session.click(session.find(label="Start"))
    if answer.exceptions:
        raise ProtocolError(f"Start failed: {answer.exceptions}")
    return session


async def training_status(session: Session) -> str:
    """The Train page's progress and messages, after a plain rerun (what a browser's poll would show)."""
    await session.rerun()
    return " | ".join(session.texts)


async def stop_training(session: Session) -> str:
    await session.click(session.find(label="Stop"))
    return " | ".join(session.texts)
