"""Shareable links: each page's settings to a query string and back.

A teacher sends a link such as ``/output_size?kind=maxpool&size=32&k=2&s=2&p=0`` and the page opens
with those numbers. Links outlive the app's versions and get typed by hand, so parsing never raises:
an unknown model, kernel 999 or text where a number goes falls back to the default, and each such
value leaves a short note for the page to show. Building a link writes only what differs from the
defaults, so links stay short. A teacher's link also names controls of its page to hide or lock
(``hide=nav,model&lock=sample``, :data:`PAGE_CONTROLS`), the same way on every page. Pure Python: no
Streamlit here (``ui.py`` reads and writes the URL).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from urllib.parse import urlencode

from lenet_viz.i18n import Msg
from lenet_viz.lessons import LESSONS
from lenet_viz.lessons.core import SEED_MAX
from lenet_viz.models import ACTIVATIONS, POOLINGS, PRESETS

Params = Mapping[str, str | list[str]]  # what st.query_params.to_dict() gives, or parse_qs

# Page ids and the URL path Streamlit serves each page under (st.Page takes it from the file name).
PAGE_PATHS = {"home": "", "feature-maps": "feature_maps", "output-size": "output_size", "train": "train",
              "replay": "replay", "lessons": "lessons", "teach": "teach"}
LANGS = ("en", "zh")
LANG = "lang"  # the language parameter; E's i18n owns what it means, links only carry it

# --- Output size -----------------------------------------------------------------------------------
KINDS = ("conv", "maxpool", "avgpool", "convtranspose")
# One-layer settings: URL key -> (field, lowest, highest, default); the page's sliders have the same ranges.
LAYER_NUMBERS = {
    "k": ("kernel", 1, 32, 5),
    "s": ("stride", 1, 8, 1),
    "p": ("padding", 0, 8, 2),
    "d": ("dilation", 1, 6, 1),
    "op": ("output_padding", 0, 7, 0),
}
SIZE_RANGE = (1, 64)
# A conv block of the whole-LeNet editor as b1=6,5,1,2,avg,2,2: (field, lowest, highest) in that order.
BLOCK_PARTS = (("out_channels", 1, 64), ("kernel", 1, 11), ("stride", 1, 6), ("padding", 0, 6),
               ("pool", None, None), ("pool_kernel", 1, 6), ("pool_stride", 1, 6))
BLOCK_FIELDS = tuple(name for name, *_ in BLOCK_PARTS)
MAX_BLOCKS = max(len(spec.conv) for spec in PRESETS.values())


@dataclass(frozen=True)
class OutputSizeView:
    """What the Output size page shows: the one-layer settings, and the whole-LeNet preset and edits."""

    kind: str = "conv"
    height: int = 28
    width: int = 28
    kernel: int = 5
    stride: int = 1
    padding: int = 2
    dilation: int = 1
    ceil_mode: bool = False
    output_padding: int = 0
    preset: str = "classic"
    activation: str | None = None  # None: the preset's own
    blocks: tuple[dict[str, int | str] | None, ...] = ()  # per block: its fields, or None for the preset's

    @property
    def square(self) -> bool:
        return self.height == self.width


@dataclass(frozen=True)
class FeatureMapsView:
    """What the Feature maps page shows: a bundled model (by key) and its input."""

    model: str | None = None  # None: the page's default model
    input: str = "draw"  # "draw", "sample" or "upload" (the picture itself never travels)
    sample: int = 0  # position in the bundled samples of the model's dataset


@dataclass(frozen=True)
class ReplayView:
    """What the Training replay page shows: a bundled model (by key) and one of its dataset's samples."""

    model: str | None = None  # None: the page's default model
    sample: int | None = None  # position in the bundled samples; None: the page's example


@dataclass(frozen=True)
class LessonsView:
    """What the Lessons page shows: a lesson, one of its questions (None: the first) and the question's
    seed (None: a new one)."""

    lesson: str = "shapes"
    question: str | None = None
    seed: int | None = None


# --- A teacher's link: controls hidden or locked, on any page ------------------------------------------
NAV = "nav"  # the sidebar's list of pages: every page has it
HIDE_ONLY = frozenset({NAV, "kernels"})  # controls with nothing to lock (a list of links, a figure)
# The controls a teacher's link can hide (``hide=``) or lock (``lock=``) on each page, in the order a link
# writes them. A control's name is the catalogue's ``link.teacher_control.<id>``; the same id means the
# same control on every page (``model``: the model picker and its upload). A hidden control keeps the
# value the link (or the session) gave it; a locked one shows it greyed out.
PAGE_CONTROLS: dict[str, tuple[str, ...]] = {
    "home": (NAV,),
    "output-size": ("kind", "size", "kernel", "stride", "padding", "dilation", "ceil", "output_padding", "step",
                    "lenet", NAV),
    "feature-maps": ("model", "input", "sample", "inspector", "kernels", NAV),
    "train": ("dataset", "network", "optimizer", "batch_size", "epochs", "device", "resume", "save", NAV),
    "replay": ("model", "input", "sample", NAV),
    "lessons": ("lesson", "question", "new", "progress", NAV),
    "teach": (NAV,),
}


