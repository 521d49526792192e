"""The Teach page's component (``lenet_viz/netview/teach.js``) and its two ways back to the server:
the restore of an uploaded examples zip and Save. Only the Teach page imports this module.

The browser holds the learner's drawings and trains on them itself; the page sends it what it
starts from (the presets' layer plans, and the bundled digits model's weights once per session:
~330 kB), the texts in the reader's language, and a restored zip's examples when one is uploaded.
Save is a trigger carrying the taught network and the drawings it learned from, turned into a
checkpoint by :func:`lenet_viz.teach.taught_checkpoint` and kept in the session's capped store, where
Feature maps, Training replay and Train find it (Train continues it on those drawings).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import streamlit as st

from lenet_viz import netview_component as nv
from lenet_viz import teach, ui
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, catalogue, count_text, t
from lenet_viz.model_store import bundled_models
from lenet_viz.models import PRESETS, LeNetSpec, layer_plan
from lenet_viz.netview_payload import tensor_layout
from lenet_viz.preprocess import MNIST_FILL

COMPONENT = "lenet-viz.teach"  # "<project name>.<component name>" as lenet_viz/pyproject.toml declares it
KEY = "teach_view"
SENT = "_teach_sent"  # ids of the bundled models whose weights this session's page holds
SERVED = "_teach_served"
RESTORE = "_teach_restore"  # the last examples zip read: what the browser is asked to restore
NOTICE = "_teach_notice"  # (kind, text) shown once after a restore or a save
SAVES = "_teach_saves"  # how many saves the page has answered (the browser then stops saying "Saving…")
FILE = "teach_zip"
BASE_DATASET = "mnist"  # the bundled model a taught network may start from reads drawings as MNIST digits


@cache
def component():
    """The Teach component, registered once per process; its files are served from the package."""
    return st.components.v2.component(COMPONENT, js="teach.js", css="netview.css")


def plan(spec: LeNetSpec) -> dict[str, Any]:
    """A network as the browser trains it: spec, layer plan, tensor layout (no weights)."""
    return {"spec": spec.to_dict(), "layers": [layer.to_dict() for layer in layer_plan(spec).layers],
            "tensors": tensor_layout(spec)}


def teach_texts(lang: str) -> dict[str, str]:
    """The page's words in ``lang``: every ``teach.*`` message, without the prefix."""
    return {key.removeprefix("teach."): t(key, lang) for key in catalogue(DEFAULT_LANG) if key.startswith("teach.")}


def _bundled(lang: str) -> dict[str, Any] | None:
    """The bundled digits model a taught network may start from (weights when the page needs them)."""
    model = next((m for m in bundled_models() if m.dataset == BASE_DATASET), None)
    if model is None:
        return None
    ckpt = ui.load_bundled(str(model.path))
    payload = nv.payload(ckpt)
    send = nv.needed(payload["model_id"], key=KEY, sent=SENT, served=SERVED)
    return {"key": model.key, "title": model.title(lang), "model_id": payload["model_id"],
            "plan": {"spec": payload["spec"], "layers": payload["layers"], "tensors": payload["tensors"]},
            "weights": payload["weight_sets"][0] if send else None}


def restore_upload() -> None:
    """The zip uploader's ``on_change``: a valid zip becomes the drawings the browser restores; a bad
    one only says why (the drawings on the page stay as they are)."""
    file = st.session_state.get(FILE)
    if file is None:
        return
    try:
        examples = teach.read_examples_zip(file.getvalue())
    except LenetVizError as exc:
        st.session_state[NOTICE] = ("error", ui.tr("teach.upload_error", name=file.name, error=exc.text(ui.lang())))
        return
    count = (st.session_state.get(RESTORE) or {}).get("count", 0) + 1  # the same zip again restores again
    digest = hashlib.sha256(file.getvalue()).hexdigest()[:12]
    st.session_state[RESTORE] = {"id": f"{digest}-{count}", "count": count, **teach.examples_payload(examples)}
    lang = ui.lang()
    text = ui.tr("teach.restored", drawings=count_text("teach.n_drawings", len(examples.labels), lang),
                 classes=count_text("teach.n_classes", len(examples.classes), lang), name=file.name)
    notes = " ".join(note.text(ui.lang()) for note in examples.notes)
    st.session_state[NOTICE] = ("warning" if notes else "success", f"{text} {notes}".strip())


def _save_label(report: dict[str, Any]) -> str:
    return ui.model_choice("teach.save_label", classes=teach.class_list(report.get("classes", [])))


def save_taught() -> None:
    """Save's trigger: the taught network as a checkpoint in this session's store (or why not)."""
    report = (st.session_state.get(KEY) or {}).get("save")
    if not report:
        return
    st.session_state[SAVES] = st.session_state.get(SAVES, 0) + 1
    try:
        data = teach.taught_checkpoint(report)
        label = ui.add_saved_model(_save_label(report), data)
    except LenetVizError as exc:
        st.session_state[NOTICE] = ("error", ui.tr("teach.save_error", error=exc.text(ui.lang())))
        return
    st.session_state[NOTICE] = ("success", ui.tr("teach.saved", label=label))


def teach_view(lang: str) -> None:
    """Mount the Teach component with this rerun's data."""
    limits = {"min_classes": teach.MIN_CLASSES, "max_classes": teach.MAX_CLASSES,
              "min_examples": teach.MIN_EXAMPLES_PER_CLASS, "max_examples": teach.MAX_EXAMPLES,
              "max_name": teach.MAX_NAME_CHARS}
    bundled = _bundled(lang)
    data = {
        "texts": teach_texts(lang), "view_texts": nv.view_texts(lang), "limits": limits, "fill": MNIST_FILL,
        "networks": {name: {"title": t(f"train.network.{name}", lang), "plan": plan(spec)}
                     for name, spec in PRESETS.items()},
        "bundled": bundled, "restore": st.session_state.get(RESTORE), "saved_at": st.session_state.get(SAVES, 0),
        "zip_format": teach.FORMAT, "labels_file": teach.LABELS_FILE,
    }
    component()(data=data, key=KEY, on_save_change=save_taught, on_missing_change=lambda: None)
    if bundled is not None:
        st.session_state[SENT].add(bundled["model_id"])


def notice() -> tuple[str, str] | None:
    """What the last restore or save left to say, once."""
    return st.session_state.pop(NOTICE, None)

