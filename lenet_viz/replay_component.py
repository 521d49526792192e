"""The training replay view (``lenet_viz/netview/replay.js``) as a Streamlit component; only pages import this.

The browser holds every snapshot of a run (float16, ~3 MB of base64 for a LeNet's 24) and runs the
network itself (``lenet.js``), so scrubbing the time slider or pressing Play never asks the server.
The weights cross the websocket once per model and session; later reruns send only the model's
id, and the page asks again (state ``missing``) if it lost them, e.g. after a reload.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import streamlit as st
import torch

from lenet_viz.checkpoints import Checkpoint
from lenet_viz.i18n import DEFAULT_LANG, catalogue, class_names, t
from lenet_viz.netview_component import component, view3d_texts, weights_needed
from lenet_viz.netview_payload import replay_payload

KEY = "replay_view"
SENT = "_replay_sent"  # ids of the models whose snapshots this session's page holds
SERVED = "_replay_served"  # the last ``missing`` request answered
_PAYLOADS: WeakKeyDictionary[torch.nn.Module, dict[str, Any]] = WeakKeyDictionary()


def payload(ckpt: Checkpoint) -> dict[str, Any]:
    """A checkpoint's snapshots for the browser, built once per loaded model."""
    if ckpt.model not in _PAYLOADS:
        _PAYLOADS[ckpt.model] = replay_payload(ckpt.spec, ckpt.snapshots)
    return _PAYLOADS[ckpt.model]


def view_texts(lang: str) -> dict[str, str]:
    """The replay view's own words in ``lang``: the catalogue's ``rp.*`` messages (placeholders such as
    ``{index}`` are filled in the browser) and the layer kinds (``kind.conv``, …), as the Feature maps view has them,
    and the 3D view's words."""
    texts = {key.removeprefix("rp."): t(key, lang) for key in catalogue(DEFAULT_LANG) if key.startswith("rp.")}
    kinds = {f"kind.{key.removeprefix('layer_kind.')}": t(key, lang) for key in catalogue(DEFAULT_LANG)
             if key.startswith("layer_kind.")}
    shared = {key: t(f"nv.{key}", lang) for key in ("input_title", "payload_newer", "payload_malformed",
                                                  "payload_truncated")}
    return {**view3d_texts(lang), **texts, **kinds, **shared}


def replay(ckpt: Checkpoint, image: np.ndarray, *, label: str | None = None, lang: str = DEFAULT_LANG) -> None:
    """Mount the replay of ``ckpt``'s snapshots on ``image`` (size×size ``uint8``, white on black);
    ``label`` is the input's true class when known."""
    model = payload(ckpt)
    model_id = model["model_id"]
    send = weights_needed(model_id, KEY, SENT, SERVED)
    data = {
        "view": "replay", "model_id": model_id, "model": model if send else None, "layers": model["layers"],
        "set_info": model["set_info"], "classes": class_names(ckpt.classes, lang), "texts": view_texts(lang),
        "label": label,
        "size": ckpt.spec.input_size, "channels": ckpt.spec.in_channels, "input": image.ravel().tolist(),
        "history": [{"step": p.step, "epoch": p.epoch, "loss": p.train_loss, "train_acc": p.train_acc,
                     "test_acc": p.test_acc} for p in ckpt.history],
    }
    component()(data=data, key=KEY, on_missing_change=lambda: None)
    st.session_state[SENT].add(model_id)
