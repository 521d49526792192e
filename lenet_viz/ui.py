"""Streamlit glue shared by the pages: the session's language, cached model loading and per-session stores.

The only library module that imports Streamlit. Keys of ``st.session_state`` used across pages:

- ``saved_models``: ``{label: checkpoint bytes}`` saved on the training page, this session only;
- ``custom_spec``: the network built on the output-size page, as ``LeNetSpec.to_dict()``;
- ``_train_network``: the network chosen on the Train page (the output-size page sets it to ``custom``);
- ``_lang``: this session's language (``en`` or ``zh``), see :func:`lang`.

Importing this module does not import torch (the entry point uses :func:`lang` before any page);
the checkpoint code is imported by the first function that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from lenet_viz.i18n import LANG_NAMES, LANGS, language_of, t
from lenet_viz.models import LeNetSpec

if TYPE_CHECKING:
    from lenet_viz.checkpoints import Checkpoint

# --- Language ---------------------------------------------------------------------------------
# One per session, in st.session_state (two users of one server never share it). The URL's
# ?lang= wins (a shared link opens in its language) and is written back on every run, since a
# page switch drops query parameters; a new session without one follows the browser's language.

LANG = "_lang"
LANG_CHOICE = "_lang_choice"  # the sidebar selector's widget key


def lang() -> str:
    """This session's language, ``en`` or ``zh``; keeps ``?lang=`` in the URL."""
    requested = st.query_params.get("lang")
    if requested in LANGS:
        st.session_state[LANG] = requested
    elif st.session_state.get(LANG) not in LANGS:
        st.session_state[LANG] = language_of(st.context.locale)
    if requested != st.session_state[LANG]:
        st.query_params["lang"] = st.session_state[LANG]
    return st.session_state[LANG]


def _language_chosen() -> None:
    st.session_state[LANG] = st.query_params["lang"] = st.session_state[LANG_CHOICE]
    _resend_choices()


def _resend_choices() -> None:
    """Make every choice widget (radio, selectbox, multiselect, …) send its value to the browser again.

    The browser holds such a widget's value as the option's text, which a format_func has just put
    in the other language: left alone, it would show nothing selected and, on the next rerun,
    send back a text no option has any more, which resets the widget to its default. Values set
    through session state are sent again, formatted anew. Only text values and lists of texts are
    set (choices are texts here); buttons, uploads and chart selections cannot be set, and need not.
    """
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        texts = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        if texts and not key.startswith("$$"):
            st.session_state[key] = value


def language_selector() -> str:
    """The sidebar's language selector (its label in both languages); returns the session's language."""
    current = lang()
    st.session_state[LANG_CHOICE] = current
    st.sidebar.selectbox(t("app.language", current), LANGS, key=LANG_CHOICE, format_func=LANG_NAMES.__getitem__,
                         on_change=_language_chosen)
    return current


def tr(key: str, /, **values: object) -> str:
    """:func:`lenet_viz.i18n.t` in this session's language."""
    return t(key, lang(), **values)


# --- Models and per-session stores ------------------------------------------------------------

SAVED_MODELS = "saved_models"
CUSTOM_SPEC = "custom_spec"
TRAIN_NETWORK = "_train_network"  # the Train page's remembered network choice


@st.cache_resource(show_spinner=False)
def load_bundled(path: str) -> Checkpoint:
    """A bundled model, loaded once per server and shared read-only by every session."""
    from lenet_viz.checkpoints import load_checkpoint

    return load_checkpoint(path)


@st.cache_resource(show_spinner=False, max_entries=32)
def load_saved(data: bytes) -> Checkpoint:
    """A checkpoint held as bytes (saved or uploaded); cached by content."""
    from lenet_viz.checkpoints import load_checkpoint

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