def lockable(page: str) -> tuple[str, ...]:
    """The controls of ``page`` a link can lock (all but :data:`HIDE_ONLY`)."""
    return tuple(c for c in PAGE_CONTROLS[page] if c not in HIDE_ONLY)


@dataclass(frozen=True)
class Controls:
    """What a teacher's link hides and locks on one page (ids of :data:`PAGE_CONTROLS`). Asking about a
    control the page does not have is a bug in the page, so it raises."""

    page: str = "home"
    hide: frozenset[str] = frozenset()
    lock: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (self.hide - set(PAGE_CONTROLS[self.page])) | (self.lock - set(lockable(self.page)))
        if unknown:
            raise ValueError(f"{self.page} has no control {', '.join(sorted(unknown))} to hide or lock")

    def _known(self, control: str) -> str:
        if control not in PAGE_CONTROLS[self.page]:
            raise KeyError(f"{self.page} has no control {control!r}; known: {', '.join(PAGE_CONTROLS[self.page])}")
        return control

    def hidden(self, control: str) -> bool:
        """Whether the page leaves ``control`` out (keeping its value)."""
        return self._known(control) in self.hide

    def locked(self, control: str) -> bool:
        """Whether the page shows ``control`` disabled."""
        return self._known(control) in self.lock

    def __bool__(self) -> bool:
        return bool(self.hide or self.lock)


def _control_names(params: Params, key: str, allowed: tuple[str, ...], notes: list[str]) -> frozenset[str]:
    """A comma-separated list of controls out of ``allowed``; an unknown name is left out with a note."""
    chosen = set()
    for name in (part.strip() for part in (_one(params, key) or "").split(",")):
        if name in allowed:
            chosen.add(name)
        elif name:
            notes.append(Msg("link.teacher_unknown", key=key, raw=name[:40], controls=", ".join(allowed) or "–"))
    return frozenset(chosen)


def parse_controls(page: str, params: Params) -> tuple[Controls, list[str]]:
    """The controls a link hides (``hide=``) and locks (``lock=``) on ``page`` (an id of PAGE_PATHS)."""
    notes: list[str] = []
    hide = _control_names(params, "hide", PAGE_CONTROLS[page], notes)
    lock = _control_names(params, "lock", lockable(page), notes)
    return Controls(page, hide, lock), notes


def controls_query(controls: Controls) -> dict[str, str]:
    """``hide`` and ``lock`` of a link, in :data:`PAGE_CONTROLS` order (so a link is stable); {} for none."""
    query = {}
    for key, chosen in (("hide", controls.hide), ("lock", controls.lock)):
        if chosen:
            query[key] = ",".join(c for c in PAGE_CONTROLS[controls.page] if c in chosen)
    return query


@dataclass(frozen=True)
class Link:
    """A parsed link: the page, its view (None for pages without settings), the language, notes, and the
    controls it hides or locks."""

    page: str = "home"
    view: OutputSizeView | FeatureMapsView | ReplayView | LessonsView | None = None
    lang: str | None = None
    notes: list[str] = field(default_factory=list)
    controls: Controls = Controls()


def _one(params: Params, key: str) -> str | None:
    """The value of ``key`` (the last one if repeated), stripped; None if absent."""
    value = params.get(key)
    if isinstance(value, list):
        value = value[-1] if value else None
    return None if value is None else str(value).strip()


