"""Streamlit glue shared by the pages: the session's language, cached model loading and per-session stores.

The only library module that imports Streamlit. Keys of ``st.session_state`` used across pages:

- ``saved_models``: ``{label: checkpoint bytes}`` saved on the training page, this session only;
- ``uploaded_models``: ``{label: checkpoint bytes}`` uploaded on the Feature maps page, this session only
  (both stores together are capped per session: ``LENET_VIZ_SESSION_MODELS`` and ``LENET_VIZ_SESSION_MB``);
- ``custom_spec``: the network built on the output-size page, as ``LeNetSpec.to_dict()``;
- ``_train_network``: the network chosen on the Train page (the output-size page sets it to ``custom``);
- ``_lang``: this session's language (``en`` or ``zh``), see :func:`lang`.

Importing this module does not import torch (the entry point uses :func:`lang` before any page);
the checkpoint code is imported by the first function that needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import streamlit as st

from lenet_viz import links, settings
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, language_of, localize, t
from lenet_viz.model_store import bundled_models
from lenet_viz.models import PRESETS, LeNetSpec

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


@st.cache_resource(show_spinner=False, max_entries=8, scope="session")
def load_saved(data: bytes) -> Checkpoint:
    """A checkpoint held as bytes (saved or uploaded); cached by content for this session only, so a
    closed tab releases its models at once (a server-wide cache kept up to 32 of anyone's)."""
    from lenet_viz.checkpoints import load_checkpoint

    return load_checkpoint(data)


def saved_models() -> dict[str, bytes]:
    """This session's saved checkpoints, by label (newest last)."""
    return st.session_state.setdefault(SAVED_MODELS, {})


def add_saved_model(label: str, data: bytes) -> str:
    """Store a checkpoint under a unique label and return the label used.

    Raises :class:`SessionFull` when this session already holds as many models, or bytes, as allowed."""
    return _add_model(saved_models(), label, data)


def send_to_training(spec: LeNetSpec) -> None:
    """Offer ``spec`` on the Train page as the ``custom`` network, and select it there."""
    st.session_state[CUSTOM_SPEC] = spec.to_dict()
    st.session_state[TRAIN_NETWORK] = "custom"


def custom_spec() -> LeNetSpec | None:
    """The network built on the output-size page, if any."""
    raw = st.session_state.get(CUSTOM_SPEC)
    return LeNetSpec.from_dict(raw) if raw else None


# --- Per-session caps on stored checkpoints ----------------------------------------------------------
UPLOADED_MODELS = "uploaded_models"
SESSION_MODELS_DEFAULT, SESSION_MB_DEFAULT = 10, 20  # a LeNet checkpoint is ~0.26 MB; a wide custom one a few MB


class SessionFull(LenetVizError):
    """This browser session holds as many checkpoints (or bytes) as a session may."""


def session_model_caps() -> tuple[int, int]:
    """(most checkpoints, most bytes) one session may hold, from the environment or the defaults."""
    return (settings.session_models() or SESSION_MODELS_DEFAULT,
            int((settings.session_mb() or SESSION_MB_DEFAULT) * 1_000_000))


def uploaded_models() -> dict[str, bytes]:
    """This session's uploaded checkpoints, by label (newest last)."""
    return st.session_state.setdefault(UPLOADED_MODELS, {})


def add_uploaded_model(label: str, data: bytes) -> str:
    """Keep an uploaded checkpoint under a unique label and return that label (the same file uploaded
    again returns its first label). Raises :class:`SessionFull` at the per-session cap."""
    store = uploaded_models()
    same = next((name for name, held in store.items() if held == data), None)
    return same or _add_model(store, label, data)


def upload_checkpoint(file_key: str, model_key: str, error_key: str, need_snapshots: bool = False) -> None:
    """A checkpoint uploader's ``on_change``: keep a valid upload in this session's (capped) store and
    select it in the model picker ``model_key``; when it cannot be used, put the reason in ``error_key``
    and keep the current model. The one upload path of the Feature maps and Training replay pages."""
    from lenet_viz.checkpoints import check_upload

    file = st.session_state.get(file_key)
    if file is None:
        return
    data = file.getvalue()
    try:
        check_upload(data)
        ckpt = load_saved(data)  # a damaged file is refused here, before it is kept
        if need_snapshots and not ckpt.snapshots:
            st.session_state[error_key] = tr("replay.no_snapshots", name=file.name)
            return
        label = add_uploaded_model(model_choice("fm.uploaded", name=file.name), data)
    except LenetVizError as exc:
        st.session_state[error_key] = exc.text(lang())
        return
    st.session_state[model_key] = label
    st.session_state.pop(error_key, None)


def _add_model(store: dict[str, bytes], label: str, data: bytes) -> str:
    held = [*saved_models().values(), *uploaded_models().values()]
    most, most_bytes = session_model_caps()
    if len(held) >= most:
        raise SessionFull.keyed("session.too_many_models", count=len(held), env=settings.SESSION_MODELS_ENV, limit=most)
    if sum(map(len, held)) + len(data) > most_bytes:
        raise SessionFull.keyed("session.too_many_bytes", size=f"{len(data) / 1e6:.1f}",
                                limit=f"{most_bytes / 1e6:.0f}", env=settings.SESSION_MB_ENV)
    unique, n = label, 2
    while unique in store:
        unique, n = f"{label} ({n})", n + 1
    store[unique] = data
    return unique


# --- Shareable links: read the URL into a page's widgets, write them back, offer the link -----------
LINK_APPLIED = "_link_query_{page}"  # the query a page last applied or wrote: only a new one is applied
LINK_NOTES = "_link_notes_{page}"  # notes about values of the link the page was opened with
OUTPUT_SIZE_KEYS = {"kind": "os_kind", "kernel": "os_kernel", "stride": "os_stride", "padding": "os_padding",
                    "dilation": "os_dilation", "ceil_mode": "os_ceil", "output_padding": "os_output_padding"}
OS_BLOCK = "os_b{index}_{field}"


def _url_query() -> dict[str, str]:
    return {key: value for key, value in st.query_params.to_dict().items() if key != links.LANG}


def url_lang() -> str | None:
    """The URL's language, if it is one the app knows (E's i18n decides what it does)."""
    return links.parse_lang(st.query_params.to_dict())[0]


def link_from_url(page: str, model_keys: tuple[str, ...] = (), sample_count: int = 0
                  ) -> links.OutputSizeView | links.FeatureMapsView | links.ReplayView | None:
    """The view the URL asks ``page`` to show, when the URL is new to this session (a shared link
    opened): the page applies it to its widgets before drawing them. None otherwise, so widgets
    keep what the user set. Notes about bad values are shown above the page."""
    query, key = _url_query(), LINK_APPLIED.format(page=page)
    if not query or query == st.session_state.get(key):
        return None
    link = links.parse_link(links.PAGE_PATHS[page], query, model_keys, sample_count)
    st.session_state[key] = query
    st.session_state[LINK_NOTES.format(page=page)] = (query, link.notes)
    return link.view


def show_link_notes(page: str) -> None:
    """The notes about the link this page was opened with, while its settings are unchanged."""
    query, notes = st.session_state.get(LINK_NOTES.format(page=page), ({}, []))
    if notes and _url_query() == query:
        st.info(tr("link.notes") + "\n\n- " + "\n- ".join(localize(note, lang()) for note in notes),
                icon=":material/link_off:")


def share_view(page: str, view: links.OutputSizeView | links.FeatureMapsView | links.ReplayView | None = None,
               private: str | None = None) -> None:
    """Put ``view`` in the URL (keeping the language) and offer the link in the sidebar.
    ``private`` says what of the page the link cannot carry (an uploaded model, a drawing)."""
    query = links.view_query(view, url_lang())
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    st.session_state[LINK_APPLIED.format(page=page)] = {k: v for k, v in query.items() if k != links.LANG}
    copy_link_control(links.build_url(app_base_url(), page, query), private)


def app_base_url() -> str:
    """Scheme, host and the app's root path, as the browser sees them (behind a proxy too)."""
    url = st.context.url or "http://localhost:8501/"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last in links.PAGE_PATHS.values():
        path = head
    return f"{parts.scheme}://{parts.netloc}{path}"


def copy_link_control(url: str, private: str | None = None) -> None:
    """"Copy link to this view" in the sidebar: the URL in a code box whose copy button works offline
    (the box stays selectable where the browser refuses the clipboard, as on plain http)."""
    with st.sidebar.popover(tr("link.copy"), icon=":material/link:", width="stretch"):
        st.code(url, language=None, wrap_lines=True)
        st.caption(tr("link.help") + (f" {localize(private, lang())}" if private else ""))


def apply_output_size_link() -> None:
    """Before the Output size widgets are drawn: set them from a shared link, if one was opened."""
    view = link_from_url("output-size")
    if isinstance(view, links.OutputSizeView):
        state = st.session_state
        for name, key in OUTPUT_SIZE_KEYS.items():
            state[key] = getattr(view, name)
        state["os_square"] = view.square
        state["os_size"], state["os_height"], state["os_width"] = view.height, view.height, view.width
        state["os_step"], state["os_playing"] = 0, False
        preset = PRESETS[view.preset]
        state["os_preset"] = view.preset
        state["os_activation"] = view.activation or preset.activation
        for index, block in enumerate(preset.conv):
            asked = view.blocks[index] if index < len(view.blocks) else None
            for field in links.BLOCK_FIELDS:
                state[OS_BLOCK.format(index=index, field=field)] = (asked or {}).get(field, getattr(block, field))
    show_link_notes("output-size")


def output_size_view() -> links.OutputSizeView:
    """The Output size page's settings as a link view (after its widgets are drawn)."""
    state, default = st.session_state, links.OutputSizeView()
    numbers = {name: state.get(key, getattr(default, name)) for name, key in OUTPUT_SIZE_KEYS.items()}
    if state.get("os_square", True):
        height = width = state.get("os_size", default.height)
    else:
        height, width = state.get("os_height", default.height), state.get("os_width", default.width)
    preset_name = state.get("os_preset", default.preset)
    preset = PRESETS.get(preset_name, PRESETS[default.preset])
    blocks = []
    for index, block in enumerate(preset.conv):
        fields = {field: state.get(OS_BLOCK.format(index=index, field=field), getattr(block, field))
                  for field in links.BLOCK_FIELDS}
        blocks.append(None if all(fields[f] == getattr(block, f) for f in fields) else fields)
    while blocks and blocks[-1] is None:
        blocks.pop()
    activation = state.get("os_activation", preset.activation)
    return links.OutputSizeView(height=int(height), width=int(width), preset=preset_name, blocks=tuple(blocks),
                                activation=None if activation == preset.activation else activation, **numbers)


def bundled_link_view(page: str) -> links.FeatureMapsView | links.ReplayView | None:
    """The Feature maps or Replay view a newly opened link asks for, checked against the bundled models
    and samples (a sample index must fit every bundled dataset, as the model may change)."""
    from lenet_viz.model_store import load_samples

    models = bundled_models()
    counts = [len(s.images) for m in models if (s := load_samples(m.dataset)) is not None]
    return link_from_url(page, tuple(m.key for m in models), min(counts, default=0))


def model_choice(key: str, /, **values: str) -> str:
    """A model's entry in a model picker: the catalogue's English text, so that a switch of language
    keeps the choice (:func:`model_title` shows it in the session's language)."""
    return t(key, DEFAULT_LANG, **values)


def model_title(choice: str, language: str) -> str:
    """How a model picker's entry (a bundled label, "Saved: …", "Uploaded: …") reads in ``language``."""
    for model in bundled_models():
        if model.label == choice:
            return model.title(language)
    for key, name in (("fm.saved", "label"), ("fm.uploaded", "name")):
        prefix = t(key, DEFAULT_LANG, **{name: ""})
        if choice.startswith(prefix):
            return t(key, language, **{name: choice.removeprefix(prefix)})
    return choice
