"""Training replay: scrub through a run's snapshots and watch the network learn one input.

The page picks a model with snapshots and an input; the replay component (``lenet_viz.replay_component``)
holds every snapshot in the browser, so the slider and Play never wait for the server.
"""

import streamlit as st

from lenet_viz import links, preprocess, ui
from lenet_viz import netview_component as nv
from lenet_viz import replay_component as rc
from lenet_viz.checkpoints import Checkpoint, CheckpointError
from lenet_viz.i18n import class_name, t
from lenet_viz.model_store import BundledModel, bundled_models, example_index, load_samples
from lenet_viz.ui import tr

MODEL = "replay_model"  # the chosen model's label; the Train page may set it to "Saved: <label>" before switching here


def _load(source: BundledModel | bytes) -> Checkpoint | None:
    try:
        return ui.load_bundled(str(source.path)) if isinstance(source, BundledModel) else ui.load_saved(source)
    except CheckpointError:
        return None  # the Feature maps and Train pages say why; here it is just not offered


lang = ui.lang()
st.title(tr("replay.title"))
st.caption(tr("replay.intro"))

bundled = bundled_models()
if isinstance(asked := ui.bundled_link_view("replay"), links.ReplayView):  # a shared link opened
    if bundled:
        model = next((m for m in bundled if m.key == asked.model), bundled[0])
        st.session_state[MODEL] = model.label
        if asked.sample is not None:
            st.session_state["replay_input"] = "Sample"
            st.session_state[f"replay_sample_{model.dataset}"] = asked.sample
ui.show_link_notes("replay")
sources: dict[str, BundledModel | bytes] = {m.label: m for m in bundled}
sources.update({ui.model_choice("fm.saved", label=label): data for label, data in ui.saved_models().items()})
sources.update(ui.uploaded_models())
models = {label: ckpt for label, source in sources.items() if (ckpt := _load(source)) and ckpt.snapshots}

model_col, upload_col = st.columns([2, 1])
with upload_col.expander(tr("fm.upload_checkpoint")):
    st.file_uploader(tr("fm.checkpoint_file"), type=["pt", "pth"], key="replay_file",
                     on_change=ui.upload_checkpoint, args=("replay_file", MODEL, "replay_error", True))
    if error := st.session_state.get("replay_error"):
        st.error(error)
if not models:
    model_col.info(tr("replay.none"), icon=":material/history:")
    st.stop()
if st.session_state.get(MODEL) not in models:
    st.session_state[MODEL] = next(iter(models))
with model_col:
    choice = st.selectbox(tr("fm.model"), list(models), key=MODEL, help=tr("replay.model_help"),
                          format_func=lambda choice: ui.model_title(choice, lang))
    ckpt = models[choice]
    first, last = ckpt.snapshots[0], ckpt.snapshots[-1]
    st.caption(tr("replay.model_note", count=len(ckpt.snapshots), first=f"{first.step:,}", last=f"{last.step:,}",
                  epoch=f"{last.epoch:g}", dataset=ckpt.dataset or tr("fm.unknown_data")))
size = ckpt.spec.input_size
fill = preprocess.FASHION_FILL if ckpt.dataset == "fashion-mnist" else preprocess.MNIST_FILL

samples = load_samples(ckpt.dataset)
drawn = nv.drawn_input(size)
SOURCE_KEYS = {"Sample": "replay.source.sample", "My drawing": "replay.source.drawing",
               "Upload": "replay.source.upload"}
captions = {"Sample": tr("replay.source.sample_caption"), "My drawing": tr("replay.source.drawing_caption"),
            "Upload": tr("fm.source.upload_caption")}
inputs = [i for i, there in (("Sample", samples is not None), ("My drawing", drawn is not None), ("Upload", True))
          if there]
mode = st.radio(tr("fm.input"), inputs, horizontal=True, key="replay_input", captions=[captions[i] for i in inputs],
                format_func=lambda i: t(SOURCE_KEYS[i], lang))
label = None
sample_key = f"replay_sample_{ckpt.dataset}"
if samples is not None and not 0 <= st.session_state.get(sample_key, -1) < len(samples.images):
    st.session_state[sample_key] = example_index(samples)
model_key = next((m.key for m in bundled if m.label == choice), None)
ui.share_view("replay", links.ReplayView(model_key, st.session_state.get(sample_key) if mode == "Sample" else None),
              private=" ".join(tr(k) for k, missing in (("link.private_model", model_key is None),
                                                        ("link.private_replay_input", mode != "Sample"))
                               if missing) or None)
if mode == "Sample":
    index = st.selectbox(tr("fm.test_image"), range(len(samples.images)), key=sample_key,
                         format_func=lambda i: t("fm.sample_option", lang,
                                                 label=class_name(ckpt.classes[samples.labels[i]], lang),
                                                 index=samples.indices[i]))
    image = preprocess.as_input(samples.images[index], size).image
    label = class_name(ckpt.classes[samples.labels[index]], lang)
elif mode == "My drawing":
    image = drawn
    st.caption(tr("replay.drawing_note"))
else:
    picture = st.file_uploader(tr("replay.picture"), type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                               key="replay_picture")
    if picture is None:
        st.info(tr("replay.upload_prompt"))
        st.stop()
    try:
        gray = preprocess.load_upload(picture.getvalue())
    except preprocess.ImageError as exc:
        st.error(exc.text(lang))
        st.stop()
    prepared = preprocess.mnist_style(gray, size, fill)
    if prepared is None:
        st.warning(tr("replay.blank"))
        st.stop()
    image = prepared.image
rc.replay(ckpt, image, fill=fill, label=label, lang=lang)
