"""The feature-maps page in AppTest: the live view's data, samples, uploads, models, and the
server-side unit inspector: closed (computing nothing) until a click, then on the drawing the
browser sent with it (set here as the click's callback leaves it, in the page's FeatureMapsState)."""

from __future__ import annotations

import base64
import io
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from lenet_viz import activations, model_store, preprocess
from lenet_viz import netview_component as nv
from lenet_viz.checkpoints import checkpoint_bytes, load_checkpoint
from lenet_viz.i18n import t
from lenet_viz.models import PRESETS, ConvBlock, LeNetSpec, build_model, layer_plan
from lenet_viz.netview_payload import Drawing, PayloadError, SteppedNetwork, tensor_layout
from lenet_viz.page_state import FeatureMapsState

PAGE = "../../app_pages/feature_maps.py"
HAVE_BUNDLED = bool(model_store.bundled_models())
needs_bundled = pytest.mark.skipif(not HAVE_BUNDLED, reason="the bundled models are not in assets/models yet")
SEVEN = ((70, 60), (210, 60), (120, 240))


def drawing(lines=SEVEN, size: int = 28, fill: float = preprocess.MNIST_FILL) -> Drawing:
    """A drawing as the browser sends it with a click: the input it computed (the port of lenet_viz.preprocess)."""
    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line(list(lines), fill=255, width=20)
    return Drawing(id=f"d{hash(lines)}", size=size, image=preprocess.mnist_style(np.asarray(img), size, fill).image)


def page(**fields) -> dict:
    """The page's state as a test sets it before the first run: ``start(**page(model=...))``."""
    return {FeatureMapsState.state_key(): FeatureMapsState(**fields)}


def inspecting(drawing: Drawing | None = None, **more) -> dict:
    """The page's state after a click on a unit (the inspector open) on ``drawing`` (``more``: other fields)."""
    return page(drawing=drawing, inspecting=True, **more)


def state_of(at: AppTest) -> FeatureMapsState:
    """The page's state after the last run."""
    return at.session_state[FeatureMapsState.state_key()]


def view_data(at: AppTest) -> dict:
    """The JSON the page handed the live network view on its last run."""
    views = [e for e in at.get("bidi_component") if e.proto.component_name == "lenet-viz.netview"]
    assert len(views) == 1
    return json.loads(views[0].proto.json)


