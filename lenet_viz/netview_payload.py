"""The contract with the in-browser views (``lenet_viz/netview``): what Python sends them, typed
and versioned, and what they send back, checked.

A network as JSON for the in-browser view: spec, layer plan and weights as base64 blobs.

The browser runs the forward pass itself (``lenet_viz/netview/lenet.js``), so it needs the
network once per model: the spec, the layers of :func:`lenet_viz.models.layer_plan` and every
weight as little-endian floats. JSON cannot carry bytes, so each weight set is one base64 string
(a float32 LeNet is ~330 kB of it); several sets (training snapshots) share one tensor layout
and may be float16 to halve their size. Pure Python: no Streamlit here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from lenet_viz.errors import LenetVizError
from lenet_viz.models import LeNetSpec, layer_plan

if TYPE_CHECKING:  # torch only where a stepped network is rebuilt (stepped_model)
    import torch

PAYLOAD_VERSION = 1  # the format below; lenet_viz/netview/payload.js reads this version and refuses others
DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2")}
SET_INFO_KEYS = ("step", "epoch", "loss", "train_acc", "test_acc")


class PayloadError(LenetVizError, ValueError):
    """Weights that do not fit the network they are sent with, or a request from the view that cannot be read."""


class TensorEntry(TypedDict):
    """One parameter tensor in a weight blob: ``offset`` counts floats from the blob's start."""

    name: str
    shape: list[int]
    offset: int


class SetInfo(TypedDict):
    """The metrics of one weight set (a snapshot's moment of training); None where unknown or not finite."""

    step: float | None
    epoch: float | None
    loss: float | None
    train_acc: float | None
    test_acc: float | None


class NetworkPayload(TypedDict):
    """A network for the browser (``payload.js`` checks it, ``lenet.js`` decode reads it): the spec,
    the layer plan (:meth:`lenet_viz.models.LayerPlanRow.to_dict` rows), the tensor layout, and one
    base64 blob per weight set (the final model last), with their metrics for a replay."""

    version: int
    model_id: str
    spec: dict[str, Any]
    layers: list[dict[str, Any]]
    tensors: list[TensorEntry]
    dtype: Literal["float32", "float16"]
    weight_sets: list[str]
    set_info: list[SetInfo] | None


class ViewData(TypedDict):
    """What a view receives at each rerun (``index.js`` reads ``view`` and mounts that one). The
    network and the words travel once per session: later reruns carry only their ids (``model``
    and ``texts`` None)."""

    view: Literal["live", "replay"]
    model_id: str
    model: NetworkPayload | None
    texts_id: str
    texts: dict[str, str] | None
    classes: list[str]
    size: int
    channels: int
    fill: float
    input: list[int] | None


class LiveViewData(ViewData):
    """Feature maps' live view (``view.js``): pad or server input, and the inspector's unit."""

    mode: Literal["draw", "input"]
    hint: str
    unit: dict[str, int | str] | None
    inspecting: bool


class LoadingViewData(TypedDict):
    """Feature maps' live view while a server's first visit imports torch and loads the model: the
    pad and the words now (``view.js`` draws and keeps strokes), the network with the next rerun's
    :class:`LiveViewData`, which the same view then computes the drawing with."""

    view: Literal["live"]
    loading: Literal[True]
    texts_id: str
    texts: dict[str, str] | None
    mode: Literal["draw", "input"]
    hint: str


class ReplayViewData(ViewData):
    """Training replay (``replay.js``): the input's true class, the drawing the page holds, the run's curves."""

    label: str | None
    drawing_id: str | None
    history: list[dict[str, float | None]]


def view_data(view: Literal["live", "replay"], network: NetworkPayload, *, send_network: bool, texts_id: str,
              texts: dict[str, str] | None, classes: list[str], spec: LeNetSpec, fill: float,
              image: np.ndarray | None) -> ViewData:
    """The part of a view's data that both views share, built in one place."""
    return ViewData(view=view, model_id=network["model_id"], model=network if send_network else None,
                    texts_id=texts_id, texts=texts, classes=classes, size=spec.input_size,
                    channels=spec.in_channels, fill=fill, input=None if image is None else image.ravel().tolist())


def tensor_layout(spec: LeNetSpec) -> list[TensorEntry]:
    """Every parameter tensor in layer order, with its shape and offset (in floats) in a blob."""
    layout, offset = [], 0
    for layer in layer_plan(spec).layers:
        if layer.kind == "conv":
            g = layer.geometry
            shapes = [[layer.output_shape[0], layer.input_shape[0], g.kernel, g.kernel], [layer.output_shape[0]]]
        elif layer.kind == "linear":
            shapes = [[layer.output_shape[0], layer.input_shape[0]], [layer.output_shape[0]]]
        else:
            continue
        for part, shape in zip(("weight", "bias"), shapes):
            layout.append(TensorEntry(name=f"{layer.name}.{part}", shape=shape, offset=offset))
            offset += math.prod(shape)
    return layout


