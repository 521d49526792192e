"""Feature maps: draw a digit, pick a sample or upload a picture, and watch every layer respond.

The network runs in the browser (``lenet_viz.netview_component``), follows the pen and shows the
prediction; a pen lift reruns nothing. The server computes only the unit inspector, in a fragment
with the view: closed until a click on a unit, which sends that unit and the drawing then on show.
On a server's first visit the page sends the pad before torch is imported (a deep link shows it in
about 3 s instead of 6 here), then loads torch and the model and runs again: the same view gets
its network and reads what was drawn meanwhile. Its state (the model, the input, the inspected unit,
and what the view sent) is :class:`lenet_viz.page_state.FeatureMapsState`; shared links set it
through :func:`lenet_viz.ui.update_page`.
"""

import streamlit as st

from lenet_viz import links, preprocess, ui
from lenet_viz import netview_component as nv
from lenet_viz.i18n import class_name, t
from lenet_viz.model_store import BundledModel, bundled_models, example_index, load_samples
from lenet_viz.models import layer_plan
from lenet_viz.page_state import FeatureMapsState
from lenet_viz.ui import tr

PLOT = {"displayModeBar": False}


def _figures():
    """The page's Plotly figures, whose pandas and pyarrow a fresh server imports last: asked for only
    below the view, so that a first visit sees the drawing pad while they load."""
    ui.need(*ui.TABLES)
    from lenet_viz.figures import feature_maps

    return feature_maps


def _position(where, axis: str, size: int, state: FeatureMapsState, name: str, locked: bool) -> int:
    """A slider over a map's rows or columns (``axis``: "row" or "column"), showing ``state.<name>``; a map
    one cell wide has only position 0, and no slider."""
    label = tr(f"fm.{axis}")
    key = ui.bind(state, name, default=0, options=range(size), shown=size > 1)
    if size == 1:
        extent = tr("fm.one_cell_high" if axis == "row" else "fm.one_cell_wide")
        where.caption(tr("fm.one_cell", label=label, extent=extent))
        return 0
    return where.slider(label, 0, size - 1, key=key, disabled=locked)


def _show(where, image, caption: str) -> None:
    """An image at its own size (never stretched to the column)."""
    where.image(image, caption=caption, width=image.shape[1])


def _checkpoint(source):
    """The chosen model, loaded; None on a server's first visit to a bundled one while torch is not
    imported yet: the page then shows the pad first, and loads torch and the model below it."""
    if isinstance(source, BundledModel) and not ui.heavy_imports().ready(ui.TORCH):
        return None
    ui.need(*ui.TORCH)
    from lenet_viz.checkpoints import CheckpointError

    try:
        return ui.load_bundled(str(source.path)) if isinstance(source, BundledModel) else ui.load_saved(source)
    except CheckpointError as exc:
        st.error(tr("fm.model_error", error=exc))
        st.stop()


def _inspected_image(shown) -> tuple:
    """The input the inspector reads, and why there is none: in Draw mode the drawing the browser
    last sent (the example while the pad is blank), else the sample or upload on show."""
    drawing = nv.page_state().drawing
    if mode != "draw" or drawing is None or (drawing.image is None and drawing.id == "blank"):
        return shown, "nv.inspect_no_input"
    image = drawing.input_for(size)
    return image, "nv.inspect_other_size" if drawing.image is not None else "nv.inspect_no_input"


def _close_inspector() -> None:
    state = nv.page_state()
    state.inspecting = state.clicked = False


