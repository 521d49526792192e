"""The in-browser views (``lenet_viz/netview``) as one Streamlit component; only pages import this module.

The browser runs the network (``lenet.js``) and draws it (``view.js``, ``netview.css``): every layer
follows the pen with no server round trip. The component's files are served by URL from the
package (``lenet_viz/pyproject.toml`` declares them) and fetched once; a rerun carries data only. Python sends a model's weights once per session (they
are ~330 kB of base64); later reruns send only its id, and the page asks again (state ``missing``)
if it lost them, e.g. after a reload. What the page reports back:

- ``drawing``, once per pen lift, undo or clear: ``{"input": [size*size ints 0..255] | None,
  "size", "model_id", "strokes"}``; kept in ``st.session_state[DRAWING]`` so that a page switch
  (which forgets a widget's state) keeps the drawing, and the server's views use that input;
- ``unit``, on a click: ``{"layer", "map", "row", "col"}`` for the server-side unit inspector.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import streamlit as st
import torch

from lenet_viz.checkpoints import Checkpoint
from lenet_viz.i18n import DEFAULT_LANG, catalogue, class_names, t
from lenet_viz.netview_payload import model_payload

COMPONENT = "lenet-viz.netview"  # "<project name>.<component name>" as lenet_viz/pyproject.toml declares it
KEY = "fm_netview"
DRAWING = "fm_drawing"  # the last drawing the page reported (survives page switches)
SENT = "_netview_sent"  # ids of the models whose weights this session's page has been sent
SERVED = "_netview_served"  # the last ``missing`` request answered
_PAYLOADS: WeakKeyDictionary[torch.nn.Module, dict[str, Any]] = WeakKeyDictionary()


@cache
def component() -> Callable:
    """The in-browser views as one Streamlit component, registered once per process on first use.

    Its files are served from the package (``lenet_viz/netview``, the manifest's ``asset_dir``): the
    browser fetches ``index.js``, the modules it imports and ``netview.css`` once by URL, so a rerun
    carries only data. ``index.js`` mounts the view that ``data["view"]`` names."""
    return st.components.v2.component(COMPONENT, js="index.js", css="netview.css")


def payload(ckpt: Checkpoint) -> dict[str, Any]:
    """A model's spec, layer plan and float32 weights for the browser, built once per loaded model."""
    if ckpt.model not in _PAYLOADS:
        _PAYLOADS[ckpt.model] = model_payload(ckpt.spec, [ckpt.model.state_dict()])
    return _PAYLOADS[ckpt.model]


def _remember_drawing() -> None:
    """The page's pen lift: keep its input and strokes where a page switch does not drop them."""
    state = st.session_state.get(KEY) or {}
    st.session_state[DRAWING] = state.get("drawing")


def drawn_input(size: int) -> np.ndarray | None:
    """The size×size ``uint8`` input the browser computed from the drawing, or None (blank or another size)."""
    drawing = st.session_state.get(DRAWING) or {}
    values = drawing.get("input")
    if values is None or drawing.get("size") != size or len(values) != size * size:
        return None
    return np.clip(np.asarray(values, dtype=np.int64), 0, 255).astype(np.uint8).reshape(size, size)


def weights_needed(model_id: str, key: str = KEY, sent: str = SENT, served: str = SERVED) -> bool:
    """Whether this rerun must carry a model's weights to the component ``key``: a model new to this
    session (``sent`` holds the ids already sent), or the page lost them (its ``missing`` state, answered
    once: ``served``)."""
    missing = (st.session_state.get(key) or {}).get("missing") or {}
    if missing.get("model_id") == model_id and missing.get("at") != st.session_state.get(served):
        st.session_state[served] = missing.get("at")
        return True
    return model_id not in st.session_state.setdefault(sent, set())


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
            if key.startswith(("v3d.", "f_")) or key in ("reads", "reads_one", "window", "click")}


def netview(ckpt: Checkpoint, *, mode: str, image: np.ndarray | None, fill: float, hint: str = "",
            selected: dict[str, int | str] | None = None, on_unit: Callable[[], None] = lambda: None,
            lang: str = DEFAULT_LANG) -> None:
    """Mount the view. ``mode`` "draw" shows the pad (``image``, if any, is shown until something is
    drawn); "input" shows ``image`` (a server-prepared sample or upload, size×size ``uint8``). Its
    texts and class names are in ``lang``."""
    model = payload(ckpt)
    model_id = model["model_id"]
    send = weights_needed(model_id)
    drawing = st.session_state.get(DRAWING) or {}
    data = {
        "view": "live", "model_id": model_id, "model": model if send else None, "layers": model["layers"],
        "classes": class_names(ckpt.classes, lang), "texts": view_texts(lang), "mode": mode,
        "size": ckpt.spec.input_size, "channels": ckpt.spec.in_channels, "fill": fill, "hint": hint,
        "input": None if image is None else image.ravel().tolist(),
        "strokes": drawing.get("strokes") or [], "sent_model_id": drawing.get("model_id"), "unit": selected,
    }
    component()(data=data, key=KEY, on_drawing_change=_remember_drawing, on_unit_change=on_unit,
         on_missing_change=lambda: None)
    st.session_state[SENT].add(model_id)


def clicked_unit() -> dict[str, Any] | None:
    """The unit the user last clicked in the view: layer, map, row, col."""
    return (st.session_state.get(KEY) or {}).get("unit")