def start(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def custom_checkpoint() -> tuple[LeNetSpec, bytes]:
    torch.manual_seed(0)
    spec = LeNetSpec(conv=(ConvBlock(8, 3, padding=1, pool="max"), ConvBlock(12, 3, pool="avg")), activation="relu")
    return spec, checkpoint_bytes(build_model(spec), spec, "mnist", tuple("0123456789"))


@needs_bundled
def test_empty_pad_shows_the_network_on_a_test_image_and_the_page_computes_nothing_more():
    at = start()
    assert not at.exception
    assert any("Draw a digit" in info.value for info in at.info)
    # that a test image is on show is said under the pad only, where the view hides it once something
    # is drawn (the page never knows of the drawing): a note above it would stay
    assert not [info.value for info in at.info if "test image" in info.value]
    data = view_data(at)
    assert data["hint"].startswith("Until you draw, everything below shows test image #") and "label: 7" in data["hint"]
    assert data["mode"] == "draw" and len(data["input"]) == 28 * 28 and data["inspecting"] is False
    assert [layer["name"] for layer in data["model"]["layers"]] == [
        layer.name for layer in layer_plan(_bundled_spec()).layers]
    assert not at.metric  # the prediction is the view's, shown once
    assert not at.latex and any("Click a unit" in c.value for c in at.caption)  # the inspector: closed, nothing run


def _bundled_spec() -> LeNetSpec:
    from lenet_viz.checkpoints import load_checkpoint

    return load_checkpoint(model_store.bundled_models()[0].path).spec


@needs_bundled
def test_weights_go_to_the_browser_once_per_model():
    at = start()
    first = view_data(at)
    assert first["model"] is not None and first["model"]["model_id"] == first["model_id"]
    assert first["model"]["dtype"] == "float32" and isinstance(first["model"]["weight_sets"][0], str)  # base64
    assert first["texts"]["pen"] == "Pen" and first["texts_id"] == "live-en"
    at.run()
    again = view_data(at)
    assert again["model"] is None and again["model_id"] == first["model_id"]  # only the id on later reruns
    assert again["texts"] is None and again["texts_id"] == "live-en"  # the words too
    assert len(json.dumps(again)) < len(json.dumps(first)) / 20
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at.selectbox(key=FeatureMapsState.key("model")).set_value(fashion).run()
    other = view_data(at)
    assert other["model"] is not None and other["model_id"] != first["model_id"] and other["fill"] == 1.0
    at.selectbox(key=FeatureMapsState.key("model")).set_value(at.selectbox(key=FeatureMapsState.key("model")).options[0]).run()
    assert view_data(at)["model"] is None  # the page still has the first model's weights


@needs_bundled
def test_a_page_that_lost_the_weights_gets_them_again():
    at = start()
    at.session_state["_netview_sent"] = set()  # as if the page had never received them
    at.run()
    assert view_data(at)["model"] is not None and view_data(at)["texts"] is not None


@needs_bundled
def test_fashion_model_asks_for_clothing_and_fills_the_image():
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at = start(**page(model=fashion))
    assert any("Draw a piece of clothing" in info.value for info in at.info)
    assert view_data(at)["fill"] == preprocess.FASHION_FILL
    at.radio(key=FeatureMapsState.key("source")).set_value("upload").run()
    assert "Picture of a piece of clothing" in [u.label for u in at.get("file_uploader")]


@needs_bundled
def test_the_inspector_reads_the_drawing_sent_with_the_click():
    at = start(**inspecting(drawing()))
    assert not at.exception and not at.error
    assert at.latex and "0." in at.latex[0].value  # the inspected unit's arithmetic
    caption = next(c.value for c in at.caption if c.value.startswith("The network computed"))
    assert float(caption.split()[3]) > 0  # the strongest unit of the drawn 7, not a dead one
    data = view_data(at)
    state = state_of(at)
    assert data["unit"] == {"layer": state.unit_layer, "map": state.unit_map, "row": state.unit_row,
                            "col": state.unit_col}
    assert data["inspecting"] is True  # pen lifts now send the drawing: the inspector follows it
    next(b for b in at.button if b.label == "Close the inspector").click().run()
    assert not at.latex and view_data(at)["unit"] is None and view_data(at)["inspecting"] is False


@needs_bundled
def test_a_drawing_for_another_input_size_is_not_used():
    at = start(**inspecting(drawing(size=32)))
    assert not at.exception and not at.latex
    assert any("another input size" in info.value for info in at.info)  # a clear message, not a wrong input


@needs_bundled
def test_a_request_the_page_cannot_read_is_a_message():
    at = start(**inspecting(problem=PayloadError.keyed("nv.bad_request", detail="layer")))
    assert not at.exception
    assert "cannot read (layer)" in at.warning[0].value and "nothing was changed" in at.warning[0].value
    at.run()
    assert not at.warning  # said once


@needs_bundled
def test_unit_inspector_follows_the_widgets():
    at = start(**inspecting(drawing()))
    at.slider(key=FeatureMapsState.key("unit_row")).set_value(11).run()
    at.slider(key=FeatureMapsState.key("unit_col")).set_value(11).run()
    at.selectbox(key=FeatureMapsState.key("unit_layer")).set_value("pool2").run()
    assert not at.exception
    assert at.slider(key=FeatureMapsState.key("unit_row")).max == 4  # the sliders follow the 5×5 maps of pool2
    row, col = (at.slider(key=FeatureMapsState.key(name)).value for name in ("unit_row", "unit_col"))
    caption = next(c.value for c in at.caption if c.value.startswith("The network computed"))
    assert f"pool2[{at.number_input(key=FeatureMapsState.key('unit_map')).value}, {row}, {col}]" in caption
    assert at.number_input(key=FeatureMapsState.key("unit_map")).max == 15
    assert "max" in at.latex[0].value
    assert view_data(at)["unit"]["layer"] == "pool2"  # the view marks the inspected unit


@needs_bundled
def test_the_settings_and_the_inspected_unit_survive_a_visit_to_another_page():
    """Streamlit forgets a widget's value when a run leaves it out: the page's state keeps them."""
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("app_pages/feature_maps.py").run()
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at.selectbox(key=FeatureMapsState.key("model")).set_value(fashion).run()
    at.radio(key=FeatureMapsState.key("source")).set_value("sample").run()
    at.selectbox(key=FeatureMapsState.key("sample")).set_value(3).run()
    state_of(at).inspecting = True  # as after a click on a unit
    at.run()
    at.selectbox(key=FeatureMapsState.key("unit_layer")).set_value("conv2").run()
    at.slider(key=FeatureMapsState.key("unit_row")).set_value(2).run()
    at.switch_page("app_pages/output_size.py").run()
    at.switch_page("app_pages/feature_maps.py").run()
    assert not at.exception
    assert at.selectbox(key=FeatureMapsState.key("model")).value == fashion
    assert at.radio(key=FeatureMapsState.key("source")).value == "sample"
    assert at.selectbox(key=FeatureMapsState.key("sample")).value == 3
    assert at.selectbox(key=FeatureMapsState.key("unit_layer")).value == "conv2"
    assert at.slider(key=FeatureMapsState.key("unit_row")).value == 2


@needs_bundled
def test_fashion_sample_is_handed_to_the_view():
    at = start()
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at.selectbox(key=FeatureMapsState.key("model")).set_value(fashion).run()
    at.radio(key=FeatureMapsState.key("source")).set_value("sample").run()
    assert not at.exception
    if not at.selectbox(key=FeatureMapsState.key("sample")).options:
        pytest.skip("no bundled Fashion-MNIST samples yet")
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
    data = view_data(at)
    assert data["mode"] == "input" and data["classes"] == list(classes)
    samples = model_store.load_samples("fashion-mnist")
    assert data["input"] == samples.images[at.selectbox(key=FeatureMapsState.key("sample")).value].ravel().tolist()


@needs_bundled
def test_uploaded_picture_and_bad_picture():
    at = start()
    at.radio(key=FeatureMapsState.key("source")).set_value("upload").run()
    img = Image.new("L", (300, 240), 235)
    ImageDraw.Draw(img).line([(60, 40), (240, 40), (130, 220)], fill=15, width=18)  # dark 7 on paper
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG")
    at.file_uploader(key=FeatureMapsState.key("picture")).upload("seven.jpg", buffer.getvalue(), "image/jpeg").run()
    assert not at.exception
    data = view_data(at)
    assert data["mode"] == "input" and len(data["input"]) == 784 and max(data["input"]) > 200
    assert any("scaled into 20×20" in i.caption for element in at.get("image") for i in element.proto.imgs)
    at.file_uploader(key=FeatureMapsState.key("picture")).set_value(("seven.png", b"not a picture", "image/png")).run()
    assert not at.exception
    assert "not a picture" in at.error[0].value
    assert not at.info  # the error alone, no "choose an input" beside it
    at.file_uploader(key=FeatureMapsState.key("picture")).upload("notes.txt", b"my notes", "text/plain").run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("error.not_a_picture", "en")]
    assert at.file_uploader(key=FeatureMapsState.key("picture")).proto.type == []  # any file reaches the page