def _as_array(value: Any) -> np.ndarray:
    """A torch tensor or array-like → float64 numpy array (on the CPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    return np.asarray(value, dtype=np.float64)


def weight_blob(layout: list[TensorEntry], state_dict: Mapping[str, Any], dtype: str = "float32") -> bytes:
    """One state dict's tensors, in ``layout`` order, as little-endian ``dtype`` bytes."""
    parts = []
    for entry in layout:
        if entry["name"] not in state_dict:
            raise PayloadError(f"the weights have no {entry['name']!r}.")
        array = _as_array(state_dict[entry["name"]])
        if list(array.shape) != entry["shape"]:
            raise PayloadError(f"{entry['name']} has shape {list(array.shape)}; the network needs {entry['shape']}.")
        parts.append(array.astype(DTYPES[dtype]).ravel())
    return np.concatenate(parts).tobytes() if parts else b""


def _number(value: Any) -> float | None:
    """A metric as JSON can carry it: a blown-up loss (inf, NaN) becomes None, as a missing one."""
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _set_info(info: Sequence[Mapping[str, Any]] | None, count: int) -> list[SetInfo] | None:
    """The metrics of each weight set (finite numbers or None), checked against the number of sets."""
    if info is None:
        return None
    if len(info) != count:
        raise PayloadError(f"{len(info)} metric entries for {count} weight sets.")
    return [SetInfo(**{key: _number(entry.get(key)) for key in SET_INFO_KEYS}) for entry in info]


def model_payload(spec: LeNetSpec, state_dicts: Sequence[Mapping[str, Any]], *, model_id: str | None = None,
                  dtype: str = "float32", set_info: Sequence[Mapping[str, Any]] | None = None) -> NetworkPayload:
    """The JSON the network view receives for a model (:class:`NetworkPayload`).

    ``state_dicts`` holds one state dict per weight set (torch tensors or arrays), the final model
    last. ``model_id`` defaults to a hash of the spec and every blob, so the browser can keep the
    decoded weights while the same model is on show.
    """
    if dtype not in DTYPES:
        raise PayloadError(f"unknown weight dtype {dtype!r}; use float32 or float16.")
    if not state_dicts:
        raise PayloadError("a network needs at least one weight set.")
    layout = tensor_layout(spec)
    blobs = [weight_blob(layout, state, dtype) for state in state_dicts]
    spec_dict = spec.to_dict()
    if model_id is None:
        digest = hashlib.sha256(json.dumps(spec_dict, sort_keys=True).encode() + dtype.encode())
        for blob in blobs:
            digest.update(blob)
        model_id = digest.hexdigest()[:16]
    return {  # type: ignore[return-value]  # dtype was checked against DTYPES above
        "version": PAYLOAD_VERSION,
        "model_id": model_id,
        "spec": spec_dict,
        "layers": [layer.to_dict() for layer in layer_plan(spec).layers],
        "tensors": layout,
        "dtype": dtype,
        "weight_sets": [base64.b64encode(blob).decode("ascii") for blob in blobs],
        "set_info": _set_info(set_info, len(blobs)),
    }


def replay_payload(spec: LeNetSpec, snapshots: Sequence[Any]) -> NetworkPayload:
    """A run's snapshots (``lenet_viz.history.Snapshot``, oldest first) as float16 weight sets with
    their metrics: everything the replay view needs to scrub without asking the server again."""
    if not snapshots:
        raise PayloadError("this model has no snapshots to replay.")
    info = [{"step": s.step, "epoch": s.epoch, "loss": s.loss, "train_acc": s.train_acc, "test_acc": s.test_acc}
            for s in snapshots]
    return model_payload(spec, [s.state_dict for s in snapshots], dtype="float16", set_info=info)


# ---- what the browser sends back --------------------------------------------------------------

MAX_SIZE = 256  # the largest input side a drawing may claim (LeNet specs stay far below)


@dataclass(frozen=True)
class Drawing:
    """The user's drawing as the browser reports it (``lenet_viz/netview/drawing.js``): its id, and the
    input it makes for the model on show (``size``×``size`` ``uint8``, None when the pad is blank)."""

    id: str
    size: int
    image: np.ndarray | None

    def input_for(self, size: int) -> np.ndarray | None:
        """The input, if it was made for a model of this input size (another size reads the strokes anew)."""
        return self.image if self.image is not None and self.size == size else None


@dataclass(frozen=True)
class UnitRequest:
    """A click on a unit of the live view: which unit, and the drawing on show then (None: the
    server's own input, a sample or an upload)."""

    layer: str
    map: int
    row: int
    col: int
    drawing: Drawing | None


