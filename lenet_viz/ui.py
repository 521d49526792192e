"""Streamlit glue shared by the pages: the session's language, cached model loading, per-session stores,
each page's typed state and the jumps between pages.

The only library module that imports Streamlit. Keys of ``st.session_state`` used across pages:

- ``saved_models``: ``{label: checkpoint bytes}`` saved on the training page, this session only;
- ``uploaded_models``: ``{label: checkpoint bytes}`` uploaded on the Feature maps page, this session only
  (both stores together are capped per session: ``LENET_VIZ_SESSION_MODELS`` and ``LENET_VIZ_SESSION_MB``);
- ``custom_spec``: the network built on the output-size page, as ``LeNetSpec.to_dict()``;
- ``_lang``: this session's language (``en`` or ``zh``), see :func:`lang`;
- ``page:<page id>``: a page's typed state (:mod:`lenet_viz.page_state`, :func:`page_state`), and
  ``<page id>.<field>``: its widgets' keys.

Importing this module does not import torch (the entry point uses :func:`lang` before any page);
the checkpoint code is imported by the first function that needs it.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import streamlit as st

from lenet_viz import links, model_store, settings
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, language_of, localize, t
from lenet_viz.model_store import BundledModel
from lenet_viz.models import LeNetSpec
from lenet_viz.page_state import BUNDLED, SAVED, STATES, UPLOADED, Jump, PageState, model_id, split_model_id

if TYPE_CHECKING:
    from lenet_viz.checkpoints import Checkpoint
    from lenet_viz.figures.output_size import WindowPicture

State = TypeVar("State", bound=PageState)

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


# --- Heavy imports: what pages load behind what they show at once -----------------------------------
TABLES = ("lenet_viz.figures",)  # plotly figures, with the pandas and pyarrow that tables and figures use
TORCH = ("lenet_viz.checkpoints",)  # torch and the model code
HEAVY = TABLES + TORCH  # the warm-up's order: the quicker ones first


@dataclass
class HeavyImports:
    """The server's heavy imports: done once, in the background by the warm-up or by the first page
    that needs them (:func:`need`), whichever comes first. Two threads may ask at once: an ``import``
    waits for another thread's import of the same module to finish. (Figures are safe from a
    half-imported pandas whatever the order: see :mod:`lenet_viz.figures`.)"""

    loaded: set[str] = field(default_factory=set)
    warming: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, names: tuple[str, ...] = HEAVY) -> None:
        for name in names:
            importlib.import_module(name)
            self.loaded.add(name)

    def ready(self, names: tuple[str, ...]) -> bool:
        return self.loaded.issuperset(names)

    def warm_up(self) -> None:
        """Import everything in a background thread, once per server."""
        with self.lock:
            if self.warming is None:
                self.warming = threading.Thread(target=self.load, name="lenet-viz-warm-up", daemon=True)
                self.warming.start()


@st.cache_resource(show_spinner=False)
def heavy_imports() -> HeavyImports:
    """The server's one :class:`HeavyImports`."""
    return HeavyImports()


def warm_up() -> None:
    """Call when a page's script has ended: the server imports torch and the figures in the background
    while the visitor reads that page, so that the first switch to another page does not wait for
    them (3.9 s → 1.4–1.9 s here, benchmarks/README.md). Not before: the import holds Python's lock
    and slowed a first page's own script (a deep link to Output size: 2.5 s → 3.1 s, same file)."""
    heavy_imports().warm_up()


def need(*names: str) -> None:
    """Before a part of a page that uses these modules (a figure or a table: :data:`TABLES`; a model:
    :data:`TORCH`): wait until they are imported, under a spinner on a server's first visits. What the
    page drew before this call is already on the visitor's screen."""
    imports = heavy_imports()
    if not imports.ready(names):
        with st.spinner(tr("app.loading_torch" if set(TORCH) & set(names) else "pages.loading_charts")):
            imports.load(names)


# --- Models and per-session stores ------------------------------------------------------------

SAVED_MODELS = "saved_models"
CUSTOM_SPEC = "custom_spec"


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
    """Offer ``spec`` on the Train page as the ``custom`` network, and select it there (a callback:
    the visitor goes on with the page link the Output size page then shows)."""
    st.session_state[CUSTOM_SPEC] = spec.to_dict()
    jump(Jump("train", {"network": "custom"}), switch=False)


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


