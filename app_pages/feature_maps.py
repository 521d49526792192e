"""Feature maps: draw a digit, pick a sample or upload a picture, and watch every layer respond."""

from functools import partial

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from lenet_viz import activations, preprocess, ui
from lenet_viz import feature_figures as ff
from lenet_viz.checkpoints import Checkpoint, CheckpointError, check_upload
from lenet_viz.model_store import BundledModel, Samples, bundled_models, example_index, load_samples
from lenet_viz.models import layer_plan

CANVAS_PX = 280
PLOT = {"displayModeBar": False}
UPLOADED = "fm_uploaded_models"  # {label: checkpoint bytes} uploaded on this page


def _on_checkpoint_upload() -> None:
    """Load an uploaded checkpoint; select it if it is valid, keep the current model if not."""
    file = st.session_state.get("fm_checkpoint_file")
    if file is None:
        return
    data = file.getvalue()
    try:
        check_upload(data)
        ui.load_saved(data)
    except CheckpointError as exc:
        st.session_state["fm_checkpoint_error"] = str(exc)
        return
    label = f"Uploaded: {file.name}"
    st.session_state.setdefault(UPLOADED, {})[label] = data
    st.session_state["fm_model"] = label
    st.session_state.pop("fm_checkpoint_error", None)


def _select_clicked_unit(layer_name: str, shape: tuple[int, int, int]) -> None:
    """A click on a cell of a layer's grid: inspect that unit below."""
    event = st.session_state.get(f"fm_grid_{layer_name}")
    points = event.selection.points if event else []
    unit = ff.unit_at(shape, points[0]["x"], points[0]["y"]) if points else None
    if unit is not None:
        st.session_state["fm_unit_layer"] = layer_name
        st.session_state["fm_unit_map"], st.session_state["fm_unit_row"], st.session_state["fm_unit_col"] = unit


def _position(where, label: str, size: int, key: str) -> int:
    """A slider over a map's rows or columns (a map one cell wide has only position 0)."""
    if size == 1:
        where.caption(f"{label}: 0 (the map is one cell {'high' if label == 'Row' else 'wide'})")
        return 0
    return where.slider(label, 0, size - 1, key=key)


def _clear_canvas() -> None:
    st.session_state["fm_canvas_n"] = st.session_state.get("fm_canvas_n", 0) + 1


def _show(where, image, caption: str) -> None:
    """An image at its own size (never stretched to the column)."""
    where.image(image, caption=caption, width=image.shape[1])


@st.cache_data(show_spinner=False)
def _samples(dataset: str) -> Samples | None:
    return load_samples(dataset)


st.title("Feature maps")
st.caption("Draw, and the whole network reruns when you lift the pen: every feature map, the fully "
           "connected layers and the prediction. Hover any map to read its values; click one to inspect it.")

# --- Model -------------------------------------------------------------------------------------
sources: dict[str, object] = {m.label: m for m in bundled_models()}
sources.update({f"Saved: {label}": data for label, data in ui.saved_models().items()})
sources.update(st.session_state.get(UPLOADED, {}))
model_col, upload_col = st.columns([2, 1])
with upload_col.expander("Upload a checkpoint (.pt)"):
    st.file_uploader("Checkpoint saved by lenet-viz", type=["pt", "pth"], key="fm_checkpoint_file",
                     on_change=_on_checkpoint_upload)
    if error := st.session_state.get("fm_checkpoint_error"):
        st.error(f"{error} The current model stays selected.")
if not sources:
    st.warning("No model is available: the bundled models are missing from `assets/models/`. "
               "Upload a checkpoint above, or train one on the Train page.")
    st.stop()
if st.session_state.get("fm_model") not in sources:
    st.session_state["fm_model"] = next(iter(sources))