def _count(value: Any, name: str, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise PayloadError.keyed("nv.bad_request", detail=name)
    return value


def parse_drawing(value: Any) -> Drawing:
    """A drawing report from the browser, checked: PayloadError (keyed) for anything else."""
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str) or not value["id"]:
        raise PayloadError.keyed("nv.bad_request", detail="drawing")
    size = _count(value.get("size"), "size", 1, MAX_SIZE)
    raw = value.get("input")
    if raw is None:
        return Drawing(value["id"][:64], size, None)
    if not isinstance(raw, list) or len(raw) != size * size or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw):
        raise PayloadError.keyed("nv.bad_request", detail="input")
    image = np.clip(np.asarray(raw, dtype=np.int64), 0, 255).astype(np.uint8).reshape(size, size)
    return Drawing(value["id"][:64], size, image)


def parse_unit_request(value: Any, layers: Mapping[str, Sequence[int]]) -> UnitRequest:
    """A click on a unit, checked against the network on show (``layers``: name → output shape C×H×W
    of the spatial layers): PayloadError (keyed) for an unknown layer, a unit outside it or garbage."""
    if not isinstance(value, Mapping) or value.get("layer") not in layers:
        raise PayloadError.keyed("nv.bad_request", detail="layer")
    channels, height, width = layers[value["layer"]]
    unit = UnitRequest(value["layer"], _count(value.get("map"), "map", 0, channels - 1),
                       _count(value.get("row"), "row", 0, height - 1), _count(value.get("col"), "col", 0, width - 1),
                       None if value.get("drawing") is None else parse_drawing(value["drawing"]))
    return unit


@dataclass(frozen=True)
class SteppedWeights:
    """The network as it is in the browser after the Learn panel's steps (``learn.js``): the served
    model it started from (``model_id``), how many steps it took, and every weight as float32 in
    :func:`tensor_layout` order. The inspector builds its model from them (:func:`state_dict_of`), so
    that it shows the values the view shows (:func:`stepped_model`)."""

    model_id: str
    steps: int
    values: np.ndarray


@dataclass(frozen=True)
class SteppedNetwork:
    """The network the browser's Learn panel stepped (``steps`` SGD steps from the served model
    ``model_id``), rebuilt here for the inspector (:func:`stepped_model`)."""

    model_id: str
    steps: int
    model: torch.nn.Module


MAX_STEPS = 1_000_000  # more steps than anyone clicks: a count beyond it is garbage


def _bad_weights(detail: str) -> PayloadError:
    return PayloadError.keyed("nv.inspect_step_bad", detail=detail)


def parse_stepped(value: Any, model_id: str, count: int) -> SteppedWeights | None:
    """The stepped weights a click (or a step while the inspector is open) sends, checked against the
    model on show (``model_id``, and ``count`` floats: its :func:`tensor_layout`): None for the served
    weights (nothing sent, or ``steps`` 0 with ``weights`` null, after Reset weights); PayloadError
    (keyed ``nv.inspect_step_bad``) for weights of another model, a wrong count, a blob that is not
    base64 float32, or numbers that are not finite. The blob's length is checked before it is decoded."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad_weights("not an object")
    if value.get("model_id") != model_id:
        raise _bad_weights("another model")
    steps = value.get("steps")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise _bad_weights("steps")
    text = value.get("weights")
    if steps == 0 and text is None:
        return None
    if not isinstance(text, str):
        raise _bad_weights("weights")
    expected = 4 * count
    if len(text) > 4 * math.ceil(expected / 3):  # too long to be this model's: not decoded at all
        raise _bad_weights(f"{len(text) * 3 // 16:,} numbers for {count:,}")
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_weights("not base64") from None
    if len(blob) != expected:
        raise _bad_weights(f"{len(blob) // 4:,} numbers for {count:,}")
    values = np.frombuffer(blob, dtype=DTYPES["float32"])
    if not np.isfinite(values).all():
        raise _bad_weights(f"{int((~np.isfinite(values)).sum()):,} numbers not finite")
    return SteppedWeights(model_id, steps, values.astype(np.float32))


def stepped_model(spec: LeNetSpec, weights: SteppedWeights):
    """The network ``spec`` describes with the browser's stepped weights (a flat set in
    :func:`tensor_layout` order, :func:`weight_blob`'s inverse), ready to run as a loaded checkpoint's."""
    import torch

    from lenet_viz.models import build_model

    model = build_model(spec)
    model.load_state_dict({entry["name"]: torch.from_numpy(
        weights.values[entry["offset"]:entry["offset"] + math.prod(entry["shape"])].reshape(entry["shape"]).copy())
        for entry in tensor_layout(spec)})
    return model.eval()