def keep_upload(name: str, data: bytes, need_snapshots: bool = False) -> str:
    """Keep a valid uploaded checkpoint in this session's (capped) store and return its label there.
    The one upload path of the Feature maps and Training replay pages; raises :class:`LenetVizError`
    (a file that is no checkpoint, a damaged one, one without the snapshots a replay needs, a full
    session), keeping nothing."""
    from lenet_viz.checkpoints import CheckpointError, check_upload, check_upload_name

    check_upload_name(name)
    check_upload(data)
    ckpt = load_saved(data)  # a damaged file is refused here, before it is kept
    if need_snapshots and not ckpt.snapshots:
        raise CheckpointError.keyed("replay.no_snapshots", name=name)
    return add_uploaded_model(model_choice("fm.uploaded", name=name), data)


def upload_checkpoint(cls: type[PageState], choice: Callable[[str], str] = str, need_snapshots: bool = False
                      ) -> None:
    """A checkpoint uploader's ``on_change`` (its key: the page's ``file`` control): keep a valid upload
    (:func:`keep_upload`) and select it in the page's model picker (``choice``: the picker's value for
    the label it is stored under); when it cannot be used, put the reason in the state's ``error`` and
    keep the current model. Feature maps' picker holds the label, Training replay's a model id."""
    state = page_state(cls)
    file = st.session_state.get(cls.key("file"))
    if file is None:
        return
    try:
        label = keep_upload(file.name, file.getvalue(), need_snapshots)
    except LenetVizError as exc:
        state.error = exc.text(lang())
        return
    update_page(state, model=choice(label), error=None)


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


# --- Each page's typed state, and jumps between pages -----------------------------------------------
def page_state(cls: type[State]) -> State:
    """This session's state of one page (:mod:`lenet_viz.page_state`), with the values its widgets
    hold now read in: the browser changed those last."""
    state = st.session_state.get(cls.state_key())
    if state is None:
        state = st.session_state[cls.state_key()] = cls()
    state.take_widget_values({key: st.session_state[key] for key in list(st.session_state.keys())
                              if cls.field_of(key) is not None})
    return state


def bind(state: PageState, name: str, *entry: object, default: Any = None, options: Any = None,
         shown: bool = True) -> str:
    """The widget key of ``state.<name>`` (of its entry ``entry`` for a dict field), after making sure the
    widget shows the state's value: ``default`` when it has none yet or one no longer among ``options``.
    Call it before the widget is drawn (Streamlit refuses a new value for a widget already drawn).

    ``shown`` False: this run draws no widget for the field (a teacher's link hides it, the page leaves
    it out): the field is checked all the same, and the widget's key is dropped. A key written on a run
    that draws no widget with it stays in Streamlit's state under its plain name, and comes back as the
    widget's value (which :func:`page_state` would read in) once a later run leaves the widget out."""
    key, part = state.key(name, *entry), ".".join(map(str, entry))
    holder = getattr(state, name)
    value = holder.get(part) if entry else holder
    if value is None or (options is not None and value not in options):
        value = default
    if entry:
        holder[part] = value
    else:
        setattr(state, name, value)
    if not shown:
        st.session_state.pop(key, None)
    elif value is not None and (key not in st.session_state or st.session_state[key] != value):
        st.session_state[key] = value
    return key


def update_page(state: PageState, **values: Any) -> None:
    """Set fields of a page's state and the values of their widgets (a dict field's entries are merged).
    Before the page's widgets are drawn: in a callback, on another page, or at the top of the page."""
    for name, value in values.items():
        widget = name in state.widget_fields()
        if isinstance(getattr(state, name), dict) and isinstance(value, dict):
            getattr(state, name).update(value)
            for part, entry in value.items():
                if widget:
                    st.session_state[state.key(name, part)] = entry
            continue
        setattr(state, name, value)
        if widget and value is None:
            st.session_state.pop(state.key(name), None)  # the widget starts at its default (see bind)
        elif widget:
            st.session_state[state.key(name)] = value


