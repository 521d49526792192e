"""The feature-maps page in AppTest: a drawing injected into the canvas, samples, uploads, models."""

from __future__ import annotations

import base64
import io
import json

import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from lenet_viz import model_store
from lenet_viz.checkpoints import checkpoint_bytes
from lenet_viz.models import PRESETS, ConvBlock, LeNetSpec, build_model, layer_plan

PAGE = "../../app_pages/feature_maps.py"
CANVAS = "fm_canvas_0"
HAVE_BUNDLED = bool(model_store.bundled_models())
needs_bundled = pytest.mark.skipif(not HAVE_BUNDLED, reason="the bundled models are not in assets/models yet")


def drawing(lines=((70, 60), (210, 60), (120, 240))) -> dict:
    """What streamlit-drawable-canvas puts in session state after a stroke: a white 7 on black."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line(list(lines), fill=(255, 255, 255, 255), width=20)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else "")
    return titles


def start(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def custom_checkpoint() -> tuple[LeNetSpec, bytes]:
    torch.manual_seed(0)
    spec = LeNetSpec(conv=(ConvBlock(8, 3, padding=1, pool="max"), ConvBlock(12, 3, pool="avg")), activation="relu")
    return spec, checkpoint_bytes(build_model(spec), spec, "mnist", tuple("0123456789"))


@pytest.mark.slow
@needs_bundled
def test_empty_canvas_shows_the_network_on_a_test_image_until_something_is_drawn():
    at = start()
    assert not at.exception
    assert any("Draw a digit" in info.value and "shows a test image" in info.value for info in at.info)
    captions = [i.caption for element in at.get("image") for i in element.proto.imgs]
    assert any("test image #" in c and "label: 7" in c for c in captions)
    assert at.metric[0].value == "7" and len(chart_titles(at)) >= 8  # the whole network, at once
    at.session_state[CANVAS] = drawing(((150, 40), (150, 240)))  # a drawn 1 replaces it
    at.run()
    assert not any("shows a test image" in info.value for info in at.info)
    assert at.metric[0].value == "1"


def test_without_samples_for_its_data_an_empty_canvas_only_asks_for_a_drawing():
    spec = PRESETS["modern"]
    data = checkpoint_bytes(build_model(spec), spec, None, tuple("0123456789"))  # trained on unknown data
    at = start(fm_uploaded_models={"Uploaded: net.pt": data}, fm_model="Uploaded: net.pt")
    assert not at.exception and not at.metric
    assert any("Draw a digit" in info.value and "test image" not in info.value for info in at.info)


@pytest.mark.slow
@needs_bundled
def test_fashion_model_asks_for_clothing_and_fills_the_image():
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at = start(fm_model=fashion)
    assert any("Draw a piece of clothing" in info.value for info in at.info)
    at.radio(key="fm_source").set_value("Upload").run()
    assert "Picture of a piece of clothing" in [u.label for u in at.get("file_uploader")]
    at = start(fm_model=fashion, **{CANVAS: drawing()})
    assert any("scaled into 28×28" in i.caption for element in at.get("image") for i in element.proto.imgs)


@needs_bundled
def test_drawn_seven_is_predicted_and_every_layer_shown():
    at = start()
    at.session_state[CANVAS] = drawing()
    at.run()
    assert not at.exception and not at.error
    assert at.metric[0].label == "Prediction" and at.metric[0].value == "7"
    titles = " | ".join(chart_titles(at))
    for text in ("conv1</b> (C1) · convolution · 6×28×28", "pool1</b> (S2) · max pooling · 6×14×14",
                 "conv2</b> (C3) · convolution · 16×10×10", "pool2</b> (S4) · max pooling · 16×5×5",
                 "act1</b> · ReLU · 6×28×28", "conv1</b> kernels", "conv2</b> kernels"):
        assert text in titles
    assert at.latex and "0." in at.latex[0].value  # the inspected unit's arithmetic


@needs_bundled
def test_colour_scale_and_unit_inspector_follow_the_widgets():
    at = start()
    at.session_state[CANVAS] = drawing()
    at.run()
    at.radio(key="fm_scale").set_value("per map").run()
    colorbar = json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]["colorbar"]
    assert colorbar["title"]["text"] == "÷ map max"
    at.slider(key="fm_unit_row").set_value(11).run()
    at.slider(key="fm_unit_col").set_value(11).run()
    at.selectbox(key="fm_unit_layer").set_value("pool2").run()
    assert not at.exception
    assert at.slider(key="fm_unit_row").max == 4  # the sliders follow the 5×5 maps of pool2
    # the position jumps to the strongest unit of the map, not to the clamped corner (4, 4)
    caption = next(c.value for c in at.caption if c.value.startswith("The network computed"))
    row, col = at.slider(key="fm_unit_row").value, at.slider(key="fm_unit_col").value
    assert f"pool2[{at.number_input(key='fm_unit_map').value}, {row}, {col}]" in caption
    assert float(caption.split()[3]) > 0
    assert at.number_input(key="fm_unit_map").max == 15
    assert "max" in at.latex[0].value


@pytest.mark.slow
@needs_bundled
def test_fashion_sample_is_classified_with_class_names():
    at = start()
    fashion = next(m.label for m in model_store.bundled_models() if m.dataset == "fashion-mnist")
    at.selectbox(key="fm_model").set_value(fashion).run()
    at.radio(key="fm_source").set_value("Sample").run()
    assert not at.exception
    if not at.selectbox(key="fm_sample").options:
        pytest.skip("no bundled Fashion-MNIST samples yet")
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
    assert at.metric[0].value in classes
    assert "sigmoid" in " ".join(chart_titles(at))


@needs_bundled
def test_uploaded_picture_and_bad_picture():
    at = start()
    at.radio(key="fm_source").set_value("Upload").run()
    img = Image.new("L", (300, 240), 235)
    ImageDraw.Draw(img).line([(60, 40), (240, 40), (130, 220)], fill=15, width=18)  # dark 7 on paper
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG")
    at.file_uploader(key="fm_picture").upload("seven.jpg", buffer.getvalue(), "image/jpeg").run()
    assert not at.exception and at.metric[0].value == "7"
    at.file_uploader(key="fm_picture").set_value(("seven.png", b"not a picture", "image/png")).run()
    assert not at.exception and not at.metric
    assert "not a picture" in at.error[0].value
    assert not at.info  # the error alone, no "choose an input" beside it


@needs_bundled
def test_bad_checkpoint_upload_keeps_the_current_model():
    at = start()
    before = at.selectbox(key="fm_model").value
    at.file_uploader(key="fm_checkpoint_file").upload("junk.pt", b"junk", "application/octet-stream").run()
    assert not at.exception
    assert at.selectbox(key="fm_model").value == before
    assert any("not a readable checkpoint" in e.value and "current model stays" in e.value for e in at.error)


def test_saved_and_uploaded_models_of_any_shape():
    spec, data = custom_checkpoint()
    at = start(saved_models={"my net": data}, fm_model="Saved: my net", **{CANVAS: drawing()})
    assert not at.exception and not at.error
    titles = " | ".join(chart_titles(at))
    for row in layer_plan(spec).layers:
        if len(row.output_shape) == 3:
            assert f"{row.name}</b>" in titles and "×".join(map(str, row.output_shape)) in titles
    assert "conv1</b> kernels · 8 maps × 1 input · 3×3" in titles
    at.file_uploader(key="fm_checkpoint_file").upload("other.pt", data, "application/octet-stream").run()
    assert at.selectbox(key="fm_model").value == "Uploaded: other.pt"


def test_no_model_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(model_store, "MODELS_DIR", tmp_path)
    at = start()
    assert not at.exception
    assert "No model is available" in at.warning[0].value
    assert at.file_uploader(key="fm_checkpoint_file")  # and a way out


def test_classic_preset_checkpoint_runs_end_to_end():
    """The page with a classic (sigmoid, average pooling) network: LeCun's names in the titles."""
    spec = PRESETS["classic"]
    data = checkpoint_bytes(build_model(spec), spec, "fashion-mnist", tuple(f"c{i}" for i in range(10)))
    at = start(saved_models={"classic": data}, fm_model="Saved: classic", **{CANVAS: drawing()})
    assert not at.exception
    assert at.metric[0].value in {f"c{i}" for i in range(10)}
    assert "pool2</b> (S4) · average pooling · 16×5×5" in " | ".join(chart_titles(at))


