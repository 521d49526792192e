"""Output size: learn convolution arithmetic by playing with one layer, then with the whole LeNet."""

from dataclasses import dataclass, replace

import streamlit as st

from lenet_viz import ui
from lenet_viz.arithmetic import Layer, coverage_warning, formula_latex, formula_line
from lenet_viz.errors import LenetVizError
from lenet_viz.models import ACTIVATIONS, POOLINGS, PRESETS, ConvBlock, SpecError, coverage_warnings, layer_plan
from lenet_viz.window_figures import describe_step, drawable, layer_rows, step_count, window_figure

KINDS = {
    "conv": ("Convolution", "A learned kernel slides over the input; each output is a weighted sum of a window."),
    "maxpool": ("Max pooling", "Keeps the largest value of each window. No weights; shrinks the map."),
    "avgpool": ("Average pooling", "Keeps the mean of each window, as the seed's LeNet does. No weights."),
    "convtranspose": ("Transposed convolution", "Runs the other way: each input cell stamps the kernel onto a "
                      "larger output. Used to upsample."),
}
BLOCK_FIELDS = ("out_channels", "kernel", "stride", "padding", "pool", "pool_kernel", "pool_stride")
SESSION = "session"  # widget values survive page switches


@dataclass(frozen=True)
class LayerInput:
    """What the one-layer controls set: a layer and the size of the map coming into it."""

    layer: Layer
    height: int
    width: int


def setting(label: str, key: str, low: int, high: int, default: int, note: str) -> int:
    """An integer slider with a plain-words explanation under it."""
    st.session_state.setdefault(key, default)
    value = st.slider(label, low, high, step=1, key=key, persist_state=SESSION)
    st.caption(note)
    return int(value)


def square_changed() -> None:
    """Start the separate height and width from the square size, and back."""
    if st.session_state.os_square:
        st.session_state.os_size = st.session_state.get("os_height", 28)
    else:
        st.session_state.os_height = st.session_state.os_width = st.session_state.get("os_size", 28)


def layer_controls() -> LayerInput:
    """The one-layer controls, each with its explanation."""
    kind = st.radio("Layer type", list(KINDS), format_func=lambda k: KINDS[k][0], key="os_kind",
                    captions=[v[1] for v in KINDS.values()], persist_state=SESSION)
    st.session_state.setdefault("os_square", True)
    st.toggle("Square input", key="os_square", on_change=square_changed, persist_state=SESSION)
    size_note = "Height and width of the map coming in: MNIST digits are 28×28."
    if st.session_state.os_square:
        height = width = setting("Input size (H = W)", "os_size", 1, 64, 28, size_note)
    else:
        left, right = st.columns(2)
        with left:
            height = setting("Input height H", "os_height", 1, 64, 28, size_note)
        with right:
            width = setting("Input width W", "os_width", 1, 64, 28, "Rows and columns can differ.")
    pooling, transposed = kind in ("maxpool", "avgpool"), kind == "convtranspose"
    kernel = setting("Kernel size F", "os_kernel", 1, 32, 5,
                    "Each input cell stamps an F×F kernel onto the output, which so gains F − 1 rows and "
                    "columns." if transposed else
                    "The window is F×F cells. Without padding each layer loses F − 1 rows and columns.")
    stride = setting("Stride S", "os_stride", 1, 8, 1,
                    "How far the window jumps between outputs. Stride 2 about halves the size; a stride "
                    "larger than the window skips cells.")
    padding = setting("Padding P", "os_padding", 0, 8, 2,
                     "Here padding works backwards: P rows and columns are cropped from each edge of the "
                     "output." if transposed else
                     "Rings of padding around the input, so windows can start at the edge; pooling may pad "
                     "at most half the window." if pooling else
                     "Rings of zeros around the input, so edge cells get centred too. P = (F − 1)/2 keeps the "
                     "size: the seed pads 2 with a 5×5 kernel so a 28×28 digit gives 28×28 maps, the size "
                     "LeNet-5 had after its first layer on 32×32 images.")
    dilation = setting("Dilation D", "os_dilation", 1, 6, 1,
                      "Spreads the window's cells D apart: an F×F window covers D(F − 1) + 1 cells, with "
                      "holes in between (average pooling has no dilation)." if pooling else
                      "Spreads the kernel's taps D cells apart: the same F×F weights cover D(F − 1) + 1 "
                      "cells, with holes in between. A wider view for free.")
    ceil_mode, output_padding = False, 0
    if kind in ("maxpool", "avgpool"):
        ceil_mode = st.toggle("Ceil mode", key="os_ceil", persist_state=SESSION)
        st.caption("Round up instead of down: keep a last, partial window instead of dropping the leftover cells.")
    if kind == "convtranspose":
        output_padding = setting("Output padding", "os_output_padding", 0, 7, 0,
                                "Extra cells on the bottom and right. With stride S, several input sizes "
                                "shrink to the same size; this picks which one to grow back to.")
    return LayerInput(Layer(kind, kernel, stride, padding, dilation, ceil_mode, output_padding), height, width)