with model_col:
    choice = st.selectbox("Model", list(sources), key="fm_model")
    source = sources[choice]
    try:
        ckpt: Checkpoint = (ui.load_bundled(str(source.path)) if isinstance(source, BundledModel)
                                else ui.load_saved(source))
    except CheckpointError as exc:
        st.error(f"This model cannot be loaded: {exc}")
        st.stop()
    acc = f" · test accuracy {ckpt.test_acc:.1%}" if ckpt.test_acc is not None else ""
    st.caption(f"Trained on **{ckpt.dataset or 'unknown data'}** · {ckpt.spec.activation} · "
               f"{layer_plan(ckpt.spec).total_params:,} parameters{acc}")
spec, size = ckpt.spec, ckpt.spec.input_size
fashion = ckpt.dataset == "fashion-mnist"
thing = "a piece of clothing" if fashion else "a digit"
fill = preprocess.FASHION_FILL if fashion else preprocess.MNIST_FILL

# --- Input -------------------------------------------------------------------------------------
mode = st.radio("Input", ["Draw", "Sample", "Upload"], horizontal=True, key="fm_source",
                captions=["white on black, like the dataset", "bundled test images", "a PNG, JPEG, GIF…"])
draw_col, prep_col, pred_col = st.columns([1.3, 1.1, 1.2], gap="medium")
samples = _samples(ckpt.dataset)
prepared = shown_sample = None  # shown_sample: index of the bundled test image on show
with draw_col:
    if mode == "Draw":
        tool = st.radio("Tool", ["Pen", "Eraser"], horizontal=True, key="fm_tool", label_visibility="collapsed")
        pen = tool == "Pen"
        canvas = st_canvas(stroke_width=20 if pen else 36, stroke_color="#ffffff" if pen else "#000000",
                           background_color="#000000", width=CANVAS_PX, height=CANVAS_PX, drawing_mode="freedraw",
                           return_image_data=True, key=f"fm_canvas_{st.session_state.get('fm_canvas_n', 0)}")
        st.button("Clear", icon=":material/delete:", on_click=_clear_canvas, key="fm_clear")
        st.caption("Hover the canvas for undo, redo and reset.")
        if canvas.image_data is not None:
            prepared = preprocess.mnist_style(preprocess.rgba_to_gray(canvas.image_data), size, fill)
        if prepared is None and samples is not None:  # nothing drawn yet: show the network at work on an example
            shown_sample = example_index(samples)
    elif mode == "Sample":
        if samples is None:
            st.info(f"No bundled samples for {ckpt.dataset or 'this model'}'s dataset. Draw or upload instead.")
        else:
            shown_sample = st.selectbox(
                "Test image", range(len(samples.images)), key="fm_sample",
                format_func=lambda i: f"{ckpt.classes[samples.labels[i]]} · test image #{samples.indices[i]}")
            st.caption(f"{len(samples.images)} images from the {ckpt.dataset} test set, a few per class.")
    else:
        picture = st.file_uploader(f"Picture of {thing}", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif",
                                                               "tiff"], key="fm_picture")
        if picture is not None:
            try:
                gray = preprocess.load_upload(picture.getvalue())
            except preprocess.ImageError as exc:
                st.error(str(exc))
                st.stop()
            prepared = preprocess.mnist_style(gray, size, fill)
            if prepared is None:
                st.warning(f"No {thing.removeprefix('a ')} found in this picture: it looks blank.")
                st.stop()

if shown_sample is not None:
    prepared = preprocess.as_input(samples.images[shown_sample], size)
example = mode == "Draw" and shown_sample is not None
if prepared is None or example:
    with prep_col:
        st.info((f"Draw {thing} on the black square: the network runs as soon as you lift the pen."
                 + (" Until then, everything below shows a test image." if example else ""))
                if mode == "Draw" else "Choose an input to see the network at work.", icon=":material/draw:")
if prepared is None:
    st.stop()

