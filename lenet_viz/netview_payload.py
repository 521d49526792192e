"""A network as JSON for the in-browser view: spec, layer plan and weights as base64 blobs.

The browser runs the forward pass itself (``lenet_viz/netview/lenet.js``), so it needs the
network once per model: the spec, the layers of :func:`lenet_viz.models.layer_plan` and every
weight as little-endian floats. JSON cannot carry bytes, so each weight set is one base64 string
(a float32 LeNet is ~330 kB of it); several sets (training snapshots) share one tensor layout
and may be float16 to halve their size. Pure Python: no Streamlit here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lenet_viz.errors import LenetVizError
from lenet_viz.models import LeNetSpec, layer_plan

PAYLOAD_VERSION = 1  # the format below; lenet_viz/netview/payload.js reads this version and refuses others
DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2")}
SET_INFO_KEYS = ("step", "epoch", "loss", "train_acc", "test_acc")


class PayloadError(LenetVizError, ValueError):
    """Weights that do not fit the network they are sent with."""


def tensor_layout(spec: LeNetSpec) -> list[dict[str, Any]]:
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
            layout.append({"name": f"{layer.name}.{part}", "shape": shape, "offset": offset})
            offset += math.prod(shape)
    return layout


def _as_array(value: Any) -> np.ndarray:
    """A torch tensor or array-like → float64 numpy array (on the CPU)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    return np.asarray(value, dtype=np.float64)


def weight_blob(layout: list[dict[str, Any]], state_dict: Mapping[str, Any], dtype: str = "float32") -> bytes:
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


def _set_info(info: Sequence[Mapping[str, Any]] | None, count: int) -> list[dict[str, Any]] | None:
    """The metrics of each weight set (finite numbers or None), checked against the number of sets."""
    if info is None:
        return None
    if len(info) != count:
        raise PayloadError(f"{len(info)} metric entries for {count} weight sets.")
    return [{key: _number(entry.get(key)) for key in SET_INFO_KEYS} for entry in info]


def model_payload(spec: LeNetSpec, state_dicts: Sequence[Mapping[str, Any]], *, model_id: str | None = None,
                  dtype: str = "float32", set_info: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON the network view receives for a model (see ``netview_contract``).

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
    return {
        "version": PAYLOAD_VERSION,
        "model_id": model_id,
        "spec": spec_dict,
        "layers": [layer.to_dict() for layer in layer_plan(spec).layers],
        "tensors": layout,
        "dtype": dtype,
        "weight_sets": [base64.b64encode(blob).decode("ascii") for blob in blobs],
        "set_info": _set_info(set_info, len(blobs)),
    }


def replay_payload(spec: LeNetSpec, snapshots: Sequence[Any]) -> dict[str, Any]:
    """A run's snapshots (``lenet_viz.history.Snapshot``, oldest first) as float16 weight sets with
    their metrics: everything the replay view needs to scrub without asking the server again."""
    if not snapshots:
        raise PayloadError("this model has no snapshots to replay.")
    info = [{"step": s.step, "epoch": s.epoch, "loss": s.loss, "train_acc": s.train_acc, "test_acc": s.test_acc}
            for s in snapshots]
    return model_payload(spec, [s.state_dict for s in snapshots], dtype="float16", set_info=info)