@needs_bundled
@pytest.mark.parametrize("name, data, said", [
    ("junk.pt", b"junk", ("not a readable checkpoint",)),
    # a new user's try: random bytes are damaged, not "could run code"
    ("junk.pt", random.Random(3).randbytes(3000), ("not a readable checkpoint", "damaged or incomplete")),
    ("notes.txt", b"my notes", ("“notes.txt” is not a checkpoint", ".pt / .pth")),  # any file reaches the page
])
def test_a_bad_checkpoint_upload_is_refused_in_words_and_keeps_the_current_model(name, data, said):
    at = start()
    before = at.selectbox(key=FeatureMapsState.key("model")).value
    at.file_uploader(key=FeatureMapsState.key("file")).upload(name, data, "application/octet-stream").run()
    assert not at.exception
    assert at.selectbox(key=FeatureMapsState.key("model")).value == before
    assert any(all(words in e.value for words in (*said, "current model stays")) for e in at.error), \
        [e.value for e in at.error]
    assert at.file_uploader(key=FeatureMapsState.key("file")).proto.type == []


def test_saved_and_uploaded_models_of_any_shape():
    spec, data = custom_checkpoint()
    at = start(saved_models={"my net": data}, **inspecting(drawing(), model="Saved: my net"))
    assert not at.exception and not at.error
    view = view_data(at)
    assert view["model"]["layers"] == [layer.to_dict() for layer in layer_plan(spec).layers]
    assert at.latex  # the inspector runs on this network too
    assert view["model"]["spec"] == spec.to_dict()
    at.file_uploader(key=FeatureMapsState.key("file")).upload("other.pt", data, "application/octet-stream").run()
    assert at.selectbox(key=FeatureMapsState.key("model")).value == "Uploaded: other.pt"