def page_file(page: str) -> str:
    """The script of a page, by its id (:data:`lenet_viz.links.PAGE_PATHS`)."""
    return f"app_pages/{links.PAGE_PATHS[page] or 'home'}.py"


def jump(target: Jump, switch: bool = True) -> None:
    """The one way to send the visitor somewhere: set the target page's state from ids (model ids,
    input ids, numbers; never the text a widget shows, which changes with the language) and, with
    ``switch``, go there. A shared link opened on its own page goes through here with ``switch=False``."""
    if target.values:
        update_page(page_state(STATES[target.page]), **target.values)
    if switch:
        st.switch_page(page_file(target.page))


# --- Models by id ------------------------------------------------------------------------------------
def model_sources() -> dict[str, BundledModel | bytes]:
    """Every model this session can pick, by model id: the bundled ones, then those saved on the Train
    page and those uploaded (checkpoint bytes)."""
    sources: dict[str, BundledModel | bytes] = {model_id(BUNDLED, m.key): m for m in model_store.bundled_models()}
    sources.update({model_id(SAVED, label): data for label, data in saved_models().items()})
    sources.update({model_id(UPLOADED, label): data for label, data in uploaded_models().items()})
    return sources


def model_name(model: str, language: str) -> str:
    """How a model id reads in a picker, in ``language``."""
    kind, name = split_model_id(model)
    if kind == BUNDLED:
        return next((m.title(language) for m in model_store.bundled_models() if m.key == name), name)
    if kind == SAVED:
        return t("fm.saved", language, label=name)
    return model_title(name, language)  # an uploaded model's label reads "Uploaded: <file>"


# --- Shareable links: read the URL into a page's state, write it back, offer the link -----------------
def _url_query() -> dict[str, str]:
    return {key: value for key, value in st.query_params.to_dict().items() if key != links.LANG}


def url_lang() -> str | None:
    """The URL's language, if it is one the app knows (E's i18n decides what it does)."""
    return links.parse_lang(st.query_params.to_dict())[0]


def link_from_url(page: str, model_keys: tuple[str, ...] = (), sample_count: int = 0) -> links.View | None:
    """The view the URL asks ``page`` to show, when the URL is new to this session (a shared link
    opened): the page applies it (:func:`jump` with ``switch=False``) before drawing its widgets, and the
    controls it hides or locks take effect (:func:`teacher_controls`). None otherwise, so widgets keep
    what the user set. Notes about bad values are shown above the page (:func:`show_link_notes`)."""
    query, state = _url_query(), page_state(STATES[page])
    if not state.is_new_link(query):
        return None
    link = links.parse_link(links.PAGE_PATHS[page], query, model_keys, sample_count)
    state.remember_query(query)
    state.link_notes = (query, link.notes)
    state.controls = link.controls or None
    return link.view


def show_link_notes(page: str) -> None:
    """The notes about the link this page was opened with, while its settings are unchanged."""
    query, notes = page_state(STATES[page]).link_notes or ({}, [])
    if notes and _url_query() == query:
        st.info(tr("link.notes") + "\n\n- " + "\n- ".join(localize(note, lang()) for note in notes),
                icon=":material/link_off:")


NAV_HIDDEN = "<style>[data-testid='stSidebarNav']{display:none}</style>"


def teacher_controls(page: str) -> links.Controls:
    """What the teacher's link this page was opened with hides and locks (after :func:`link_from_url`):
    the page asks it ``hidden(control)`` before drawing a control and passes ``disabled=locked(control)``.
    Hides the sidebar's page list when asked, and says that some controls are fixed."""
    controls = page_state(STATES[page]).controls or links.Controls(page)
    if controls.hidden(links.NAV):
        st.html(NAV_HIDDEN)
    if controls:
        st.caption(tr("link.teacher_fixed"))
    return controls


def share_view(page: str, view: links.View | None = None, private: str | None = None) -> None:
    """Put ``view`` and the page's hidden or locked controls in the URL (keeping the language) and offer
    the link in the sidebar. ``private`` says what of the page the link cannot carry (an uploaded model,
    a drawing)."""
    state = page_state(STATES[page])
    controls = state.controls or links.Controls(page)
    query = links.view_query(view, url_lang(), controls)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    state.remember_query({k: v for k, v in query.items() if k != links.LANG})
    copy_link_control(page, view, controls, private)


