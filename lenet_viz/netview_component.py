"""The in-browser views (``lenet_viz/netview``) as one Streamlit component; only pages import this module.

The browser runs the network (``lenet.js``) and draws it (``view.js``, ``netview.css``): every layer
follows the pen with no server round trip. The component's files are served by URL from the
package (``lenet_viz/pyproject.toml`` declares them) and fetched once; a rerun carries data only.
Python sends a model's weights (~330 kB of base64) and the view's words in a language once per
session; later reruns send only their ids, and the page asks again (state ``missing``: ``{"ids",
"at"}``) for what it lost, e.g. after a reload.

The drawing lives in the browser (``drawing.js``): a pen lift sends nothing and reruns nothing.
The server hears of it only when something here needs it, and keeps the last one it heard in the
Feature maps page's state (:class:`lenet_viz.page_state.FeatureMapsState`, which other pages read too):

- ``unit``, on a click on a unit: ``{"layer", "map", "row", "col", "drawing"}``: the unit inspector
  opens on that unit and the drawing then on show (a fragment rerun, not the page);
- ``stepped_unit``, the same click once the Learn panel has stepped the network in the browser, with
  ``"stepped": {"model_id", "steps", "weights"}`` (base64 float32 in ``tensor_layout`` order, ~330 kB):
  the inspector builds its model from them, so it shows the network the view shows and says after how
  many steps (one that only said "the trained weights" would leave the learner with two values for
  one unit; the weights travel only once steps changed them);
- ``stepped``, the same object (``steps`` 0 and ``weights`` null after Reset weights), at Step, Undo
  step and Reset weights while the inspector is open: it follows the steps as it follows the drawing.
  These two are trigger values, not state: Streamlit sends a component's state again with every
  later rerun, and a plain click must stay ~3 kB;
- ``drawing``, at a pen lift while the inspector is open (it follows the drawing), or when the
  Training replay page shows a ``drawing_id`` other than the browser's: ``{"id", "size", "input",
  "model_id", "strokes"}``.

What arrives is checked (``netview_payload.parse_unit_request``, ``parse_drawing``, ``parse_stepped``):
garbage becomes a message on the page, never an exception, and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import numpy as np
import streamlit as st

from lenet_viz import ui
from lenet_viz.i18n import DEFAULT_LANG, catalogue, class_names, t
from lenet_viz.netview_payload import (
    LiveViewData,
    LoadingViewData,
    NetworkPayload,
    PayloadError,
    SteppedNetwork,
    model_payload,
    parse_drawing,
    parse_stepped,
    parse_unit_request,
    stepped_model,
    view_data,
)
from lenet_viz.page_state import FeatureMapsState

if TYPE_CHECKING:  # torch comes with the first model: a server's first visit shows the pad before it
    import torch

    from lenet_viz.checkpoints import Checkpoint

COMPONENT = "lenet-viz.netview"  # "<project name>.<component name>" as lenet_viz/pyproject.toml declares it
KEY = FeatureMapsState.key("netview")  # the live view's: the same on a first visit's pad and later runs
SENT = "_netview_sent"  # ids of the models whose weights this session's page has been sent
SERVED = "_netview_served"  # the last ``missing`` request answered
_PAYLOADS: WeakKeyDictionary[torch.nn.Module, NetworkPayload] = WeakKeyDictionary()  # (not evaluated)


def page_state() -> FeatureMapsState:
    """This session's :class:`lenet_viz.page_state.FeatureMapsState`, which keeps what the view sent."""
    return ui.page_state(FeatureMapsState)


@cache
def component() -> Callable:
    """The in-browser views as one Streamlit component, registered once per process on first use.

    Its files are served from the package (``lenet_viz/netview``, the manifest's ``asset_dir``): the
    browser fetches ``index.js``, the modules it imports and ``netview.css`` once by URL, so a rerun
    carries only data. ``index.js`` mounts the view that ``data["view"]`` names."""
    return st.components.v2.component(COMPONENT, js="index.js", css="netview.css")