def test_without_samples_for_its_data_an_empty_pad_only_asks_for_a_drawing():
    spec = PRESETS["modern"]
    data = checkpoint_bytes(build_model(spec), spec, None, tuple("0123456789"))  # trained on unknown data
    at = start(uploaded_models={"Uploaded: net.pt": data}, **page(model="Uploaded: net.pt"))
    assert not at.exception
    assert any("Draw a digit" in info.value and "test image" not in info.value for info in at.info)
    assert view_data(at)["input"] is None  # the view shows an empty pad


def test_no_model_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(model_store, "MODELS_DIR", tmp_path)
    at = start()
    assert not at.exception
    assert "No model is available" in at.warning[0].value
    assert at.file_uploader(key=FeatureMapsState.key("file"))  # and a way out


def test_classic_preset_checkpoint_runs_end_to_end():
    """The page with a classic (sigmoid, average pooling) network and class names of its own."""
    spec = PRESETS["classic"]
    data = checkpoint_bytes(build_model(spec), spec, "fashion-mnist", tuple(f"c{i}" for i in range(10)))
    at = start(saved_models={"classic": data},
               **inspecting(drawing(fill=preprocess.FASHION_FILL), model="Saved: classic"))
    assert not at.exception and at.latex
    assert view_data(at)["classes"] == [f"c{i}" for i in range(10)]


def test_one_cell_maps_can_be_inspected():
    """A network whose last pooling leaves 1×1 maps: no slider over a single position, no error."""
    spec = LeNetSpec(conv=(ConvBlock(4, 5, pool="max", pool_kernel=4, pool_stride=4), ConvBlock(6, 6, pool="none")),
                     hidden=(16,), activation="relu")
    data = checkpoint_bytes(build_model(spec), spec, "mnist", tuple("0123456789"))
    at = start(saved_models={"tiny": data}, **inspecting(drawing(), model="Saved: tiny"))
    at.selectbox(key=FeatureMapsState.key("unit_layer")).set_value("conv2").run()
    assert not at.exception
    assert any("Row: 0 (the map is one cell high)" in c.value for c in at.caption)
    assert any("conv2[" in c.value and ", 0, 0]" in c.value for c in at.caption)


