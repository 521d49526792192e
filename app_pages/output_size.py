"""Output size: learn convolution arithmetic by playing with one layer, then with the whole LeNet."""

from dataclasses import dataclass, replace
from functools import partial

import streamlit as st

from lenet_viz import links, ui
from lenet_viz.arithmetic import Layer, coverage_warning, formula_latex, formula_line
from lenet_viz.errors import LenetVizError
from lenet_viz.i18n import t
from lenet_viz.models import ACTIVATIONS, POOLINGS, PRESETS, ConvBlock, SpecError, coverage_warnings, layer_plan
from lenet_viz.page_state import Jump, OutputSizeState
from lenet_viz.ui import tr

KINDS = ("conv", "maxpool", "avgpool", "convtranspose")  # named by the catalogue's os.kind.<kind>
BLOCK_FIELDS = ("out_channels", "kernel", "stride", "padding", "pool", "pool_kernel", "pool_stride")


@dataclass(frozen=True)
class LayerInput:
    """What the one-layer controls set: a layer and the size of the map coming into it."""

    layer: Layer
    height: int
    width: int


def setting(state: OutputSizeState, fixed: links.Controls, control: str, label: str, name: str, low: int, high: int,
            note: str) -> int:
    """An integer slider over one field of the page's state, with a plain-words explanation under it;
    left out (keeping its value) or greyed out when a teacher's link hides or locks ``control``."""
    key = ui.bind(state, name)
    if fixed.hidden(control):
        return int(getattr(state, name))
    value = st.slider(label, low, high, step=1, key=key, disabled=fixed.locked(control))
    st.caption(note)
    return int(value)


def square_changed() -> None:
    """Start the separate height and width from the square size, and back."""
    state = ui.page_state(OutputSizeState)
    if state.square:
        ui.update_page(state, size=state.height)
    else:
        ui.update_page(state, height=state.size, width=state.size)


def layer_controls(state: OutputSizeState, fixed: links.Controls) -> LayerInput:
    """The one-layer controls, each with its explanation (those a teacher's link hides keep their values)."""
    lang = ui.lang()  # bound now: a format_func may also be called outside this run
    kind_key = ui.bind(state, "kind", default="conv", options=KINDS)
    kind = state.kind if fixed.hidden("kind") else st.radio(
        tr("os.layer_type"), KINDS, format_func=lambda k: t(f"os.kind.{k}", lang), key=kind_key,
        captions=[tr(f"os.kind.{k}.caption") for k in KINDS], disabled=fixed.locked("kind"))
    square_key = ui.bind(state, "square")
    square = state.square if fixed.hidden("size") else st.toggle(
        tr("os.square"), key=square_key, on_change=square_changed, disabled=fixed.locked("size"))
    size_note = tr("os.size_note")
    if square:
        height = width = setting(state, fixed, "size", tr("os.size"), "size", 1, 64, size_note)
    else:
        left, right = st.columns(2)
        with left:
            height = setting(state, fixed, "size", tr("os.height"), "height", 1, 64, size_note)
        with right:
            width = setting(state, fixed, "size", tr("os.width"), "width", 1, 64, tr("os.width_note"))
    pooling, transposed = kind in ("maxpool", "avgpool"), kind == "convtranspose"
    variant = ".transposed" if transposed else ".pool" if pooling else ""
    kernel = setting(state, fixed, "kernel", tr("os.kernel"), "kernel", 1, 32,
                     tr("os.kernel_note.transposed" if transposed else "os.kernel_note"))
    stride = setting(state, fixed, "stride", tr("os.stride"), "stride", 1, 8,
                     tr("os.stride_note.transposed" if transposed else "os.stride_note"))
    padding = setting(state, fixed, "padding", tr("os.padding"), "padding", 0, 8, tr(f"os.padding_note{variant}"))
    dilation = setting(state, fixed, "dilation", tr("os.dilation"), "dilation", 1, 6,
                       tr("os.dilation_note.pool" if pooling else "os.dilation_note"))
    ceil_mode, output_padding = False, 0
    if pooling:
        ceil_key = ui.bind(state, "ceil_mode")
        if fixed.hidden("ceil"):
            ceil_mode = state.ceil_mode
        else:
            ceil_mode = st.toggle(tr("os.ceil"), key=ceil_key, disabled=fixed.locked("ceil"))
            st.caption(tr("os.ceil_note"))
    if transposed:
        output_padding = setting(state, fixed, "output_padding", tr("os.output_padding"), "output_padding", 0, 7,
                                 tr("os.output_padding_note"))
    return LayerInput(Layer(kind, kernel, stride, padding, dilation, ceil_mode, output_padding), height, width)


