"""Training replay: scrub through a run's snapshots and watch the network learn one input.

The page picks a model with snapshots and an input; the replay component (``lenet_viz.replay_component``)
holds every snapshot in the browser, so the slider and Play never wait for the server.
"""

import streamlit as st

from lenet_viz import preprocess, ui
from lenet_viz import replay_component as rc
from lenet_viz.checkpoints import Checkpoint, CheckpointError, check_upload
from lenet_viz.model_store import BundledModel, bundled_models, example_index, load_samples

MODEL = "replay_model"  # the chosen model's label; the Train page may set it to "Saved: <label>" before switching here
UPLOADED = "replay_uploaded"  # {label: checkpoint bytes} uploaded on this page


def _on_upload() -> None:
    """Keep an uploaded checkpoint and select it; say why when it cannot be used."""
    file = st.session_state.get("replay_file")
    if file is None:
        return
    data = file.getvalue()
    try:
        check_upload(data)
        ckpt = ui.load_saved(data)
    except CheckpointError as exc:
        st.session_state["replay_error"] = str(exc)
        return
    if not ckpt.snapshots:
        st.session_state["replay_error"] = (f"{file.name} has no snapshots: it was trained with snapshots off "
                                            "(`--snapshots 0`) or by an older lenet-viz.")
        return
    label = f"Uploaded: {file.name}"
    st.session_state.setdefault(UPLOADED, {})[label] = data
    st.session_state[MODEL] = label
    st.session_state.pop("replay_error", None)


def _load(source: BundledModel | bytes) -> Checkpoint | None:
    try:
        return ui.load_bundled(str(source.path)) if isinstance(source, BundledModel) else ui.load_saved(source)
    except CheckpointError:
        return None  # the Feature maps and Train pages say why; here it is just not offered


st.title("Training replay")
st.caption("Go back and forth over a training run: at every snapshot of the weights, see what the network made of "
           "one input, in every layer. Snapshots are dense early, where most of the learning happens.")

sources: dict[str, BundledModel | bytes] = {m.label: m for m in bundled_models()}
sources.update({f"Saved: {label}": data for label, data in ui.saved_models().items()})
sources.update(st.session_state.get(UPLOADED, {}))
models = {label: ckpt for label, source in sources.items() if (ckpt := _load(source)) and ckpt.snapshots}

model_col, upload_col = st.columns([2, 1])
with upload_col.expander("Upload a checkpoint (.pt)"):
    st.file_uploader("Checkpoint saved by lenet-viz", type=["pt", "pth"], key="replay_file", on_change=_on_upload)
    if error := st.session_state.get("replay_error"):
        st.error(error)
if not models:
    model_col.info("No model with snapshots yet. Train one on the **Train** page (a run keeps about 24 snapshots of "
                   "the weights) or upload a checkpoint trained with snapshots on; models trained by an older "
                   "lenet-viz have none.", icon=":material/history:")
    st.stop()
if st.session_state.get(MODEL) not in models:
    st.session_state[MODEL] = next(iter(models))
with model_col:
    choice = st.selectbox("Model", list(models), key=MODEL,
                          help="Only models that kept snapshots of their weights while training are listed.")
    ckpt = models[choice]
    first, last = ckpt.snapshots[0], ckpt.snapshots[-1]
    st.caption(f"{len(ckpt.snapshots)} snapshots, steps {first.step:,} to {last.step:,} "
               f"(epoch {last.epoch:g}) · trained on **{ckpt.dataset or 'unknown data'}**")
size = ckpt.spec.input_size

samples = load_samples(ckpt.dataset)
drawn = rc.drawn_input(size)
captions = {"Sample": "a bundled test image", "My drawing": "your last drawing on Feature maps",
            "Upload": "a PNG, JPEG, GIF…"}
inputs = [i for i, there in (("Sample", samples is not None), ("My drawing", drawn is not None), ("Upload", True))
          if there]
mode = st.radio("Input", inputs, horizontal=True, key="replay_input", captions=[captions[i] for i in inputs])
label = None
if mode == "Sample":
    index = st.selectbox("Test image", range(len(samples.images)), index=example_index(samples),
                         key=f"replay_sample_{ckpt.dataset}",
                         format_func=lambda i: f"{ckpt.classes[samples.labels[i]]} · test image #{samples.indices[i]}")
    image, label = preprocess.as_input(samples.images[index], size).image, ckpt.classes[samples.labels[index]]
elif mode == "My drawing":
    image = drawn
    st.caption("The drawing you made last on the Feature maps page, as the network reads it.")
else:
    picture = st.file_uploader("Picture", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                               key="replay_picture")
    if picture is None:
        st.info("Upload a picture to replay the run on it (or draw on the **Feature maps** page).")
        st.stop()
    try:
        gray = preprocess.load_upload(picture.getvalue())
    except preprocess.ImageError as exc:
        st.error(str(exc))
        st.stop()
    fill = preprocess.FASHION_FILL if ckpt.dataset == "fashion-mnist" else preprocess.MNIST_FILL
    prepared = preprocess.mnist_style(gray, size, fill)
    if prepared is None:
        st.warning("This picture looks blank: nothing to replay on.")
        st.stop()
    image = prepared.image
rc.replay(ckpt, image, label=label)