def window_stepper(chosen: LayerInput) -> None:
    """The grid picture with a slider (and play button) over every kernel placement."""
    layer, height, width = chosen.layer, chosen.height, chosen.width
    if not drawable(layer, height, width):
        st.info("These grids are too large to draw cell by cell; the numbers above are exact. "
                "Try a smaller input or stride to see the picture.")
        return
    steps = step_count(layer, height, width)
    playing = st.session_state.get("os_playing", False) and steps > 1  # one placement: nothing to play

    @st.fragment(run_every=0.3 if playing else None)
    def stepper() -> None:
        step = min(st.session_state.get("os_step", 0), steps - 1)
        if st.session_state.get("os_playing", False):
            step = (step + 1) % steps
        st.session_state.os_step = step
        what = "input cell" if layer.kind == "convtranspose" else "output cell"
        slider, button = st.columns([4, 1], vertical_alignment="bottom")
        with slider:
            st.slider(f"Step the kernel over every {what} ({steps} in all)", 0, max(steps - 1, 1),
                      key="os_step", disabled=steps == 1)
        with button:
            if st.button("Pause" if playing else "Play", key="os_play", width="stretch", disabled=steps == 1,
                         icon=":material/pause:" if playing else ":material/play_arrow:"):
                st.session_state.os_playing = not playing
                st.rerun()  # the whole page, so the fragment's timer starts or stops
        st.caption(describe_step(layer, height, width, step))
        st.plotly_chart(window_figure(layer, height, width, step), key="os_window", config={"displayModeBar": False})

    stepper()


def one_layer() -> None:
    controls, results = st.columns([1, 2.6], gap="large")
    with controls:
        chosen = layer_controls()
        layer, height, width = chosen.layer, chosen.height, chosen.width
    with results:
        symbolic, _ = formula_latex(layer, height)
        st.latex(symbolic)
        st.caption("W: input size (height or width), F: kernel, S: stride, P: padding, D: dilation"
                   + (", P_out: output padding" if layer.kind == "convtranspose" else ""))
        try:
            out_h, out_w = layer.output(height), layer.output(width)
        except LenetVizError as exc:
            st.error(f"This layer cannot be built: {exc} The formula below still works out numbers, but PyTorch "
                     "refuses the layer before it gets there.", icon=":material/block:")
            st.latex(formula_line(layer, height, "H"))
            st.latex(formula_line(layer, width, "W"))
            st.metric("Output size (H × W)", "—", border=True)
            return
        st.latex(formula_line(layer, height, "H"))
        st.latex(formula_line(layer, width, "W"))
        st.metric("Output size (H × W)", f"{out_h} × {out_w}", border=True)
        axes = ("rows and columns", height) if height == width else None
        for axis, size in [axes] if axes else [("rows", height), ("columns", width)]:
            warning = coverage_warning(layer, size, axis)
            if warning:
                st.warning(warning, icon=":material/warning:")
        window_stepper(chosen)


def load_preset() -> None:
    """Copy the chosen preset's numbers into the editor's widgets."""
    spec = PRESETS[st.session_state.os_preset]
    st.session_state.os_activation = spec.activation
    for i, block in enumerate(spec.conv):
        for field in BLOCK_FIELDS:
            st.session_state[f"os_b{i}_{field}"] = getattr(block, field)