def window_stepper(state: OutputSizeState, chosen: LayerInput, fixed: links.Controls) -> None:
    """The grid picture with a slider (and play button) over every kernel placement (a teacher's link may
    hide or lock both: the picture then stays at its placement)."""
    ui.need(*ui.TABLES)  # the figure's imports: the controls and formulas are on the screen meanwhile
    from lenet_viz.figures.output_size import describe_step, drawable, step_count, window_picture

    layer, height, width = chosen.layer, chosen.height, chosen.width
    if not drawable(layer, height, width):
        st.info(tr("os.too_large"))
        return
    steps = step_count(layer, height, width)
    playing = state.playing and steps > 1 and not (fixed.hidden("step") or fixed.locked("step"))

    @st.fragment(run_every=0.3 if playing else None)
    def stepper() -> None:
        now = ui.page_state(OutputSizeState)  # a fragment's rerun reads the slider anew
        step = min(now.step, steps - 1)
        if now.playing:
            step = (step + 1) % steps
        ui.update_page(now, step=step)
        what = "os.step_input" if layer.kind == "convtranspose" else "os.step_output"
        if not fixed.hidden("step"):
            still = steps == 1 or fixed.locked("step")
            slider, button = st.columns([4, 1], vertical_alignment="bottom")
            with slider:
                st.slider(tr(what, steps=steps), 0, max(steps - 1, 1), key=now.key("step"), disabled=still)
            with button:
                if st.button(tr("os.pause" if playing else "os.play"), key=now.key("play"), width="stretch",
                             disabled=still, icon=":material/pause:" if playing else ":material/play_arrow:"):
                    now.playing = not playing
                    st.rerun()  # the whole page, so the fragment's timer starts or stops
        st.caption(describe_step(layer, height, width, step, ui.lang()))
        ui.window_picture(window_picture(layer, height, width, step, ui.lang()), now.key("window"))

    stepper()


def one_layer(state: OutputSizeState, fixed: links.Controls) -> None:
    controls, results = st.columns([1, 2.6], gap="large")
    with controls:
        chosen = layer_controls(state, fixed)
        layer, height, width = chosen.layer, chosen.height, chosen.width
    with results:
        symbolic, _ = formula_latex(layer, height)
        st.latex(symbolic)
        st.caption(tr("os.symbols") + (tr("os.symbols_transposed") if layer.kind == "convtranspose" else ""))
        lang = ui.lang()
        try:
            out_h, out_w = layer.output(height), layer.output(width)
        except LenetVizError as exc:
            st.error(tr("os.layer_error", reason=exc), icon=":material/block:")
            st.latex(formula_line(layer, height, "H", lang))
            st.latex(formula_line(layer, width, "W", lang))
            st.metric(tr("os.output_size"), "—", border=True)
            return
        st.latex(formula_line(layer, height, "H", lang))
        st.latex(formula_line(layer, width, "W", lang))
        st.metric(tr("os.output_size"), f"{out_h} × {out_w}", border=True)
        axes = ("rows and columns", height) if height == width else None
        for axis, size in [axes] if axes else [("rows", height), ("columns", width)]:
            warning = coverage_warning(layer, size, axis, lang)
            if warning:
                st.warning(warning, icon=":material/warning:")
        window_stepper(state, chosen, fixed)


def load_preset() -> None:
    """Copy the chosen preset's numbers into the editor's widgets."""
    state = ui.page_state(OutputSizeState)
    spec = PRESETS[state.preset]
    ui.update_page(state, activation=spec.activation,
                   block={state.block_part(i, field): getattr(block, field)
                          for i, block in enumerate(spec.conv) for field in BLOCK_FIELDS})


def _pool_name(pool: str, lang: str) -> str:
    return t(f"pool.{pool}", lang)


