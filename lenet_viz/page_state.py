"""Each page's state as one typed object, the widget keys derived from it, and jumps between pages.

A page keeps everything it remembers in one dataclass here (a subclass of :class:`PageState`),
held once per browser session by :func:`lenet_viz.ui.page_state`. Streamlit widgets still need
keys; they come from :meth:`PageState.key` only: the widget of field ``kernel`` of the Output size
page has the key ``output-size.kernel``, and a field that holds one value per something (a data
folder per dataset, a sample per dataset) is a ``dict`` whose entries have keys such as
``train.data_dir.mnist``. Keys of controls that hold no state (buttons, uploads, charts) are named
in the class's ``CONTROLS`` so that they are derived in the same place.

How values flow (the Streamlit side is in ``ui.py``):

- browser → object: at the start of every run :func:`lenet_viz.ui.page_state` copies the widgets'
  values into the object (:meth:`PageState.take_widget_values`): the browser changed them last;
- object → widgets: :func:`lenet_viz.ui.bind` gives a widget its key and makes sure it shows the
  object's value, so a widget that was not drawn on the last run (another page was shown, or a
  hidden control) comes back as it was: settings survive page switches and a language switch;
- a jump (:class:`Jump`, :func:`lenet_viz.ui.jump`) or a shared link sets fields of the target page
  through :func:`lenet_viz.ui.update_page`, which writes the object and its widgets' keys at once.

A jump names models by stable ids (:func:`model_id`: ``bundled:digits``, ``saved:<label>``,
``uploaded:<label>``) and inputs by ids (``sample``, ``drawing``, ``upload``), never by what a
picker shows: that text changes with the language.

Adopting it on a page (Feature maps did so): declare ``@dataclass class FeatureMapsState(PageState)``
with ``PAGE = "feature-maps"`` and its fields (``model: str | None = None``, ``source: str = "draw"``,
``sample: int = 0``, ``unit_layer: str | None = None``, …), ``CONTROLS`` for its buttons and uploads
and ``MEMORY`` for the fields no widget shows; then ``state = ui.page_state(FeatureMapsState)`` at the
top of the page, ``key=ui.bind(state, "source")`` on each widget (``FeatureMapsState.key("picture")``
where only the key is needed; ``ui.bind(state, "source", shown=False)`` and ``state.source`` on a run
that does not draw it, as where a teacher's link hides it), and ``ui.update_page(state, …)`` where
the page or a link sets a widget's value. Tests read
``at.session_state[FeatureMapsState.state_key()]`` and find widgets by ``key=FeatureMapsState.key(…)``.

No Streamlit here, and no torch: the entry point imports this before any page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from lenet_viz import links
from lenet_viz.lessons import LessonProgress
from lenet_viz.models import PRESETS

if TYPE_CHECKING:
    from lenet_viz.errors import LenetVizError
    from lenet_viz.netview_payload import Drawing, SteppedNetwork
    from lenet_viz.training_session import TrainingSession

# --- Model ids ------------------------------------------------------------------------------------
BUNDLED, SAVED, UPLOADED = "bundled", "saved", "uploaded"
MODEL_KINDS = (BUNDLED, SAVED, UPLOADED)


def model_id(kind: str, name: str) -> str:
    """A model's stable id: ``bundled:<key>`` (``assets/models/models.json``), ``saved:<label>`` or
    ``uploaded:<label>`` (the session store's key, unique in the session)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    return f"{kind}:{name}"


def split_model_id(model: str) -> tuple[str, str]:
    """``(kind, name)`` of a model id; ``("", model)`` for a text that is not one."""
    kind, colon, name = model.partition(":")
    return (kind, name) if colon and kind in MODEL_KINDS else ("", model)


# --- The pages' states ----------------------------------------------------------------------------
@dataclass
class PageState:
    """What one page remembers for one browser session. Subclasses set ``PAGE`` (an id of
    :data:`lenet_viz.links.PAGE_PATHS`) and ``CONTROLS`` (keys of stateless widgets)."""

    PAGE: ClassVar[str] = ""
    CONTROLS: ClassVar[tuple[str, ...]] = ()
    MEMORY: ClassVar[tuple[str, ...]] = ("link_queries", "link_notes", "controls")  # fields no widget shows
    KEPT_QUERIES: ClassVar[int] = 64

    # The queries the page applied or wrote, newest last: only another one is a link to apply. A rerun
    # may arrive with a URL older than the page's last write (the browser sent it before the update
    # came), and applying that would undo what the visitor just set.
    link_queries: list[dict[str, str]] = field(default_factory=list)
    link_notes: tuple[dict[str, str], list[str]] | None = None  # (query, notes) of the link the page was opened with
    controls: links.Controls | None = None  # what the last teacher's link opened here hides or locks; None: nothing

    def is_new_link(self, query: dict[str, str]) -> bool:
        """Whether ``query`` (the URL's, without the language) is one this page has not applied or written."""
        return bool(query) and query not in self.link_queries

    def remember_query(self, query: dict[str, str]) -> None:
        """Note a query the page applied or wrote (the most recent :data:`KEPT_QUERIES`)."""
        if query in self.link_queries:
            self.link_queries.remove(query)
        self.link_queries.append(query)
        del self.link_queries[:-self.KEPT_QUERIES]

    @classmethod
    def state_key(cls) -> str:
        """Where ``st.session_state`` holds this page's object."""
        return f"page:{cls.PAGE}"

    @classmethod
    def key(cls, name: str, *parts: object) -> str:
        """The widget key of field ``name`` (its entry ``parts`` for a dict field), or of a control."""
        if name not in cls.CONTROLS and name not in {f.name for f in fields(cls)}:
            raise KeyError(f"{cls.__name__} has no field or control {name!r}")
        return ".".join((cls.PAGE, name, *map(str, parts)))

    @classmethod
    def widget_fields(cls) -> tuple[str, ...]:
        """The fields a widget shows (all but ``MEMORY``)."""
        return tuple(f.name for f in fields(cls) if f.name not in cls.MEMORY)

    @classmethod
    def field_of(cls, key: str) -> tuple[str, str | None] | None:
        """``(field, entry)`` whose widget has ``key`` (entry None for a plain field); None for other keys
        (other pages', controls')."""
        name, dot, part = key.removeprefix(f"{cls.PAGE}.").partition(".")
        if not key.startswith(f"{cls.PAGE}.") or name not in cls.widget_fields():
            return None
        return name, part if dot else None

    def take_widget_values(self, values: Mapping[str, Any]) -> None:
        """Copy widget values (``{key: value}``, any keys) into the fields they belong to."""
        for key, value in values.items():
            if (owner := self.field_of(key)) is None:
                continue
            name, part = owner
            if part is None:
                setattr(self, name, value)
            else:
                getattr(self, name)[part] = value


@dataclass
class HomeState(PageState):
    """The Home page: only its link bookkeeping (a teacher's link may hide the page list)."""

    PAGE: ClassVar[str] = "home"


@dataclass
class OutputSizeState(PageState):
    """The Output size page: one layer's settings, the sliding window, and the whole-LeNet editor."""

    PAGE: ClassVar[str] = "output-size"
    CONTROLS: ClassVar[tuple[str, ...]] = ("play", "window", "table", "send")
    MEMORY: ClassVar[tuple[str, ...]] = (*PageState.MEMORY, "playing")

    kind: str = "conv"
    square: bool = True
    size: int = 28
    height: int = 28
    width: int = 28
    kernel: int = 5
    stride: int = 1
    padding: int = 2
    dilation: int = 1
    ceil_mode: bool = False
    output_padding: int = 0
    step: int = 0  # the sliding window's placement
    playing: bool = False
    preset: str = "classic"
    activation: str | None = None  # None: the network it starts from decides
    block: dict[str, int | str] = field(default_factory=dict)  # "<index>.<field>" of a conv block: its value

    @staticmethod
    def block_part(index: int, name: str) -> str:
        """The entry of :attr:`block` (and the last part of its widget key) of one conv block's field."""
        return f"{index}.{name}"

    @classmethod
    def from_view(cls, view: links.OutputSizeView) -> dict[str, Any]:
        """The field values a shared link sets (the window back at its first placement, not playing)."""
        preset = PRESETS[view.preset]
        block: dict[str, int | str] = {}
        for index, conv in enumerate(preset.conv):
            asked = view.blocks[index] if index < len(view.blocks) else None
            for name in links.BLOCK_FIELDS:
                block[cls.block_part(index, name)] = (asked or {}).get(name, getattr(conv, name))
        return {"kind": view.kind, "square": view.square, "size": view.height, "height": view.height,
                "width": view.width, "kernel": view.kernel, "stride": view.stride, "padding": view.padding,
                "dilation": view.dilation, "ceil_mode": view.ceil_mode, "output_padding": view.output_padding,
                "step": 0, "playing": False, "preset": view.preset,
                "activation": view.activation or preset.activation, "block": block}

    def view(self) -> links.OutputSizeView:
        """These settings as a link view: only what differs from the preset is kept of the blocks."""
        height, width = (self.size, self.size) if self.square else (self.height, self.width)
        preset = PRESETS.get(self.preset, PRESETS[links.OutputSizeView.preset])
        blocks: list[dict[str, int | str] | None] = []
        for index, conv in enumerate(preset.conv):
            values = {name: self.block.get(self.block_part(index, name), getattr(conv, name))
                      for name in links.BLOCK_FIELDS}
            blocks.append(None if all(values[n] == getattr(conv, n) for n in values) else values)
        while blocks and blocks[-1] is None:
            blocks.pop()
        activation = self.activation or preset.activation
        return links.OutputSizeView(
            kind=self.kind, height=int(height), width=int(width), kernel=self.kernel, stride=self.stride,
            padding=self.padding, dilation=self.dilation, ceil_mode=self.ceil_mode,
            output_padding=self.output_padding, preset=self.preset, blocks=tuple(blocks),
            activation=None if activation == preset.activation else activation)


@dataclass
class TrainState(PageState):
    """The Train page: a run's settings, the session's training run, and what was saved of it."""

    PAGE: ClassVar[str] = "train"
    CONTROLS: ClassVar[tuple[str, ...]] = ("resume_pick", "resume_file", "save_label", "curves", "start")
    MEMORY: ClassVar[tuple[str, ...]] = (*PageState.MEMORY, "run", "notice", "saved_as")

    dataset: str = "fashion-mnist"  # or "drawings": those the current network's checkpoint keeps (a taught one)
    data_dir: dict[str, str] = field(default_factory=dict)  # per dataset
    use_subset: bool = True  # the first run takes seconds, not minutes: 5,120 images (all 60,000 one click away)
    # 5,120 = 80 × 64 and 5 × 1024: whole batches of every offered size. With 5,000, each epoch ended on a step
    # over 8 images at the full learning rate, just before the test: test accuracy swung 0.82 → 0.58 at the
    # last epoch (a new user saw 0.552 every time); with whole batches it rises to 0.815 (benchmarks/README.md)
    subset: int = 5120
    # A first run that learns within seconds (modern, SGD at 0.1, batch 64: 54 % test accuracy after one epoch
    # of the quick run on Fashion-MNIST, 84 % after one of all 60,000); the seed's classic recipe
    # (sigmoid, SGD at 0.9, batch 256) stays at chance for its first epoch, one choice away
    network: str = "modern"
    optimizer: str = "sgd"
    lr: dict[str, float] = field(default_factory=dict)  # per "<optimizer>_<activation>"
    batch_size: int = 64
    epochs: int = 10
    device: str = "auto"
    run: TrainingSession | None = None  # this session's training run (one at a time)
    notice: tuple[str, str] | None = None  # (st function, text): what the last click did, shown once
    saved_as: dict[int, str] = field(default_factory=dict)  # run number → its label in the saved models


@dataclass
class ReplayState(PageState):
    """The Training replay page: the model (by id) and the input it replays."""

    PAGE: ClassVar[str] = "replay"
    CONTROLS: ClassVar[tuple[str, ...]] = ("file", "picture")
    MEMORY: ClassVar[tuple[str, ...]] = (*PageState.MEMORY, "error")
    INPUTS: ClassVar[tuple[str, ...]] = ("sample", "drawing", "upload")

    model: str | None = None  # a model id; None: the first model with snapshots
    input: str = "sample"  # one of INPUTS
    sample: dict[str, int] = field(default_factory=dict)  # per dataset: the position in its bundled samples
    error: str | None = None  # why the last uploaded checkpoint was refused


@dataclass
class FeatureMapsState(PageState):
    """The Feature maps page: the model and the input on show, the unit inspector's unit, and what the
    page keeps of the live view (``lenet_viz.netview_component``), whose drawing the Train, Training
    replay and Lessons pages read too.

    ``model``: the picker's value, a bundled model's label or the catalogue's English "Saved: …",
    "Uploaded: …" (:func:`lenet_viz.ui.model_choice`), so that a switch of language keeps it; ``error``:
    why the last uploaded checkpoint was refused; ``drawing``: the last drawing the browser sent (a
    click, the open inspector, Training replay, Lessons); ``inspecting``: the unit inspector is open
    (until then it computes nothing, and pen lifts send nothing); ``clicked``: a click chose the
    inspected unit, kept for its input (else each new input starts on its strongest unit);
    ``inspected_input``: a hash of the input the inspector last showed; ``problem``: a request from the
    view the page could not read, shown once; ``stepped``: the network as the browser last said it
    is, when the Learn panel has stepped it (None: the served weights)."""

    PAGE: ClassVar[str] = "feature-maps"
    CONTROLS: ClassVar[tuple[str, ...]] = ("file", "picture", "unit_close", "unit_where", "unit_numbers", "kernel",
                                          "netview")
    MEMORY: ClassVar[tuple[str, ...]] = (*PageState.MEMORY, "error", "drawing", "inspecting", "clicked",
                                         "inspected_input", "problem", "stepped")

    model: str | None = None  # None: the first model the page offers
    source: str = "draw"  # one of links.INPUTS
    sample: int = 0  # the position in the bundled samples of the model's dataset
    unit_layer: str | None = None  # None: the first layer with maps
    unit_map: int = 0
    unit_row: int | None = None  # None: the strongest unit's
    unit_col: int | None = None
    error: str | None = None
    drawing: Drawing | None = None
    inspecting: bool = False
    clicked: bool = False
    inspected_input: int | None = None
    problem: LenetVizError | None = None
    stepped: SteppedNetwork | None = None


@dataclass
class LessonsState(PageState):
    """The Lessons page: the lesson on show and each lesson's question kind, the learner's answers,
    each question's seed, what Check revealed, and this session's progress."""

    PAGE: ClassVar[str] = "lessons"
    CONTROLS: ClassVar[tuple[str, ...]] = ("new", "check", "reset", "pick", "kernels", "window", "map", "curves",
                                          "drawing")
    MEMORY: ClassVar[tuple[str, ...]] = (*PageState.MEMORY, "seeds", "revealed", "progress")

    lesson: str | None = None  # None: the first lesson
    kind: dict[str, str] = field(default_factory=dict)  # per lesson: the kind of question asked
    answers: dict[str, Any] = field(default_factory=dict)  # per "<question id>.<field>" (a cell's: ".row", ".col")
    seeds: dict[str, int] = field(default_factory=dict)  # per "<lesson>.<kind>": the question on show
    revealed: dict[str, tuple] = field(default_factory=dict)  # per question id: (question, verdict, runs) after Check
    progress: LessonProgress = field(default_factory=LessonProgress)

    @staticmethod
    def seed_part(lesson: str, kind: str) -> str:
        """The entry of :attr:`seeds` of one kind of question of one lesson."""
        return f"{lesson}.{kind}"

    @staticmethod
    def answer_part(question_id: str, field_key: str, *more: str) -> str:
        """The entry of :attr:`answers` (and the end of its box's key) of one field of a question."""
        return ".".join((question_id, field_key, *more))


@dataclass
class TeachState(PageState):
    """The Teach page: no link view yet (its state lives in the browser)."""

    PAGE: ClassVar[str] = "teach"


# --- Jumps ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Jump:
    """Where a jump goes: a page (an id of :data:`lenet_viz.links.PAGE_PATHS`) and the values of its
    state to set there, by stable ids: ``Jump("replay", {"model": model_id(SAVED, label), "input":
    "drawing"})``."""

    page: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.page not in links.PAGE_PATHS:
            raise KeyError(f"unknown page id {self.page!r}; known: {', '.join(links.PAGE_PATHS)}")


STATES: dict[str, type[PageState]] = {cls.PAGE: cls for cls in (HomeState, OutputSizeState, FeatureMapsState,
                                                             TrainState, ReplayState, LessonsState, TeachState)}
"""The typed state of each page that has one, by page id."""
