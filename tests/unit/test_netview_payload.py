"""The network payload for the browser: layout, blobs that decode back to the weights, ids, errors."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch

from lenet_viz.errors import LenetVizError
from lenet_viz.models import PRESETS, build_model, layer_plan
from lenet_viz.netview_payload import (
    PayloadError,
    model_payload,
    parse_drawing,
    parse_stepped,
    parse_unit_request,
    replay_payload,
    stepped_model,
    tensor_layout,
)


def _decoded(payload: dict, index: int, name: str) -> np.ndarray:
    dtype = "<f4" if payload["dtype"] == "float32" else "<f2"
    flat = np.frombuffer(base64.b64decode(payload["weight_sets"][index]), dtype=dtype)
    entry = next(t for t in payload["tensors"] if t["name"] == name)
    size = int(np.prod(entry["shape"]))
    return flat[entry["offset"]:entry["offset"] + size].reshape(entry["shape"])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_layout_covers_every_parameter_in_order(preset):
    spec = PRESETS[preset]
    model = build_model(spec)
    layout = tensor_layout(spec)
    assert [t["name"] for t in layout] == list(model.state_dict())
    assert [t["shape"] for t in layout] == [list(v.shape) for v in model.state_dict().values()]
    ends = [t["offset"] + int(np.prod(t["shape"])) for t in layout]
    assert [t["offset"] for t in layout[1:]] == ends[:-1]
    assert ends[-1] == layer_plan(spec).total_params


def test_float32_blob_holds_the_exact_weights_and_is_json():
    spec = PRESETS["classic"]
    torch.manual_seed(0)
    state = build_model(spec).state_dict()
    payload = model_payload(spec, [state])
    assert json.loads(json.dumps(payload)) == payload
    assert payload["layers"] == [layer.to_dict() for layer in layer_plan(spec).layers]
    assert payload["spec"] == spec.to_dict() and payload["set_info"] is None
    for name, tensor in state.items():
        np.testing.assert_array_equal(_decoded(payload, 0, name), tensor.numpy())
    size = len(payload["weight_sets"][0])
    assert size == pytest.approx(4 * layer_plan(spec).total_params * 4 / 3, rel=0.01)  # ~330 kB of base64


def test_float16_sets_with_their_metrics():
    spec = PRESETS["modern"]
    states = []
    for seed in range(3):
        torch.manual_seed(seed)
        states.append(build_model(spec).state_dict())
    info = [{"step": i * 10, "epoch": 0, "loss": 2.3 - i, "train_acc": None, "test_acc": 0.1 * i} for i in range(3)]
    payload = model_payload(spec, states, dtype="float16", set_info=info)
    assert len(payload["weight_sets"]) == 3
    assert payload["set_info"][2] == {"step": 20.0, "epoch": 0.0, "loss": pytest.approx(0.3),
                                      "train_acc": None, "test_acc": pytest.approx(0.2)}
    for index, state in enumerate(states):
        got = _decoded(payload, index, "fc1.weight")
        np.testing.assert_array_equal(got, state["fc1.weight"].numpy().astype(np.float16))


def test_blown_up_metrics_travel_as_none():
    spec = PRESETS["classic"]
    state = build_model(spec).state_dict()
    info = [{"step": 1, "epoch": 0.1, "loss": float("inf")}, {"step": 2, "epoch": 0.2, "loss": float("nan")}]
    payload = model_payload(spec, [state, state], set_info=info)
    assert [entry["loss"] for entry in payload["set_info"]] == [None, None]
    json.dumps(payload, allow_nan=False)


def test_model_id_follows_weights_and_spec():
    spec = PRESETS["classic"]
    torch.manual_seed(0)
    state = build_model(spec).state_dict()
    same = model_payload(spec, [state])["model_id"]
    assert model_payload(spec, [{k: v.clone() for k, v in state.items()}])["model_id"] == same
    changed = {k: v.clone() for k, v in state.items()}
    changed["fc3.bias"][0] += 1
    assert model_payload(spec, [changed])["model_id"] != same
    assert model_payload(spec, [state], model_id="mine")["model_id"] == "mine"


def test_numpy_state_dicts_are_accepted():
    spec = PRESETS["seed-nopad"]
    torch.manual_seed(1)
    state = {k: v.numpy() for k, v in build_model(spec).state_dict().items()}
    payload = model_payload(spec, [state])
    np.testing.assert_array_equal(_decoded(payload, 0, "conv2.weight"), state["conv2.weight"])


@pytest.mark.parametrize("break_it, message", [
    (lambda s: s.pop("fc2.bias"), "no 'fc2.bias'"),
    (lambda s: s.__setitem__("conv1.weight", torch.zeros(6, 1, 3, 3)), "conv1.weight has shape"),
])
def test_weights_that_do_not_fit_get_a_clear_error(break_it, message):
    spec = PRESETS["classic"]
    state = dict(build_model(spec).state_dict())
    break_it(state)
    with pytest.raises(PayloadError, match=message) as info:
        model_payload(spec, [state])
    assert isinstance(info.value, LenetVizError)


def test_bad_arguments():
    spec = PRESETS["classic"]
    state = build_model(spec).state_dict()
    with pytest.raises(PayloadError, match="dtype"):
        model_payload(spec, [state], dtype="int8")
    with pytest.raises(PayloadError, match="at least one"):
        model_payload(spec, [])
    with pytest.raises(PayloadError, match="2 metric entries for 1"):
        model_payload(spec, [state], set_info=[{}, {}])


def test_replay_payload_sends_every_snapshot_as_float16():
    from lenet_viz.history import Snapshot

    spec = PRESETS["modern"]
    snapshots = []
    for step in (0, 5, 40):
        torch.manual_seed(step)
        state = {k: v.half() for k, v in build_model(spec).state_dict().items()}
        snapshots.append(Snapshot(step, step / 40, 2.3 - step / 40, None if step == 0 else 0.5, None, state))
    payload = replay_payload(spec, snapshots)
    assert payload["dtype"] == "float16" and len(payload["weight_sets"]) == 3
    assert [info["step"] for info in payload["set_info"]] == [0, 5, 40]
    assert payload["set_info"][0]["train_acc"] is None
    np.testing.assert_array_equal(_decoded(payload, 2, "conv1.weight"), snapshots[2].state_dict["conv1.weight"])
    with pytest.raises(PayloadError, match="no snapshots"):
        replay_payload(spec, [])


# ---- what the browser sends back ----------------------------------------------------------------

LAYERS = {"conv1": (6, 28, 28), "pool2": (16, 5, 5)}


def test_a_click_with_its_drawing_is_read():
    image = list(range(256)) * 3 + [0] * 16
    unit = parse_unit_request({"layer": "pool2", "map": 15, "row": 4, "col": 0, "at": 1,
                               "drawing": {"id": "abc", "size": 28, "input": image, "model_id": "m"}}, LAYERS)
    assert (unit.layer, unit.map, unit.row, unit.col) == ("pool2", 15, 4, 0)
    assert unit.drawing.id == "abc" and unit.drawing.image.shape == (28, 28) and unit.drawing.image.dtype == np.uint8
    assert unit.drawing.input_for(28) is unit.drawing.image and unit.drawing.input_for(32) is None  # another size
    assert parse_unit_request({"layer": "conv1", "map": 0, "row": 0, "col": 0}, LAYERS).drawing is None


@pytest.mark.parametrize("request_", [
    None, "conv1", [], {"layer": "fc1", "map": 0, "row": 0, "col": 0}, {"layer": "conv1", "map": 6, "row": 0, "col": 0},
    {"layer": "conv1", "map": 0, "row": -1, "col": 0}, {"layer": "conv1", "map": 0, "row": 0, "col": 28},
    {"layer": "conv1", "map": "0", "row": 0, "col": 0}, {"layer": "conv1", "map": True, "row": 0, "col": 0},
    {"layer": "conv1", "map": 0, "row": 0, "col": 0, "drawing": {"id": "a", "size": 28, "input": [1, 2]}},
    {"layer": "conv1", "map": 0, "row": 0, "col": 0, "drawing": {"id": "", "size": 28, "input": None}},
    {"layer": "conv1", "map": 0, "row": 0, "col": 0, "drawing": {"id": "a", "size": 10 ** 9, "input": None}},
    {"layer": "conv1", "map": 0, "row": 0, "col": 0, "drawing": {"id": "a", "size": 2, "input": [0, 1, 2, "x"]}},
], ids=lambda r: repr(r)[:40])
def test_a_garbage_request_is_a_keyed_error_not_an_exception(request_):
    with pytest.raises(PayloadError) as caught:
        parse_unit_request(request_, LAYERS)
    assert caught.value.key == "nv.bad_request" and "cannot read" in str(caught.value)


def test_a_blank_drawing_and_out_of_range_pixels():
    assert parse_drawing({"id": "blank", "size": 28, "input": None}).image is None
    drawing = parse_drawing({"id": "x", "size": 2, "input": [-5, 0, 255, 999]})
    assert drawing.image.tolist() == [[0, 0], [255, 255]]  # clipped to 0..255


# ---- the Learn panel's stepped network, sent with a click for the inspector ------------------------

def _stepped_classic() -> tuple[torch.nn.Module, dict, str, int]:
    """A classic LeNet and its weights after a few "steps" (moved as learn.js would), as the browser sends
    them: the served model's id, the step count and base64 little-endian float32 in layout order."""
    spec = PRESETS["classic"]
    torch.manual_seed(0)
    served = build_model(spec).eval()
    moved = {name: value + 0.05 * torch.randn_like(value) for name, value in served.state_dict().items()}
    flat = np.concatenate([moved[entry["name"]].numpy().ravel() for entry in tensor_layout(spec)]).astype("<f4")
    model_id = model_payload(spec, [served.state_dict()])["model_id"]
    report = {"model_id": model_id, "steps": 3, "weights": base64.b64encode(flat.tobytes()).decode("ascii")}
    return served, report, model_id, flat.size