def block_editor(index: int, block: ConvBlock) -> ConvBlock:
    """One conv block's widgets in a row; ``block`` gives the values on first display."""
    st.markdown(f"**Block {index + 1}**: conv{index + 1} → activation → pool{index + 1}")
    cols = st.columns(7)
    specs = [
        ("channels", "out_channels", 1, 64, "How many kernels, so how many feature maps come out."),
        ("kernel", "kernel", 1, 11, "Side of each kernel (F)."),
        ("stride", "stride", 1, 6, "Jump between positions (S)."),
        ("padding", "padding", 0, 6, "Zero rings around the input (P)."),
    ]
    for field in BLOCK_FIELDS:
        st.session_state.setdefault(f"os_b{index}_{field}", getattr(block, field))
    values = {}
    for col, (label, field, low, high, note) in zip(cols, specs, strict=False):
        with col:
            values[field] = int(st.number_input(label, low, high, key=f"os_b{index}_{field}", help=note,
                                                persist_state=SESSION))
    with cols[4]:
        values["pool"] = st.selectbox("pooling", POOLINGS, key=f"os_b{index}_pool", persist_state=SESSION,
                                      help="avg or max of each window, or none.")
    for col, (label, field) in zip(cols[5:], [("pool kernel", "pool_kernel"), ("pool stride", "pool_stride")],
                                   strict=True):
        with col:
            values[field] = int(st.number_input(label, 1, 6, key=f"os_b{index}_{field}",
                                                disabled=values["pool"] == "none", persist_state=SESSION,
                                                help="Pooling window side and jump (2 and 2 halve the map)."))
    return ConvBlock(**values)


def whole_lenet() -> None:
    st.markdown(
        "Start from a preset and change any convolution or pooling layer: the table, the parameter count and the "
        "flatten size follow. The flatten size is what the first fully connected layer receives, so it is "
        "where a wrong size shows up: the seed's two networks differ there (16×5×5 = 400 with padding, "
        "16×4×4 = 256 without)."
    )
    try:
        start = ui.custom_spec() or PRESETS["classic"]
    except SpecError:  # a stale or foreign value: start afresh
        start = PRESETS["classic"]
    top = st.columns([1, 1, 3])
    with top[0]:
        preset = st.selectbox("Preset", list(PRESETS), key="os_preset", on_change=load_preset, persist_state=SESSION,
                              help="classic: the seed's first network. modern: ReLU and max pooling. "
                                   "seed-nopad: the seed's second network, without padding.")
    st.session_state.setdefault("os_activation", start.activation)
    with top[1]:
        activation = st.selectbox("Activation", ACTIVATIONS, key="os_activation", persist_state=SESSION)
    blocks = tuple(block_editor(i, block) for i, block in enumerate(start.conv))
    spec = replace(PRESETS[preset], conv=blocks, activation=activation)
    try:
        table = layer_plan(spec)
    except SpecError as exc:
        st.error(f"This network cannot be built: {exc}", icon=":material/block:")
        return
    left, middle, _ = st.columns([1, 1, 2])
    reference = layer_plan(PRESETS[preset]).total_params
    change = table.total_params - reference
    left.metric("Parameters", f"{table.total_params:,}", delta=f"{change:+,} vs {preset}" if change else None,
                delta_color="off", border=True)
    middle.metric("Flatten size", f"{table.flatten_size:,}", border=True)
    rows = layer_rows(table)
    for warning in coverage_warnings(spec):
        st.warning(warning, icon=":material/visibility_off:")
    st.dataframe(rows, hide_index=True, key="os_table", height=35 * (len(rows) + 1) + 3,
                 column_config={"parameters": st.column_config.NumberColumn(format="localized")})
    st.button("Train this network", key="os_send", icon=":material/model_training:", on_click=ui.send_to_training,
              args=(spec,))
    if st.session_state.get(ui.CUSTOM_SPEC) == spec.to_dict():
        st.success("This network is ready on the training page.")
        st.page_link("app_pages/train.py", label="Go to the training page", icon=":material/arrow_forward:")


st.title("Output size")
st.markdown("How big is the map that comes out of a layer? Change the numbers and watch the formula, the "
            "sliding window and the output grid follow.")
tab_layer, tab_lenet = st.tabs(["One layer", "The whole LeNet"])
with tab_layer:
    one_layer()
with tab_lenet:
    whole_lenet()