def _inspector(image, missing: str) -> dict | None:
    """The unit inspector: closed (computing nothing) until a click on a unit opens it; returns the
    inspected unit, for the view to mark. It inspects the network as the view has it: after the Learn
    panel's steps, the browser's weights (sent with the click), and it says so. Absent when a teacher's
    link hides it; its pickers greyed out when the link locks it (a click on a unit still chooses one)."""
    if fixed.hidden("inspector"):
        return None
    locked = fixed.locked("inspector")
    state = nv.page_state()
    st.subheader(tr("fm.inspect"))
    if state.problem is not None:
        st.warning(state.problem.text(lang), icon=":material/report:")
        state.problem = None
    if not state.inspecting:
        st.caption(tr("nv.inspect_hint"))
        return None
    st.button(tr("nv.inspect_close"), icon=":material/close:", key=FeatureMapsState.key("unit_close"),
              on_click=_close_inspector)
    if image is None:
        st.info(tr(missing))
        return None
    model, steps = nv.inspected_model(ckpt)
    if steps:
        st.info(tr("nv.inspect_step_one") if steps == 1 else tr("nv.inspect_steps", count=steps),
                icon=":material/model_training:")
    ff = _figures()
    from lenet_viz import activations

    acts = activations.run(model, spec, preprocess.to_tensor(image, spec.in_channels))
    names = {layer.name: ff.layer_title(layer, lang).replace("<b>", "").replace("</b>", "") for layer in acts.spatial}
    l_col, m_col, r_col, c_col = st.columns([2, 1, 1.5, 1.5])
    layer_key = ui.bind(state, "unit_layer", default=next(iter(names)), options=names)
    layer_name = l_col.selectbox(tr("fm.layer"), list(names), format_func=names.get, key=layer_key, disabled=locked)
    channels, height, width = acts[layer_name].values.shape
    map_key = ui.bind(state, "unit_map", default=0, options=range(channels))
    input_key = hash(image.tobytes())
    if state.clicked:  # the clicked unit, for the input it was clicked on
        state.clicked, state.inspected_input = False, input_key
    elif (state.inspected_input != input_key or state.unit_row not in range(height)
            or state.unit_col not in range(width)):
        # a new input, or a layer the old position does not fit: start on the strongest unit, not a dead one
        state.unit_row, state.unit_col = activations.strongest_unit(acts, layer_name, state.unit_map)
        state.inspected_input = input_key
    map_ = m_col.number_input(tr("fm.map"), 0, channels - 1, key=map_key, disabled=locked)
    row = _position(r_col, "row", height, state, "unit_row", locked)
    col_ = _position(c_col, "column", width, state, "unit_col", locked)
    unit = activations.explain_unit(model, spec, acts, layer_name, int(map_), int(row), int(col_))
    st.latex(activations.formula_latex(unit))
    st.caption(tr("fm.unit_value", value=f"{unit.value:.4f}", name=f"{layer_name}[{unit.map}, {unit.row}, {unit.col}]"))
    where, numbers = st.columns([1, 1.4], gap="medium")
    with where:
        st.plotly_chart(ff.unit_location(acts, unit, lang), key=FeatureMapsState.key("unit_where"), config=PLOT)
    with numbers:
        st.plotly_chart(ff.unit_arithmetic(unit, width_hint=640, lang=lang), key=FeatureMapsState.key("unit_numbers"),
                        config=PLOT)
    return {"layer": layer_name, "map": unit.map, "row": unit.row, "col": unit.col}


@st.fragment
def live_view(shown) -> None:
    """The view and its inspector: a click on a unit, or a pen lift while the inspector is open,
    reruns this fragment only."""
    view_slot = st.container()  # the view goes here once the inspector below has chosen its unit
    if ckpt is None:  # a server's first visit: the pad now, the network with the next rerun
        with view_slot:
            nv.loading_view(mode="draw", hint=tr("fm.until_then") if samples is not None else "", lang=lang)
        return
    selected = _inspector(*_inspected_image(shown))
    with view_slot:
        nv.netview(ckpt, mode="draw" if mode == "draw" else "input", fill=fill, image=shown,
                   hint=sample_caption if example else "", selected=selected, lang=lang)


lang = ui.lang()
st.title(tr("fm.title"))
st.caption(tr("fm.intro"))

# --- Model -------------------------------------------------------------------------------------
state = ui.page_state(FeatureMapsState)
bundled = bundled_models()
if isinstance(asked := ui.bundled_link_view("feature-maps"), links.FeatureMapsView):  # a shared link opened
    values = {"source": asked.input, "sample": asked.sample}
    if bundled:
        values["model"] = next((m.label for m in bundled if m.key == asked.model), bundled[0].label)
    ui.update_page(state, **values)
ui.show_link_notes("feature-maps")
fixed = ui.teacher_controls("feature-maps")
sources: dict[str, object] = {m.label: m for m in bundled}
sources.update({ui.model_choice("fm.saved", label=label): data for label, data in ui.saved_models().items()})
sources.update(ui.uploaded_models())
model_col, upload_col = st.columns([2, 1])
if not fixed.hidden("model"):
    with upload_col.expander(tr("fm.upload_checkpoint")):
        st.file_uploader(tr("fm.checkpoint_file"), key=FeatureMapsState.key("file"),  # any file: a wrong one is told
                         on_change=ui.upload_checkpoint, args=(FeatureMapsState,), disabled=fixed.locked("model"))
        if state.error:
            st.error(tr("fm.checkpoint_error", error=state.error))
if not sources:
    st.warning(tr("fm.no_model"))
    st.stop()
with model_col:
    model_key = ui.bind(state, "model", default=next(iter(sources)), options=sources, shown=not fixed.hidden("model"))
    choice = state.model if fixed.hidden("model") else st.selectbox(
        tr("fm.model"), list(sources), key=model_key, disabled=fixed.locked("model"),
        format_func=lambda choice: ui.model_title(choice, lang))
    source = sources[choice]
    ckpt = _checkpoint(source)  # None: a server's first visit, with torch to come below the pad
    if ckpt is None:  # a line in its place, so that the pad does not move when the model comes
        st.caption(tr("fm.trained_on_loading", dataset=source.dataset))
    else:
        acc = tr("fm.test_accuracy", accuracy=f"{ckpt.test_acc:.1%}") if ckpt.test_acc is not None else ""
        st.caption(tr("fm.trained_on", dataset=ckpt.dataset or tr("fm.unknown_data"),
                      activation=ckpt.spec.activation, count=f"{layer_plan(ckpt.spec).total_params:,}",
                      accuracy=acc))