def test_one_cell_maps_can_be_inspected():
    """A network whose last pooling leaves 1×1 maps: no slider over a single position, no error."""
    spec = LeNetSpec(conv=(ConvBlock(4, 5, pool="max", pool_kernel=4, pool_stride=4), ConvBlock(6, 6, pool="none")),
                     hidden=(16,), activation="relu")
    data = checkpoint_bytes(build_model(spec), spec, "mnist", tuple("0123456789"))
    at = start(saved_models={"tiny": data}, fm_model="Saved: tiny", **{CANVAS: drawing()})
    at.selectbox(key="fm_unit_layer").set_value("conv2").run()
    assert not at.exception
    assert any("Row: 0 (the map is one cell high)" in c.value for c in at.caption)
    assert any("conv2[" in c.value and ", 0, 0]" in c.value for c in at.caption)


@needs_bundled
def test_each_new_input_starts_the_inspector_on_its_strongest_unit():
    at = start()  # the example 7
    first = (at.session_state["fm_unit_row"], at.session_state["fm_unit_col"])
    at.session_state[CANVAS] = drawing(((150, 40), (150, 240)))  # a 1: its ink is elsewhere
    at.run()
    assert (at.session_state["fm_unit_row"], at.session_state["fm_unit_col"]) != first
    computed = next(c.value for c in at.caption if c.value.startswith("The network computed"))
    assert float(computed.split()[3]) > 0.5  # a unit that responds, not a dead spot