def app_base_url() -> str:
    """Scheme, host and the app's root path, as the browser sees them (behind a proxy too)."""
    url = st.context.url or "http://localhost:8501/"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last in links.PAGE_PATHS.values():
        path = head
    return f"{parts.scheme}://{parts.netloc}{path}"


def copy_link_control(page: str, view: links.View | None, controls: links.Controls, private: str | None = None
                      ) -> None:
    """"Copy link to this view" in the sidebar: the URL in a code box whose copy button works offline
    (the box stays selectable where the browser refuses the clipboard, as on plain http), and under it a
    teacher's choice of the page's controls to hide or lock in that link (the page's own at first). The
    link opens in the session's language: switch the language for a link in the other."""
    names = {c: tr(f"link.teacher_control.{c}") for c in links.PAGE_CONTROLS[page]}
    hide_key, lock_key, from_key = f"link_hide_{page}", f"link_lock_{page}", f"link_from_{page}"
    if st.session_state.get(from_key) != controls:  # first drawn, or a new teacher's link: start from the page's
        st.session_state[from_key] = controls
        for key, chosen in ((hide_key, controls.hide), (lock_key, controls.lock)):
            st.session_state[key] = [c for c in links.PAGE_CONTROLS[page] if c in chosen]
    with st.sidebar.popover(tr("link.copy"), icon=":material/link:", width="stretch"):
        box = st.container()
        st.caption(tr("link.help") + (f" {localize(private, lang())}" if private else ""))
        st.markdown(f"**{tr('link.teacher_heading')}**")
        none = tr("link.teacher_none")
        hide = st.multiselect(tr("link.teacher_hide"), links.PAGE_CONTROLS[page], format_func=names.get, key=hide_key,
                              placeholder=none)
        lock = st.multiselect(tr("link.teacher_lock"), links.lockable(page), format_func=names.get, key=lock_key,
                              placeholder=none)
        st.caption(tr("link.teacher_help"))
        chosen = links.Controls(page, frozenset(hide), frozenset(lock))
        box.code(links.build_url(app_base_url(), page, links.view_query(view, lang(), chosen)), language=None,
                 wrap_lines=True)


def bundled_link_view(page: str) -> links.FeatureMapsView | links.ReplayView | None:
    """The Feature maps or Replay view a newly opened link asks for, checked against the bundled models
    and samples (a sample index must fit every bundled dataset, as the model may change)."""
    models = model_store.bundled_models()
    counts = [len(s.images) for m in models if (s := model_store.load_samples(m.dataset)) is not None]
    return link_from_url(page, tuple(m.key for m in models), min(counts, default=0))


def model_choice(key: str, /, **values: str) -> str:
    """A model's entry in the Feature maps picker: the catalogue's English text, so that a switch of
    language keeps the choice (:func:`model_title` shows it in the session's language). Also the label
    an uploaded model is stored under."""
    return t(key, DEFAULT_LANG, **values)


def model_title(choice: str, language: str) -> str:
    """How a Feature maps picker's entry (a bundled label, "Saved: …", "Uploaded: …") reads in ``language``."""
    for model in model_store.bundled_models():
        if model.label == choice:
            return model.title(language)
    for key, name in (("fm.saved", "label"), ("fm.uploaded", "name")):
        prefix = t(key, DEFAULT_LANG, **{name: ""})
        if choice.startswith(prefix):
            return t(key, language, **{name: choice.removeprefix(prefix)})
    return choice


WINDOW_CONFIG = {"displayModeBar": False}


def window_picture(picture: WindowPicture, key: str) -> None:
    """Output size's grids of one kernel placement (also a lesson's) as wide as the column, as tall as
    their square cells need at that width (a phone's too: the figure's height is set in the browser,
    by :meth:`WindowPicture.html`'s style on their container), and the legend under them."""
    box = re.sub(r"[^A-Za-z0-9_-]", "-", f"{key}-box")  # as Streamlit makes a key into the class st-key-<key>
    with st.container(key=box):
        st.plotly_chart(picture.figure, key=key, config=WINDOW_CONFIG)
        st.html(picture.html(f"st-key-{box}"))