def block_editor(state: OutputSizeState, index: int, block: ConvBlock, locked: bool) -> ConvBlock:
    """One conv block's widgets in a row; ``block`` gives the values on first display."""
    st.markdown(tr("os.block", number=index + 1))
    cols = st.columns(7)
    specs = [
        (tr("os.channels"), "out_channels", 1, 64, tr("os.channels_help")),
        (tr("os.block_kernel"), "kernel", 1, 11, tr("os.block_kernel_help")),
        (tr("os.block_stride"), "stride", 1, 6, tr("os.block_stride_help")),
        (tr("os.block_padding"), "padding", 0, 6, tr("os.block_padding_help")),
    ]
    keys = {field: ui.bind(state, "block", state.block_part(index, field), default=getattr(block, field))
            for field in BLOCK_FIELDS}
    values = {}
    for col, (label, field, low, high, note) in zip(cols, specs, strict=False):
        with col:
            values[field] = int(st.number_input(label, low, high, key=keys[field], help=note, disabled=locked))
    with cols[4]:
        values["pool"] = st.selectbox(tr("os.pooling"), POOLINGS, key=keys["pool"], disabled=locked,
                                      format_func=partial(_pool_name, lang=ui.lang()), help=tr("os.pooling_help"))
    for col, field in zip(cols[5:], ("pool_kernel", "pool_stride"), strict=True):
        with col:
            values[field] = int(st.number_input(tr(f"os.{field}"), 1, 6, key=keys[field],
                                                disabled=locked or values["pool"] == "none", help=tr("os.pool_help")))
    return ConvBlock(**values)


def whole_lenet(state: OutputSizeState, locked: bool) -> None:
    """The whole-LeNet editor: a preset, its activation and its conv blocks, their table, and Send to
    Train (all greyed out when a teacher's link locks them)."""
    st.markdown(tr("os.lenet_intro"))
    try:
        start = ui.custom_spec() or PRESETS["classic"]
    except SpecError:  # a stale or foreign value: start afresh
        start = PRESETS["classic"]
    top = st.columns([1, 1, 3])
    with top[0]:
        preset = st.selectbox(tr("os.preset"), list(PRESETS), on_change=load_preset, help=tr("os.preset_help"),
                              key=ui.bind(state, "preset", default="classic", options=PRESETS), disabled=locked)
    with top[1]:
        activation = st.selectbox(tr("os.activation"), ACTIVATIONS, disabled=locked,
                                  key=ui.bind(state, "activation", default=start.activation, options=ACTIVATIONS))
    blocks = tuple(block_editor(state, i, block, locked) for i, block in enumerate(start.conv))
    spec = replace(PRESETS[preset], conv=blocks, activation=activation)
    try:
        table = layer_plan(spec)
    except SpecError as exc:
        st.error(tr("os.network_error", reason=exc), icon=":material/block:")
        return
    left, middle, _ = st.columns([1, 1, 2])
    reference = layer_plan(PRESETS[preset]).total_params
    change = table.total_params - reference
    delta = tr("os.delta", change=f"{change:+,}", preset=preset) if change else None
    left.metric(tr("os.parameters"), f"{table.total_params:,}", delta=delta, delta_color="off", border=True)
    middle.metric(tr("os.flatten"), f"{table.flatten_size:,}", border=True)
    lang = ui.lang()
    ui.need(*ui.TABLES)
    from lenet_viz.figures.output_size import column_name, layer_rows

    rows = layer_rows(table, lang)
    for warning in coverage_warnings(spec, lang):
        st.warning(warning, icon=":material/visibility_off:")
    st.dataframe(rows, hide_index=True, key=state.key("table"), height=35 * (len(rows) + 1) + 3,
                 column_config={column_name("parameters", lang): st.column_config.NumberColumn(format="localized")})
    st.button(tr("os.send"), key=state.key("send"), icon=":material/model_training:", on_click=ui.send_to_training,
              args=(spec,), disabled=locked)
    if st.session_state.get(ui.CUSTOM_SPEC) == spec.to_dict():
        st.success(tr("os.sent"))
        st.page_link(ui.page_file("train"), label=tr("os.go_train"), icon=":material/arrow_forward:")


st.title(tr("os.title"))
st.markdown(tr("os.intro"))
if isinstance(asked := ui.link_from_url("output-size"), links.OutputSizeView):  # a shared link opened
    ui.jump(Jump("output-size", OutputSizeState.from_view(asked)), switch=False)
ui.show_link_notes("output-size")
fixed = ui.teacher_controls("output-size")
page = ui.page_state(OutputSizeState)
if fixed.hidden("lenet"):  # a teacher's link keeps the class on one layer
    one_layer(page, fixed)
else:
    tab_layer, tab_lenet = st.tabs([tr("os.tab_layer"), tr("os.tab_lenet")])
    with tab_layer:
        one_layer(page, fixed)
    with tab_lenet:
        whole_lenet(page, fixed.locked("lenet"))
ui.share_view("output-size", page.view())  # shareable link: settings back into the URL