dataset = source.dataset if ckpt is None else ckpt.dataset
fashion = dataset == "fashion-mnist"
thing = "garment" if fashion else "digit"  # fm.a_<thing> and fm.<thing> in the catalogue
fill = preprocess.FASHION_FILL if fashion else preprocess.MNIST_FILL

# --- Input -------------------------------------------------------------------------------------
MODES = links.INPUTS  # "draw", "sample", "upload"
source_key = ui.bind(state, "source", default=MODES[0], options=MODES, shown=not fixed.hidden("input"))
mode = state.source if fixed.hidden("input") else st.radio(
    tr("fm.input"), MODES, horizontal=True, key=source_key, disabled=fixed.locked("input"),
    format_func=lambda m: t(f"fm.source.{m}", lang), captions=[tr(f"fm.source.{m}_caption") for m in MODES])
samples = load_samples(dataset)
sample_key = ui.bind(state, "sample", default=0, options=None if samples is None else range(len(samples.images)),
                     shown=ckpt is not None and mode == "sample" and samples is not None and not fixed.hidden("sample"))
# (shown: the run reaches the sample picker below; a key no widget takes would come back later, see ui.bind)
bundled_key = next((m.key for m in bundled if m.label == choice), None)
ui.share_view("feature-maps", links.FeatureMapsView(bundled_key, mode, state.sample if mode == "sample" else 0),
              private=" ".join(tr(k) for k, missing in (("link.private_model", bundled_key is None),
                                                        (f"link.private_{mode}", mode != "sample"))
                               if missing) or None)
prepared = shown_sample = None  # shown_sample: index of the bundled test image on show
notes = st.container()  # one slot above the view, so that the view keeps its place (and its drawing) across reruns
if ckpt is None:  # a server's first visit: the pad at once, then torch and the model, and the page again
    if mode == "draw":  # the words the next run shows, so that the pad stays where it is
        notes.info(tr("fm.draw_prompt", thing=tr(f"fm.a_{thing}")), icon=":material/draw:")
        live_view(None)
    ui.need(*ui.TORCH)
    st.rerun()
spec, size = ckpt.spec, ckpt.spec.input_size
if mode == "draw":
    if samples is not None:  # the view shows the network at work on an example until something is drawn
        shown_sample = example_index(samples)
elif mode == "sample":
    if samples is None:
        notes.info(tr("fm.no_samples", dataset=ckpt.dataset or tr("fm.this_model")))
    elif fixed.hidden("sample"):
        shown_sample = state.sample
    else:
        shown_sample = notes.selectbox(
            tr("fm.test_image"), range(len(samples.images)), key=sample_key, disabled=fixed.locked("sample"),
            format_func=lambda i: t("fm.sample_option", lang, label=class_name(ckpt.classes[samples.labels[i]], lang),
                                    index=samples.indices[i]))
        notes.caption(tr("fm.samples_note", count=len(samples.images), dataset=ckpt.dataset))
else:
    picture = notes.file_uploader(tr("fm.picture_of", thing=tr(f"fm.a_{thing}")),  # any file: a wrong one is told
                                  key=FeatureMapsState.key("picture"))
    if picture is not None:
        try:
            gray = preprocess.load_upload(picture.getvalue())
        except preprocess.ImageError as exc:
            notes.error(exc.text(lang))
            st.stop()
        prepared = preprocess.mnist_style(gray, size, fill)
        if prepared is None:
            notes.warning(tr("fm.blank", thing=tr(f"fm.{thing}")))
            st.stop()
        a, b, c = notes.columns([1, 1, 3])
        _show(a, preprocess.outline(prepared.source, prepared.bbox, 112), tr("fm.step_crop"))
        h, w = prepared.scaled.shape
        _show(b, preprocess.enlarge(prepared.boxed(), 112), tr("fm.step_scale", box=max(h, w), width=w, height=h))
if shown_sample is not None:
    prepared = preprocess.as_input(samples.images[shown_sample], size)
example = mode == "draw" and shown_sample is not None
if mode == "draw":  # that a test image is on show until something is drawn is said under the pad, which the
    # view hides once there is a drawing (the drawing stays in the browser: this page never knows of it)
    notes.info(tr("fm.draw_prompt", thing=tr(f"fm.a_{thing}")), icon=":material/draw:")
elif prepared is None:
    notes.info(tr("fm.choose_input"), icon=":material/draw:")
sample_caption = "" if shown_sample is None else tr(
    "fm.example_hint" if example else "fm.sample_caption", size=size, index=samples.indices[shown_sample],
    label=class_name(ckpt.classes[samples.labels[shown_sample]], lang))
if sample_caption and not example:
    notes.caption(sample_caption)


live_view(None if prepared is None else prepared.image)

if not fixed.hidden("kernels"):
    with st.expander(tr("fm.kernels")):
        st.caption(tr("fm.kernels_note"))
        ff = _figures()
        for name in (row.name for row in layer_plan(spec).layers if row.kind == "conv"):
            weights = getattr(ckpt.model, name).weight.detach().numpy()
            st.plotly_chart(ff.kernel_grid(name, weights, lang=lang), key=FeatureMapsState.key("kernel", name),
                            config=PLOT)
