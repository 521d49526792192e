"""Training replay: scrub through a run's snapshots and watch the network learn one input.

The page picks a model with snapshots and an input; the replay component (``lenet_viz.replay_component``)
holds every snapshot in the browser, so the slider and Play never wait for the server. Its state
(model by id, input, sample per dataset) is :class:`lenet_viz.page_state.ReplayState`; the Train
page's "Replay this run" and shared links set it through :func:`lenet_viz.ui.jump`.
"""

from functools import partial

import streamlit as st

from lenet_viz import links, preprocess, ui
from lenet_viz import netview_component as nv
from lenet_viz import replay_component as rc
from lenet_viz.checkpoints import Checkpoint, CheckpointError
from lenet_viz.i18n import class_name, t
from lenet_viz.model_store import BundledModel, bundled_models, example_index, load_samples
from lenet_viz.page_state import BUNDLED, UPLOADED, Jump, ReplayState, model_id, split_model_id
from lenet_viz.ui import tr

SOURCE_KEYS = {"sample": "replay.source.sample", "drawing": "replay.source.drawing", "upload": "replay.source.upload"}


def _load(source: BundledModel | bytes) -> Checkpoint | None:
    try:
        return ui.load_bundled(str(source.path)) if isinstance(source, BundledModel) else ui.load_saved(source)
    except CheckpointError:
        return None  # the Feature maps and Train pages say why; here it is just not offered


lang = ui.lang()
st.title(tr("replay.title"))
st.caption(tr("replay.intro"))

bundled = bundled_models()
if isinstance(asked := ui.bundled_link_view("replay"), links.ReplayView) and bundled:  # a shared link opened
    model = next((m for m in bundled if m.key == asked.model), bundled[0])
    values = {"model": model_id(BUNDLED, model.key)}
    if asked.sample is not None:
        values.update(input="sample", sample={model.dataset: asked.sample})
    ui.jump(Jump("replay", values), switch=False)
ui.show_link_notes("replay")
fixed = ui.teacher_controls("replay")
state = ui.page_state(ReplayState)
models = {mid: ckpt for mid, source in ui.model_sources().items() if (ckpt := _load(source)) and ckpt.snapshots}

model_col, upload_col = st.columns([2, 1])
if not fixed.hidden("model"):
    with upload_col.expander(tr("fm.upload_checkpoint")):
        st.file_uploader(tr("fm.checkpoint_file"), key=ReplayState.key("file"),  # any file: a wrong one is told
                         on_change=ui.upload_checkpoint, args=(ReplayState, partial(model_id, UPLOADED), True),
                         disabled=fixed.locked("model"))  # a checkpoint with snapshots, or why not
        if state.error:
            st.error(state.error)
if not models:
    model_col.info(tr("replay.none"), icon=":material/history:")
    st.stop()
with model_col:
    model_key = ui.bind(state, "model", default=next(iter(models)), options=models)
    choice = state.model if fixed.hidden("model") else st.selectbox(
        tr("fm.model"), list(models), help=tr("replay.model_help"), key=model_key, disabled=fixed.locked("model"),
        format_func=lambda choice: ui.model_name(choice, lang))
    ckpt = models[choice]
    first, last = ckpt.snapshots[0], ckpt.snapshots[-1]
    st.caption(tr("replay.model_note", count=len(ckpt.snapshots), first=f"{first.step:,}", last=f"{last.step:,}",
                  epoch=f"{last.epoch:g}", dataset=ckpt.dataset or tr("fm.unknown_data")))
size = ckpt.spec.input_size
fill = preprocess.FASHION_FILL if ckpt.dataset == "fashion-mnist" else preprocess.MNIST_FILL

samples = load_samples(ckpt.dataset)
drawn = nv.drawn_input(size)
captions = {"sample": tr("replay.source.sample_caption"), "drawing": tr("replay.source.drawing_caption"),
            "upload": tr("fm.source.upload_caption")}
inputs = [i for i, there in (("sample", samples is not None), ("drawing", drawn is not None), ("upload", True))
          if there]
input_key = ui.bind(state, "input", default=inputs[0], options=inputs)
mode = state.input if fixed.hidden("input") else st.radio(
    tr("fm.input"), inputs, horizontal=True, key=input_key, disabled=fixed.locked("input"),
    captions=[captions[i] for i in inputs], format_func=lambda i: t(SOURCE_KEYS[i], lang))
label = None
if samples is not None and not 0 <= state.sample.get(ckpt.dataset, -1) < len(samples.images):
    state.sample[ckpt.dataset] = example_index(samples)
kind, name = split_model_id(choice)
bundled_key = name if kind == BUNDLED else None
ui.share_view("replay", links.ReplayView(bundled_key, state.sample.get(ckpt.dataset) if mode == "sample" else None),
              private=" ".join(tr(k) for k, missing in (("link.private_model", bundled_key is None),
                                                        ("link.private_replay_input", mode != "sample"))
                               if missing) or None)
if mode == "sample":
    sample_key = ui.bind(state, "sample", ckpt.dataset)
    index = state.sample[ckpt.dataset] if fixed.hidden("sample") else st.selectbox(
        tr("fm.test_image"), range(len(samples.images)), key=sample_key, disabled=fixed.locked("sample"),
        format_func=lambda i: t("fm.sample_option", lang, label=class_name(ckpt.classes[samples.labels[i]], lang),
                                index=samples.indices[i]))
    image = preprocess.as_input(samples.images[index], size).image
    label = class_name(ckpt.classes[samples.labels[index]], lang)
elif mode == "drawing":
    image = drawn
    st.caption(tr("replay.drawing_note"))
else:
    picture = st.file_uploader(tr("replay.picture"), key=ReplayState.key("picture"))  # any file: a wrong one is told
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