def _number(params: Params, key: str, low: int, high: int, default: int, notes: list[str]) -> int:
    raw = _one(params, key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        notes.append(Msg("link.not_whole", key=key, raw=raw, default=default))
        return default
    if not low <= value <= high:
        notes.append(Msg("link.outside", key=key, raw=value, low=low, high=high, default=default))
        return default
    return value


def _choice(params: Params, key: str, allowed: Collection[str], default, notes: list[str]):
    raw = _one(params, key)
    if raw is None:
        return default
    if raw not in allowed:
        notes.append(Msg("link.not_one_of", key=key, raw=raw, allowed=", ".join(allowed),
                         default=default or Msg("link.the_default")))
        return default
    return raw


def _flag(params: Params, key: str, notes: list[str]) -> bool:
    raw = _one(params, key)
    if raw is None:
        return False
    if raw.lower() not in ("0", "1", "true", "false"):
        notes.append(Msg("link.not_flag", key=key, raw=raw))
        return False
    return raw.lower() in ("1", "true")


def parse_lang(params: Params) -> tuple[str | None, list[str]]:
    """The ``lang`` parameter if it is a known language (en, zh), else None with a note."""
    notes: list[str] = []
    return _choice(params, LANG, LANGS, None, notes), notes


def _block(params: Params, index: int, notes: list[str]) -> dict[str, int | str] | None:
    key = f"b{index + 1}"
    raw = _one(params, key)
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) != len(BLOCK_PARTS):
        notes.append(Msg("link.block_values", key=key, count=len(BLOCK_PARTS)))
        return None
    block: dict[str, int | str] = {}
    for part, (name, low, high) in zip(parts, BLOCK_PARTS, strict=True):
        part = part.strip()
        if low is None:
            ok = part in POOLINGS
            block[name] = part
        else:
            ok = part.isdigit() and low <= int(part) <= high
            block[name] = int(part) if ok else 0
        if not ok:
            notes.append(Msg("link.block_part", key=key, name=name.replace("_", " "), part=part))
            return None
    return block


def parse_output_size(params: Params) -> tuple[OutputSizeView, list[str]]:
    """The Output size view a link asks for, and a note for each value that was ignored."""
    notes: list[str] = []
    default = OutputSizeView()
    kind = _choice(params, "kind", KINDS, default.kind, notes)
    numbers = {name: _number(params, key, low, high, dflt, notes)
               for key, (name, low, high, dflt) in LAYER_NUMBERS.items()}
    size = _number(params, "size", *SIZE_RANGE, default.height, notes)
    height = _number(params, "h", *SIZE_RANGE, size, notes)
    width = _number(params, "w", *SIZE_RANGE, size, notes)
    preset = _choice(params, "preset", tuple(PRESETS), default.preset, notes)
    activation = _choice(params, "act", ACTIVATIONS, None, notes)
    blocks = tuple(_block(params, i, notes) for i in range(MAX_BLOCKS))
    while blocks and blocks[-1] is None:
        blocks = blocks[:-1]
    view = OutputSizeView(kind=kind, height=height, width=width, ceil_mode=_flag(params, "ceil", notes),
                          preset=preset, activation=activation, blocks=blocks, **numbers)
    return view, notes


def output_size_query(view: OutputSizeView) -> dict[str, str]:
    """The query parameters of ``view``: only what differs from the defaults."""
    default, query = OutputSizeView(), {}
    if view.kind != default.kind:
        query["kind"] = view.kind
    if view.square:
        if view.height != default.height:
            query["size"] = str(view.height)
    else:
        query["h"], query["w"] = str(view.height), str(view.width)
    for key, (name, *_rest) in LAYER_NUMBERS.items():
        if getattr(view, name) != getattr(default, name):
            query[key] = str(getattr(view, name))
    if view.ceil_mode:
        query["ceil"] = "1"
    if view.preset != default.preset:
        query["preset"] = view.preset
    if view.activation:
        query["act"] = view.activation
    for i, block in enumerate(view.blocks):
        if block is not None:
            query[f"b{i + 1}"] = ",".join(str(block[name]) for name, *_ in BLOCK_PARTS)
    return query


# --- Feature maps ----------------------------------------------------------------------------------
INPUTS = ("draw", "sample", "upload")


def _model(params: Params, model_keys: Collection[str], notes: list[str]) -> str | None:
    model = _one(params, "model")
    if model is not None and model not in model_keys:
        notes.append(Msg("link.no_model", model=model, models=", ".join(model_keys)) if model_keys
                     else Msg("link.no_models", model=model))
        model = None
    return model


def parse_feature_maps(params: Params, model_keys: Collection[str], sample_count: int
                       ) -> tuple[FeatureMapsView, list[str]]:
    """The Feature maps view a link asks for. ``model_keys``: the bundled models' keys (uploaded and
    saved models are private to a session, so never in a link); ``sample_count``: how many bundled
    samples there are. ``sample=N`` alone implies ``input=sample``."""
    notes: list[str] = []
    model = _model(params, model_keys, notes)
    implied = "sample" if _one(params, "sample") is not None else "draw"
    mode = _choice(params, "input", INPUTS, implied, notes)
    sample = _number(params, "sample", 0, max(sample_count - 1, 0), 0, notes) if mode == "sample" else 0
    return FeatureMapsView(model=model, input=mode, sample=sample), notes


def feature_maps_query(view: FeatureMapsView) -> dict[str, str]:
    """The query parameters of ``view`` (``sample`` implies ``input=sample``)."""
    query = {"model": view.model} if view.model else {}
    if view.input == "sample":
        query["sample"] = str(view.sample)
    elif view.input == "upload":
        query["input"] = "upload"
    return query