def test_stepped_weights_rebuild_the_network_the_browser_shows():
    spec = PRESETS["classic"]
    served, report, model_id, count = _stepped_classic()
    weights = parse_stepped(report, model_id, count)
    assert (weights.model_id, weights.steps) == (model_id, 3) and weights.values.dtype == np.float32
    model = stepped_model(spec, weights)
    assert not model.training
    flat = np.concatenate([value.numpy().ravel() for value in model.state_dict().values()])
    np.testing.assert_array_equal(flat, weights.values)  # every float exactly, in layout order
    x = torch.rand(1, 1, 28, 28)
    with torch.no_grad():
        assert not torch.allclose(model(x), served(x), atol=1e-3)  # not the served network


@pytest.mark.parametrize("report", [None, {"model_id": "m", "steps": 0, "weights": None}])
def test_no_steps_means_the_served_weights(report):
    assert parse_stepped(report, "m", 10) is None


_GOOD = _stepped_classic()[1]
_NAN = np.zeros(61706, dtype="<f4")
_NAN[[5, 7]] = [np.nan, np.inf]


@pytest.mark.parametrize("report, detail", [
    ("weights", "not an object"),
    ({**_GOOD, "model_id": "another"}, "another model"),
    ({**_GOOD, "steps": -1}, "steps"),
    ({**_GOOD, "steps": True}, "steps"),
    ({**_GOOD, "steps": "3"}, "steps"),
    ({**_GOOD, "weights": None}, "weights"),
    ({**_GOOD, "weights": [1.0, 2.0]}, "weights"),
    ({**_GOOD, "weights": _GOOD["weights"][:4000]}, "750 numbers for 61,706"),
    ({**_GOOD, "weights": _GOOD["weights"] + "AAAA"}, "numbers for 61,706"),
    ({**_GOOD, "weights": "A" * 50_000_000}, "numbers for 61,706"),  # refused before decoding
    ({**_GOOD, "weights": "!" * 8}, "not base64"),
    ({**_GOOD, "weights": base64.b64encode(_NAN.tobytes()).decode()}, "2 numbers not finite"),
], ids=lambda r: repr(r)[:40])
def test_garbage_weights_are_a_keyed_error_not_an_exception(report, detail):
    model_id = _GOOD["model_id"]
    with pytest.raises(PayloadError) as caught:
        parse_stepped(report, model_id, 61706)
    assert caught.value.key == "nv.inspect_step_bad" and detail in str(caught.value)
    assert "inspector was not changed" in str(caught.value)
    assert "检查器没有改变" in caught.value.text("zh")