with prep_col:
    st.markdown("**What the network sees**")
    if shown_sample is not None:
        label = ckpt.classes[samples.labels[shown_sample]]
        _show(st, preprocess.enlarge(prepared.image, 196 if mode == "Sample" else 112),
              f"{size}×{size} input, as in the dataset: test image #{samples.indices[shown_sample]}, label: {label}")
    else:
        a, b = st.columns(2)
        _show(a, preprocess.outline(prepared.source, prepared.bbox, 112), "1. crop to the ink")
        h, w = prepared.scaled.shape
        _show(b, preprocess.enlarge(prepared.boxed(), 112), f"2. scaled into {max(h, w)}×{max(h, w)} ({w}×{h})")
        _show(st, preprocess.enlarge(prepared.image, 196),
              f"3. {size}×{size} input, centred by centre of mass, pixels in [0, 1]")

acts = activations.run(ckpt.model, spec, preprocess.to_tensor(prepared.image, spec.in_channels))
with pred_col:
    top = acts.prediction
    st.metric("Prediction", ckpt.classes[top], help="The class with the highest probability.")
    st.caption(f"probability {acts.probabilities[top]:.1%}")
    st.plotly_chart(ff.probability_bars(acts.probabilities, ckpt.classes), key="fm_probs", config=PLOT)

# --- Layers ------------------------------------------------------------------------------------
st.subheader("Every layer")
per_map = st.radio("Colour scale", ["per layer", "per map"], horizontal=True, key="fm_scale",
                   help="Per layer: one scale for all maps of a layer, so maps compare. "
                        "Per map: each map stretched to its own maximum, to see faint maps.") == "per map"
st.caption("Click any cell of a map to inspect that unit below.")
for layer in acts.spatial:
    st.plotly_chart(ff.layer_grid(layer, per_map), key=f"fm_grid_{layer.name}", config=PLOT, on_select=partial(
        _select_clicked_unit, layer.name, layer.values.shape), selection_mode="points")
st.plotly_chart(ff.dense_strips(acts, ckpt.classes), key="fm_dense", config=PLOT)

st.subheader("Learned kernels")
st.caption("Red weights add the input under them, blue ones subtract it.")
for name in (row.name for row in layer_plan(spec).layers if row.kind == "conv"):
    weights = getattr(ckpt.model, name).weight.detach().numpy()
    st.plotly_chart(ff.kernel_grid(name, weights), key=f"fm_kernel_{name}", config=PLOT)

# --- Inspect one unit --------------------------------------------------------------------------
st.subheader("Inspect a unit")
names = {layer.name: ff.layer_title(layer).replace("<b>", "").replace("</b>", "") for layer in acts.spatial}
l_col, m_col, r_col, c_col = st.columns([2, 1, 1.5, 1.5])
layer_name = l_col.selectbox("Layer", list(names), format_func=names.get, key="fm_unit_layer")
channels, height, width = acts[layer_name].values.shape
if st.session_state.setdefault("fm_unit_map", 0) >= channels:
    st.session_state["fm_unit_map"] = 0
input_key = hash(prepared.image.tobytes())
if (st.session_state.get("fm_unit_input") != input_key or st.session_state.get("fm_unit_row", height) >= height
        or st.session_state.get("fm_unit_col", width) >= width):
    # a new input, or a layer the old position does not fit: start on the strongest unit, not a dead one
    strong = activations.strongest_unit(acts, layer_name, st.session_state["fm_unit_map"])
    st.session_state["fm_unit_row"], st.session_state["fm_unit_col"] = strong
    st.session_state["fm_unit_input"] = input_key
map_ = m_col.number_input("Map", 0, channels - 1, key="fm_unit_map")
row = _position(r_col, "Row", height, "fm_unit_row")
col_ = _position(c_col, "Column", width, "fm_unit_col")
unit = activations.explain_unit(ckpt.model, spec, acts, layer_name, int(map_), int(row), int(col_))
st.latex(activations.formula_latex(unit))
st.caption(f"The network computed {unit.value:.4f} for {layer_name}[{unit.map}, {unit.row}, {unit.col}]; "
           "the numbers below give the same.")
where, numbers = st.columns([1, 1.4], gap="medium")
with where:
    st.plotly_chart(ff.unit_location(acts, unit), key="fm_unit_where", config=PLOT)
with numbers:
    st.plotly_chart(ff.unit_arithmetic(unit, width_hint=640), key="fm_unit_numbers", config=PLOT)