@needs_bundled
def test_each_new_input_starts_the_inspector_on_its_strongest_unit():
    at = start(**inspecting())  # the example 7
    first = (state_of(at).unit_row, state_of(at).unit_col)
    state_of(at).drawing = drawing(((150, 40), (150, 240)))  # a 1: its ink is elsewhere
    at.run()
    assert (state_of(at).unit_row, state_of(at).unit_col) != first
    computed = next(c.value for c in at.caption if c.value.startswith("The network computed"))
    assert float(computed.split()[3]) > 0.5  # a unit that responds, not a dead spot


# ---- after "Learn from this" stepped the network in the browser ------------------------------------

UNIT = {"unit_layer": "conv2", "unit_map": 5, "unit_row": 4, "unit_col": 4}


def _stepped_digits(steps: int = 3):
    """The bundled digits model, and the same network with its weights moved as the browser's steps
    would move them, as the page keeps it after a click (a SteppedNetwork of the served model's id)."""
    ckpt = load_checkpoint(model_store.bundled_models()[0].path)
    moved = load_checkpoint(model_store.bundled_models()[0].path).model
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in moved.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return ckpt, SteppedNetwork(nv.payload(ckpt)["model_id"], steps, moved)


def _inspector_value(at: AppTest) -> float:
    """The value the inspector's caption gives (``fm.unit_value``, 4 decimals, in either language)."""
    caption = next(c.value for c in at.caption if c.value.startswith(("The network computed", "网络为")))
    return float(re.search(r"-?\d+\.\d{4}", caption).group())


