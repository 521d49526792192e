"""Streamlit glue shared by the pages: cached model loading and per-session stores.

The only library module that imports Streamlit. Keys of ``st.session_state`` used across pages:

- ``saved_models``: ``{label: checkpoint bytes}`` saved on the training page, this session only;
- ``custom_spec``: the network built on the output-size page, as ``LeNetSpec.to_dict()``;
- ``_train_network``: the network chosen on the Train page (the output-size page sets it to ``custom``).
"""

from __future__ import annotations

import streamlit as st

from lenet_viz.checkpoints import Checkpoint, load_checkpoint
from lenet_viz.models import LeNetSpec

SAVED_MODELS = "saved_models"
CUSTOM_SPEC = "custom_spec"
TRAIN_NETWORK = "_train_network"  # the Train page's remembered network choice


@st.cache_resource(show_spinner=False)
def load_bundled(path: str) -> Checkpoint:
    """A bundled model, loaded once per server and shared read-only by every session."""
    return load_checkpoint(path)


@st.cache_resource(show_spinner=False, max_entries=32)
def load_saved(data: bytes) -> Checkpoint:
    """A checkpoint held as bytes (saved or uploaded); cached by content."""
    return load_checkpoint(data)


def saved_models() -> dict[str, bytes]:
    """This session's saved checkpoints, by label (newest last)."""
    return st.session_state.setdefault(SAVED_MODELS, {})


def add_saved_model(label: str, data: bytes) -> str:
    """Store a checkpoint under a unique label and return the label used."""
    store, unique, n = saved_models(), label, 2
    while unique in store:
        unique, n = f"{label} ({n})", n + 1
    store[unique] = data
    return unique


def send_to_training(spec: LeNetSpec) -> None:
    """Offer ``spec`` on the Train page as the ``custom`` network, and select it there."""
    st.session_state[CUSTOM_SPEC] = spec.to_dict()
    st.session_state[TRAIN_NETWORK] = "custom"


def custom_spec() -> LeNetSpec | None:
    """The network built on the output-size page, if any."""
    raw = st.session_state.get(CUSTOM_SPEC)
    return LeNetSpec.from_dict(raw) if raw else None