def payload(ckpt: Checkpoint) -> NetworkPayload:
    """A model's spec, layer plan and float32 weights for the browser, built once per loaded model."""
    if ckpt.model not in _PAYLOADS:
        _PAYLOADS[ckpt.model] = model_payload(ckpt.spec, [ckpt.model.state_dict()])
    return _PAYLOADS[ckpt.model]


def take_drawing(key: str) -> None:
    """A component's ``drawing`` report (``key``: the component's key): keep it, or say why it cannot be read."""
    state = page_state()
    try:
        state.drawing = parse_drawing((st.session_state.get(key) or {}).get("drawing"))
    except PayloadError as error:
        state.problem = error


def _spatial_layers(ckpt: Checkpoint) -> dict[str, tuple[int, int, int]]:
    """Name → output shape C×H×W of the layers a click may name (those with maps)."""
    return {layer["name"]: tuple(layer["output_shape"]) for layer in payload(ckpt)["layers"]
            if len(layer["output_shape"]) == 3}


def _stepped(ckpt: Checkpoint, report: Any) -> SteppedNetwork | None:
    """The stepped network a report carries (None: the served weights); PayloadError for garbage."""
    network = payload(ckpt)
    count = sum(math.prod(entry["shape"]) for entry in network["tensors"])
    weights = parse_stepped(report, network["model_id"], count)
    return None if weights is None else SteppedNetwork(weights.model_id, weights.steps,
                                                       stepped_model(ckpt.spec, weights))


def _take_unit(ckpt: Checkpoint, event: str) -> None:
    """A click on a unit of the live view (``event``: ``unit``, or ``stepped_unit`` with the browser's
    weights): open the inspector on that unit, the drawing then on show and the network as the view
    has it. A report that cannot be read changes nothing and says why."""
    state = page_state()
    report = (st.session_state.get(KEY) or {}).get(event)
    try:
        unit = parse_unit_request(report, _spatial_layers(ckpt))
        stepped = _stepped(ckpt, report.get("stepped"))
    except PayloadError as error:
        state.problem = error
        return
    if unit.drawing is not None:
        state.drawing = unit.drawing
    ui.update_page(state, unit_layer=unit.layer, unit_map=unit.map, unit_row=unit.row, unit_col=unit.col,
                   stepped=stepped, inspecting=True, clicked=True)


def _take_steps(ckpt: Checkpoint) -> None:
    """Step, Undo step or Reset weights while the inspector is open: it follows the browser's weights."""
    state = page_state()
    try:
        state.stepped = _stepped(ckpt, (st.session_state.get(KEY) or {}).get("stepped"))
    except PayloadError as error:
        state.problem = error


def inspected_model(ckpt: Checkpoint) -> tuple[torch.nn.Module, int]:
    """The network the inspector shows and the Learn panel's steps in it: the browser's stepped one
    when it came from this model, else the served one (0 steps)."""
    stepped = page_state().stepped
    if stepped is not None and stepped.model_id == payload(ckpt)["model_id"]:
        return stepped.model, stepped.steps
    return ckpt.model, 0


def drawing_source(key: str, size: int, fill: float) -> None:
    """For a page that uses the drawing but shows no view (Lessons): an empty instance of the
    component that sends the browser's drawing, read for this input size and fill, when it is not
    the one this session holds (one rerun, then :func:`drawn_input` has it)."""
    drawing = page_state().drawing
    component()(data={"view": "drawing", "size": size, "fill": fill, "model_id": "",
                      "drawing_id": None if drawing is None else drawing.id},
                key=key, on_drawing_change=lambda: take_drawing(key))


def drawn_input(size: int) -> np.ndarray | None:
    """The size×size ``uint8`` input of the last drawing the browser sent, or None (none, blank, another size)."""
    drawing = page_state().drawing
    return None if drawing is None else drawing.input_for(size)