def _start_in(lang: str, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


@needs_bundled
@pytest.mark.slow
@pytest.mark.parametrize("lang, note", [("en", "the trained network after 3 steps of Learn from this"),
                                        ("zh", "中走了 3 步之后")])
def test_the_inspector_shows_the_network_the_view_stepped(lang, note):
    ckpt, stepped = _stepped_digits()
    seven = drawing()
    trained = _start_in(lang, **inspecting(seven, clicked=True, **UNIT))
    at = _start_in(lang, **inspecting(seven, clicked=True, stepped=stepped, **UNIT))
    assert not at.exception and not trained.exception
    assert not any(note in info.value for info in trained.info)
    assert any(note in info.value for info in at.info)  # it says which network it shows
    acts = activations.run(stepped.model, ckpt.spec, preprocess.to_tensor(seven.image, 1))
    assert _inspector_value(at) == pytest.approx(float(acts["conv2"].values[5, 4, 4]), abs=1e-4)
    assert abs(_inspector_value(at) - _inspector_value(trained)) > 1e-3


@needs_bundled
def test_one_step_and_steps_of_another_model():
    ckpt, stepped = _stepped_digits(steps=1)
    at = start(**inspecting(drawing(), clicked=True, stepped=stepped, **UNIT))
    assert any("after 1 step of Learn from this" in info.value for info in at.info)
    other = SteppedNetwork("another-model", 4, stepped.model)  # the learner has since chosen another model
    at = start(**inspecting(drawing(), clicked=True, stepped=other, **UNIT))
    assert not at.exception and not any("steps of Learn" in info.value for info in at.info)


def test_the_click_and_the_steps_reach_the_inspector_and_garbage_changes_nothing(monkeypatch):
    """The component's callbacks (``_take_unit``, ``_take_steps``) on what the browser sends, with the
    session state a plain dict: the stepped weights become the inspector's model; bad weights leave
    the unit, the drawing and the model as they were, with a message."""
    if not HAVE_BUNDLED:
        pytest.skip("the bundled models are not in assets/models yet")
    ckpt, stepped = _stepped_digits()
    flat = np.concatenate([stepped.model.state_dict()[entry["name"]].numpy().ravel()
                           for entry in tensor_layout(ckpt.spec)]).astype("<f4")
    model_id = nv.payload(ckpt)["model_id"]
    weights = {"model_id": model_id, "steps": 3, "weights": base64.b64encode(flat.tobytes()).decode()}
    session: dict = {}
    monkeypatch.setattr(nv.st, "session_state", session)

    session[nv.KEY] = {"stepped_unit": {"layer": "conv2", "map": 5, "row": 4, "col": 4, "stepped": weights}}
    nv._take_unit(ckpt, "stepped_unit")
    state = nv.page_state()
    assert state.problem is None and state.inspecting and state.stepped.steps == 3
    model, steps = nv.inspected_model(ckpt)
    assert steps == 3 and all(torch.equal(a, b) for a, b in zip(model.parameters(), stepped.model.parameters()))

    garbage = {**weights, "weights": weights["weights"][:-8] + "!!!!!!!!"}
    session[nv.KEY] = {"stepped_unit": {"layer": "pool2", "map": 0, "row": 0, "col": 0, "stepped": garbage}}
    nv._take_unit(ckpt, "stepped_unit")
    assert state.problem.key == "nv.inspect_step_bad" and "not base64" in str(state.problem)
    assert state.unit_layer == session[FeatureMapsState.key("unit_layer")] == "conv2"  # nothing changed
    assert nv.inspected_model(ckpt)[0] is model

    session[nv.KEY] = {"stepped": {"model_id": model_id, "steps": 0, "weights": None}}  # Reset weights
    nv._take_steps(ckpt)
    assert nv.inspected_model(ckpt) == (ckpt.model, 0)
    session[nv.KEY] = {"stepped": weights}  # Step, with the inspector open
    nv._take_steps(ckpt)
    assert nv.inspected_model(ckpt)[1] == 3
    session[nv.KEY] = {"unit": {"layer": "conv1", "map": 0, "row": 0, "col": 0}}  # a click after Undo to 0 steps
    nv._take_unit(ckpt, "unit")
    assert nv.inspected_model(ckpt) == (ckpt.model, 0)


# A server's first visit, in a process that has not imported torch: the page as AppTest runs it,
# with the pad's mount (nv.loading_view) noting whether torch was imported when the pad went out.
FIRST_VISIT = """
import json, sys
from streamlit.testing.v1 import AppTest
from lenet_viz import netview_component as nv

mounts, loading_view = [], nv.loading_view
def noting(**kwargs):
    mounts.append({"torch imported": "torch" in sys.modules, **kwargs})
    loading_view(**kwargs)
nv.loading_view = noting
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
views = [json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == "lenet-viz.netview"]
print(json.dumps({"mounts": mounts, "exceptions": [e.value for e in at.exception],
                  "views": [{"loading": v.get("loading"), "model": v.get("model") is not None} for v in views],
                  "info": [i.value for i in at.info], "torch imported": "torch" in sys.modules}))
"""


@needs_bundled
@pytest.mark.slow
def test_a_first_visit_shows_the_pad_before_torch_then_the_network():
    """A deep link to a fresh server: the pad (a view with no network yet) goes out before torch is
    imported, then the page loads torch and the model and runs again, with the whole view."""
    from tests.environment import process_environment

    page = Path(__file__).resolve().parents[2] / "app_pages" / "feature_maps.py"
    proc = subprocess.run([sys.executable, "-c", FIRST_VISIT, str(page)], cwd=page.parents[1], capture_output=True,
                          text=True, timeout=300, env=process_environment())
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["mounts"] == [{"torch imported": False, "mode": "draw", "lang": "en",
                               "hint": "Until you draw, everything below shows a test image."}]  # under the pad
    assert seen["exceptions"] == [] and seen["torch imported"]
    assert seen["views"] == [{"loading": None, "model": True}]  # the same view, now with its network
    assert any("Draw a digit" in info for info in seen["info"])
    assert not [info for info in seen["info"] if "test image" in info]  # said under the pad, hidden once drawn