# --- Training replay -------------------------------------------------------------------------------
def parse_replay(params: Params, model_keys: Collection[str], sample_count: int) -> tuple[ReplayView, list[str]]:
    """The Training replay view a link asks for (arguments as for :func:`parse_feature_maps`)."""
    notes: list[str] = []
    model = _model(params, model_keys, notes)
    sample = None
    if _one(params, "sample") is not None:
        sample = _number(params, "sample", 0, max(sample_count - 1, 0), 0, notes)
    return ReplayView(model=model, sample=sample), notes


def replay_query(view: ReplayView) -> dict[str, str]:
    """The query parameters of ``view``."""
    query = {"model": view.model} if view.model else {}
    if view.sample is not None:
        query["sample"] = str(view.sample)
    return query


# --- Lessons --------------------------------------------------------------------------------------
def parse_lessons(params: Params) -> tuple[LessonsView, list[str]]:
    """The Lessons view a link asks for: ``lesson``, ``q`` (a question of that lesson) and ``seed``. A
    question from another lesson, or a bad seed, falls back."""
    notes: list[str] = []
    default = LessonsView()
    lesson = _choice(params, "lesson", tuple(LESSONS), default.lesson, notes)
    question = _choice(params, "q", LESSONS[lesson], None, notes)
    return LessonsView(lesson, question, _seed(params, notes)), notes


def _seed(params: Params, notes: list[str]) -> int | None:
    """The ``seed`` of a question (0…SEED_MAX), or None (a new question) with a note when it is not one."""
    raw = _one(params, "seed")
    if raw is None:
        return None
    new = Msg("lesson.link.new_seed")
    try:
        seed = int(raw)
    except ValueError:
        notes.append(Msg("link.not_whole", key="seed", raw=raw[:40], default=new))
        return None
    if not 0 <= seed <= SEED_MAX:
        notes.append(Msg("link.outside", key="seed", raw=seed, low=0, high=SEED_MAX, default=new))
        return None
    return seed


def lessons_query(view: LessonsView) -> dict[str, str]:
    """The query parameters of ``view``."""
    query = {"lesson": view.lesson}
    if view.question:
        query["q"] = view.question
    if view.seed is not None:
        query["seed"] = str(view.seed)
    return query


# --- Whole links -----------------------------------------------------------------------------------
def parse_link(path: str, params: Params, model_keys: Collection[str] = (), sample_count: int = 0) -> Link:
    """Everything a link asks for: its page (from the URL path), that page's view, the language, and the
    controls it hides or locks."""
    name = path.strip("/").rsplit("/", 1)[-1]
    page = next((pid for pid, p in PAGE_PATHS.items() if p == name), "home")
    lang, notes = parse_lang(params)
    view: OutputSizeView | FeatureMapsView | ReplayView | LessonsView | None = None
    if page == "output-size":
        view, more = parse_output_size(params)
        notes += more
    elif page == "feature-maps":
        view, more = parse_feature_maps(params, model_keys, sample_count)
        notes += more
    elif page == "replay":
        view, more = parse_replay(params, model_keys, sample_count)
        notes += more
    elif page == "lessons":
        view, more = parse_lessons(params)
        notes += more
    controls, more = parse_controls(page, params)
    return Link(page, view, lang, notes + more, controls)


View = OutputSizeView | FeatureMapsView | ReplayView | LessonsView


def view_query(view: View | None, lang: str | None = None, controls: Controls | None = None) -> dict[str, str]:
    """A view's query parameters, then the controls a teacher's link hides or locks, then the language
    (kept when the page writes its own settings)."""
    if isinstance(view, OutputSizeView):
        query = output_size_query(view)
    elif isinstance(view, FeatureMapsView):
        query = feature_maps_query(view)
    elif isinstance(view, ReplayView):
        query = replay_query(view)
    elif isinstance(view, LessonsView):
        query = lessons_query(view)
    else:
        query = {}
    if controls is not None:
        query.update(controls_query(controls))
    if lang in LANGS:
        query[LANG] = lang
    return query


def build_url(base: str, page: str, query: Mapping[str, str]) -> str:
    """The link to ``page`` (an id of PAGE_PATHS) under ``base`` (scheme, host and app root)."""
    if page not in PAGE_PATHS:
        raise KeyError(f"unknown page id {page!r}; known: {', '.join(PAGE_PATHS)}")
    url = base.rstrip("/") + "/" + PAGE_PATHS[page]
    return url + ("?" + urlencode(query, safe=",") if query else "")


def view_fields(view: OutputSizeView | FeatureMapsView | ReplayView) -> dict[str, object]:
    """A view as a plain dict (for comparing a page's state with what a link asked for)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}