def needed(item_id: str, key: str = KEY, sent: str = SENT, served: str = SERVED) -> bool:
    """Whether this rerun must carry ``item_id`` (a model's weights, or the view's words in one
    language) to the component ``key``: new to this session (``sent`` holds the ids already sent),
    or the page lost it (its ``missing`` state lists it; each request is answered once: ``served``)."""
    missing = (st.session_state.get(key) or {}).get("missing") or {}
    answered = st.session_state.setdefault(served, set())
    ids = missing["ids"] if isinstance(missing.get("ids"), list) else [missing.get("model_id")]  # Teach asks for one
    if item_id in ids and (request := (str(missing.get("at")), item_id)) not in answered:
        answered.add(request)
        return True
    return item_id not in st.session_state.setdefault(sent, set())


def view_texts(lang: str) -> dict[str, str]:
    """The view's own words in ``lang``: the catalogue's ``nv.*`` messages (placeholders such as
    ``{side}`` are filled in the browser), the layer kinds (``kind.conv``, …), the Learn panel's ``learn.*``
    and the 3D view's ``v3d.*``."""
    texts = {key.removeprefix("nv."): t(key, lang) for key in catalogue(DEFAULT_LANG)
             if key.startswith(("nv.", "learn.", "v3d."))}
    kinds = {key.removeprefix("layer_kind."): t(key, lang) for key in catalogue(DEFAULT_LANG)
             if key.startswith("layer_kind.")}
    return {**texts, **{f"kind.{kind}": text for kind, text in kinds.items()}}


def view3d_texts(lang: str) -> dict[str, str]:
    """The 3D view's words in ``lang`` for a view that has not got them (Training replay): ``v3d.*`` and
    the unit tooltip's ``nv.*`` (formulas, what a unit reads)."""
    live = view_texts(lang)
    return {key: text for key, text in live.items()
            if key.startswith(("v3d.", "f_")) or key in ("reads", "reads_one", "window", "click", "input_name")}


def netview(ckpt: Checkpoint, *, mode: str, image: np.ndarray | None, fill: float, hint: str = "",
            selected: dict[str, int | str] | None = None, lang: str = DEFAULT_LANG) -> None:
    """Mount the live view. ``mode`` "draw" shows the pad (``image``, if any, is shown until something is
    drawn, with ``hint`` under the pad); "input" shows ``image`` (a server-prepared sample or upload,
    size×size ``uint8``). ``selected``: the inspected unit, marked in the view (the inspector is open).
    Its texts and class names are in ``lang``. Call it inside the fragment that holds the inspector:
    a click reruns that fragment only."""
    model = payload(ckpt)
    model_id, texts_id = model["model_id"], f"live-{lang}"
    data = LiveViewData(
        **view_data("live", model, send_network=needed(model_id), texts_id=texts_id,
                    texts=view_texts(lang) if needed(texts_id) else None, classes=class_names(ckpt.classes, lang),
                    spec=ckpt.spec, fill=fill, image=image),
        mode="draw" if mode == "draw" else "input", hint=hint, unit=selected, inspecting=selected is not None)
    component()(data=data, key=KEY, on_unit_change=lambda: _take_unit(ckpt, "unit"),
                on_stepped_unit_change=lambda: _take_unit(ckpt, "stepped_unit"),
                on_stepped_change=lambda: _take_steps(ckpt),
                on_drawing_change=lambda: take_drawing(KEY), on_missing_change=lambda: None)
    st.session_state[SENT].update((model_id, texts_id))


def loading_view(*, mode: str, hint: str = "", lang: str = DEFAULT_LANG) -> None:
    """Mount the live view before its network, while a server's first visit imports torch and loads
    the model (about 2 s here): the pad draws at once, and the next rerun's :func:`netview`, at the
    same place on the page, gives the same view its network, which then reads what was drawn."""
    texts_id = f"live-{lang}"
    data = LoadingViewData(view="live", loading=True, texts_id=texts_id,
                           texts=view_texts(lang) if needed(texts_id) else None,
                           mode="draw" if mode == "draw" else "input", hint=hint)
    component()(data=data, key=KEY, on_unit_change=lambda: None, on_stepped_unit_change=lambda: None,
                on_stepped_change=lambda: None, on_drawing_change=lambda: take_drawing(KEY),
                on_missing_change=lambda: None)
    st.session_state.setdefault(SENT, set()).add(texts_id)
