"""Figures and tables of the output-size page: the sliding window and the LeNet layer table.

Pure plotly (no Streamlit, no torch). :func:`window_picture` draws a layer's input and output grids
side by side for one placement of the kernel, picked by a step number that runs over every
output cell (convolution, pooling) or every input cell (transposed convolution), with its legend
as HTML and the figure's height for whatever width the page gives it (:meth:`WindowPicture.html`).
Every text takes ``lang`` (see :mod:`lenet_viz.i18n`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lenet_viz.arithmetic import Layer, missed_cells
from lenet_viz.i18n import DEFAULT_LANG, t
from lenet_viz.models import LayerPlan

MAX_DRAWN = 96
"""Largest grid side drawn; beyond it the cells would be under a few pixels."""

# Cell categories: (catalogue key of the legend's name, colour). The heatmaps' z holds the index.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("cell.padding", "#d4d4d4"),
    ("cell.input", "#9ecae1"),
    ("cell.input_unread", "#c6dbef"),
    ("cell.overhang", "#f2f2f2"),
    ("cell.tap", "#fd8d3c"),
    ("cell.tap_padding", "#fdd0a2"),
    ("cell.output", "#a1d99b"),
    ("cell.current", "#fd8d3c"),
    ("cell.cropped", "#d4d4d4"),
    ("cell.bias_only", "#d9f0d3"),
    ("cell.written", "#fd8d3c"),
    ("cell.written_cropped", "#fdd0a2"),
    ("cell.source", "#fd8d3c"),
)
(PADDING, INPUT, UNREAD, OVERHANG, TAP, TAP_PADDING, OUTPUT, CURRENT, CROPPED, BIAS_ONLY, WRITTEN,
 WRITTEN_CROPPED, SOURCE) = range(len(CATEGORIES))
EXPECTED_WIDTH = 650
"""Width in pixels of the figure on a desktop page: its height where the page cannot fit it to its width."""
MARGIN = {"l": 10, "r": 10, "t": 60, "b": 10}  # the titles and column numbers sit in the top margin
SIDES = 76
"""Pixels the row numbers take beside the grids (Plotly widens the side margins for them), about
38 on each side for two-digit numbers."""
SPACING = 0.06  # between the two grids, a share of the plot's width
MAX_CELL = 24
"""Largest cell side in pixels: a 2×2 grid is not drawn as wide as the page."""
OUTLINE = "#a63603"
MISSED = "#cb181d"
LANDS = "#08519c"


def _colorscale() -> list[tuple[float, str]]:
    """A stepped colour scale mapping each integer category to its colour."""
    n = len(CATEGORIES)
    scale = []
    for i, (_, colour) in enumerate(CATEGORIES):
        scale += [(i / n, colour), ((i + 1) / n, colour)]
    return scale


@dataclass(frozen=True)
class Panel:
    """One grid: cell categories by row, the coordinates of its first row/column, hover texts."""

    title: str
    z: list[list[int]]
    first: tuple[int, int]
    hover: list[list[str]]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.z), len(self.z[0])


def step_count(layer: Layer, height: int, width: int) -> int:
    """Number of kernel placements: output cells (conv, pooling) or input cells (transposed)."""
    if layer.kind == "convtranspose":
        return height * width
    return layer.output(height) * layer.output(width)


def step_position(layer: Layer, height: int, width: int, step: int) -> tuple[int, int]:
    """(row, column) of the cell a step stands for: output cell, or input cell if transposed."""
    columns = width if layer.kind == "convtranspose" else layer.output(width)
    return divmod(step, columns)


def describe_step(layer: Layer, height: int, width: int, step: int, lang: str = DEFAULT_LANG) -> str:
    """One sentence saying which cells this placement reads and writes."""
    row, col = step_position(layer, height, width, step)
    rows, cols = layer.taps(row), layer.taps(col)
    gap = t("step.gap", lang, dilation=layer.dilation) if layer.dilation > 1 else ""
    span = t("step.span", lang, first_row=rows[0], last_row=rows[-1], first_col=cols[0], last_col=cols[-1], gap=gap)
    return t(f"step.{layer.kind}", lang, row=row, col=col, kernel=layer.kernel, span=span)


def drawable(layer: Layer, height: int, width: int) -> bool:
    """Whether the grids are small enough to draw cell by cell."""
    if layer.kind == "convtranspose":
        sides = [_transposed_extent(layer, n)[1] - _transposed_extent(layer, n)[0] for n in (height, width)]
    else:
        sides = [_input_extent(layer, n)[1] - _input_extent(layer, n)[0] for n in (height, width)]
    return max(sides) <= MAX_DRAWN


def _input_extent(layer: Layer, size: int) -> tuple[int, int]:
    """Input coordinates drawn along one axis, [first, stop): padding plus any ceil-mode overhang."""
    last_tap = max(layer.taps(layer.output(size) - 1))
    return -layer.padding, max(size + layer.padding, last_tap + 1)


def _transposed_extent(layer: Layer, size: int) -> tuple[int, int]:
    """Output coordinates drawn along one axis, [first, stop): the cells written before cropping."""
    out = layer.output(size)
    return -layer.padding, max(out + layer.padding, max(layer.taps(size - 1)) + 1)


def _classified(rows: range, cols: range, category: Callable[[int, int], int],
                kind: Callable[[int, int], str], lang: str) -> tuple[list[list[int]], list[list[str]]]:
    """Every cell's category, and its hover text: ``input (r, c)`` and the category's meaning."""
    z = [[category(r, c) for c in cols] for r in rows]
    names = [t(key, lang) for key, _ in CATEGORIES]
    hover = [[f"{t(kind(r, c), lang, row=r, col=c)}<br>{names[z[i][j]]}" for j, c in enumerate(cols)]
             for i, r in enumerate(rows)]
    return z, hover


def _conv_panels(layer: Layer, height: int, width: int, step: int,
                 lang: str) -> tuple[Panel, Panel, list[int], list[int]]:
    oh, ow = layer.output(height), layer.output(width)
    row, col = divmod(step, ow)
    tap_rows, tap_cols = set(layer.taps(row)), set(layer.taps(col))
    missed_rows, missed_cols = set(missed_cells(layer, height)), set(missed_cells(layer, width))
    (r0, r1), (c0, c1) = _input_extent(layer, height), _input_extent(layer, width)

    def inside(r: int, c: int) -> bool:
        return 0 <= r < height and 0 <= c < width

    def category(r: int, c: int) -> int:
        in_padding = -layer.padding <= r < height + layer.padding and -layer.padding <= c < width + layer.padding
        if not (inside(r, c) or in_padding):
            return OVERHANG  # ceil mode: a window may hang past the padding; those taps are ignored
        if r in tap_rows and c in tap_cols:
            return TAP if inside(r, c) else TAP_PADDING
        if inside(r, c):
            return UNREAD if r in missed_rows or c in missed_cols else INPUT
        return PADDING

    z, hover = _classified(range(r0, r1), range(c0, c1), category,
                           lambda r, c: "hover.input" if inside(r, c) else "hover.padding", lang)
    pad = t("panel.padding", lang, padding=layer.padding) if layer.padding else ""
    source = Panel(t("panel.input", lang, height=height, width=width, extra=pad), z, (r0, c0), hover)
    out_z = [[CURRENT if (r, c) == (row, col) else OUTPUT for c in range(ow)] for r in range(oh)]
    out_hover = [[t("hover.output", lang, row=r, col=c) for c in range(ow)] for r in range(oh)]
    target = Panel(t("panel.output", lang, height=oh, width=ow, extra=""), out_z, (0, 0), out_hover)
    return source, target, layer.taps(row), layer.taps(col)


def _transposed_panels(layer: Layer, height: int, width: int, step: int,
                       lang: str) -> tuple[Panel, Panel, list[int], list[int]]:
    oh, ow = layer.output(height), layer.output(width)
    row, col = divmod(step, width)
    in_z = [[SOURCE if (r, c) == (row, col) else INPUT for c in range(width)] for r in range(height)]
    in_hover = [[t("hover.input", lang, row=r, col=c) for c in range(width)] for r in range(height)]
    source = Panel(t("panel.input", lang, height=height, width=width, extra=""), in_z, (0, 0), in_hover)
    tap_rows, tap_cols = set(layer.taps(row)), set(layer.taps(col))
    missed_rows, missed_cols = set(missed_cells(layer, height)), set(missed_cells(layer, width))
    (r0, r1), (c0, c1) = _transposed_extent(layer, height), _transposed_extent(layer, width)

    def category(r: int, c: int) -> int:
        kept = 0 <= r < oh and 0 <= c < ow
        if r in tap_rows and c in tap_cols:
            return WRITTEN if kept else WRITTEN_CROPPED
        if not kept:
            return CROPPED
        return BIAS_ONLY if r in missed_rows or c in missed_cols else OUTPUT

    z, hover = _classified(range(r0, r1), range(c0, c1), category, lambda r, c: "hover.output", lang)
    crop = t("panel.cropped", lang, padding=layer.padding) if layer.padding else ""
    target = Panel(t("panel.output", lang, height=oh, width=ow, extra=crop), z, (r0, c0), hover)
    return source, target, layer.taps(row), layer.taps(col)


def _add_panel(fig: go.Figure, panel: Panel, col: int, lang: str) -> None:
    """One grid as a heatmap in subplot ``col``, square cells, cells nothing reaches crossed out."""
    rows, cols = panel.shape
    fig.add_trace(go.Heatmap(
        z=panel.z, x=list(range(panel.first[1], panel.first[1] + cols)),
        y=list(range(panel.first[0], panel.first[0] + rows)), text=panel.hover,
        hovertemplate="%{text}<extra></extra>", colorscale=_colorscale(), zmin=-0.5, zmax=len(CATEGORIES) - 0.5,
        showscale=False, xgap=1, ygap=1,
    ), row=1, col=col)
    fig.update_xaxes(row=1, col=col, side="top", showgrid=False, zeroline=False, constrain="domain",
                     constraintoward="left", range=[panel.first[1] - 0.5, panel.first[1] + cols - 0.5],
                     title={"text": panel.title, "standoff": 6})
    # the output's rows are numbered on its right: between the grids its numbers would sit on the
    # input's last columns when the figure is narrow (a phone), as the gap between them is a share of it
    fig.update_yaxes(row=1, col=col, autorange="reversed", showgrid=False, zeroline=False,
                     scaleanchor=f"x{'' if col == 1 else col}", scaleratio=1, constrain="domain",
                     constraintoward="top", side="left" if col == 1 else "right", automargin=True)
    crossed = [(panel.first[0] + r, panel.first[1] + c) for r in range(rows) for c in range(cols)
               if panel.z[r][c] in (UNREAD, BIAS_ONLY)]
    if crossed:
        name = t("cell.never_read" if col == 1 else "cell.no_input", lang)
        fig.add_trace(go.Scatter(x=[c for _, c in crossed], y=[r for r, _ in crossed], mode="markers",
                                 marker={"symbol": "x-thin", "size": 7, "line": {"color": MISSED, "width": 1.5}},
                                 hoverinfo="skip", name=f"× {name}", showlegend=False), row=1, col=col)


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: a name and how it is drawn (a coloured cell, a red cross, a dot)."""

    name: str
    colour: str
    mark: Literal["cell", "cross", "dot"] = "cell"


def _legend(panels: tuple[Panel, Panel], transposed: bool, lang: str) -> tuple[LegendEntry, ...]:
    """An entry for each cell category the grids show, and for the dots of a transposed layer."""
    present = {v for panel in panels for row in panel.z for v in row}
    entries = [LegendEntry(t(key, lang), MISSED if i in (UNREAD, BIAS_ONLY) else colour,
                           "cross" if i in (UNREAD, BIAS_ONLY) else "cell")
               for i, (key, colour) in enumerate(CATEGORIES) if i in present]
    if transposed:
        entries.append(LegendEntry(t("cell.lands", lang), LANDS, "dot"))
    return tuple(entries)


def panel_shapes(layer: Layer, height: int, width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(rows, columns) of the input grid and of the output grid as drawn (padding, overhang, cropped cells)."""
    if layer.kind == "convtranspose":
        (r0, r1), (c0, c1) = _transposed_extent(layer, height), _transposed_extent(layer, width)
        return (height, width), (r1 - r0, c1 - c0)
    (r0, r1), (c0, c1) = _input_extent(layer, height), _input_extent(layer, width)
    return (r1 - r0, c1 - c0), (layer.output(height), layer.output(width))


def _column_widths(shapes: tuple[tuple[int, int], ...]) -> list[int]:
    """The subplots' shares of the width: their columns (at least 4, so that a narrow grid keeps its title)."""
    return [max(cols, 4) for _, cols in shapes]


def _height_terms(shapes: tuple[tuple[int, int], ...]) -> list[tuple[float, float]]:
    """For each grid, (pixels per pixel of plot width, largest pixels) of its height: its cells are
    square, as wide as its share of the plot's width allows and at most :data:`MAX_CELL`."""
    widths = _column_widths(shapes)
    return [(rows * (1 - SPACING) * share / (sum(widths) * cols), rows * MAX_CELL)
            for (rows, cols), share in zip(shapes, widths, strict=True)]


def plot_height(layer: Layer, height: int, width: int, figure_width: float) -> float:
    """Height in pixels of the grids' plot area in a figure ``figure_width`` pixels wide: the taller
    grid fills it, its cells as wide as they can be."""
    terms = _height_terms(panel_shapes(layer, height, width))
    return max(min(per_pixel * (figure_width - SIDES), most) for per_pixel, most in terms)


def height_css(layer: Layer, height: int, width: int) -> str:
    """:func:`plot_height` plus the margins, as a CSS length for a figure as wide as its container
    (``100cqw``, the box being a size container): the page's width decides it, a phone's too."""
    terms = ", ".join(f"min({per_pixel:.6f} * (100cqw - {SIDES}px), {most}px)"
                      for per_pixel, most in _height_terms(panel_shapes(layer, height, width)))
    return f"calc(max({terms}) + {MARGIN['t'] + MARGIN['b']}px)"


@dataclass(frozen=True)
class WindowPicture:
    """The grids of one kernel placement: the figure, its legend, and its height for any width."""

    figure: go.Figure
    legend: tuple[LegendEntry, ...]
    height: str
    """CSS length of the figure's height in a box as wide as the figure (:func:`height_css`)."""

    def html(self, box: str) -> str:
        """The legend as a list, and the style that sizes the figure in the element with class ``box``
        (a size container, so the figure's height follows its width with no empty band under the grids)."""
        items = "".join(
            f'<li><span class="os-mark os-{e.mark}" style="--mark: {e.colour}" aria-hidden="true">'
            f'{"×" if e.mark == "cross" else ""}</span>{html.escape(e.name)}</li>' for e in self.legend)
        style = (f".{box} {{ container-type: inline-size; }}"  # 100cqw: the box's width
                 # Streamlit sizes the chart's element to the figure's layout height, and the figure to
                 # its element's height: the element follows the chart, the chart the box's width
                 f' .{box} [data-testid="stElementContainer"] {{ flex: 0 0 auto !important; height: auto !important; }}'
                 f' .{box} [data-testid="stPlotlyChart"] {{ height: {self.height} !important; }}'
                 # the legend lines up with the input grid (Streamlit's own list style is overridden)
                 f" .{box} ul.os-legend {{ list-style: none; margin: 0; padding: 0 0 0 {SIDES // 2}px; display: flex;"
                 " flex-wrap: wrap; gap: 0.15rem 1.1rem; font-size: 0.85rem; line-height: 1.5; }"
                 f" .{box} .os-legend li {{ display: flex; align-items: center; gap: 0.4rem; margin: 0; padding: 0; }}"
                 f" .{box} .os-mark {{ flex: none; width: 0.8rem; height: 0.8rem; box-sizing: border-box;"
                 " display: inline-flex; align-items: center; justify-content: center; }"
                 f" .{box} .os-cell {{ background: var(--mark); border: 1px solid #888; }}"
                 f" .{box} .os-cross {{ color: var(--mark); font-weight: 700; font-size: 1rem; }}"
                 f" .{box} .os-dot::before {{ content: ''; width: 0.4rem; height: 0.4rem; border-radius: 50%;"
                 " background: var(--mark); }")
        return f'<style>{style}</style><ul class="os-legend">{items}</ul>'


def window_picture(layer: Layer, height: int, width: int, step: int, lang: str = DEFAULT_LANG) -> WindowPicture:
    """Input grid (with padding) and output grid for kernel placement ``step``, with their legend.

    Convolution and pooling: the window over the padded input, its taps highlighted (dilation
    holes left plain), and the output cell it writes. Transposed convolution: the input cell
    being scattered and the output cells it writes, on the output before the padding crops it,
    with dots where each input cell lands (stride spacing). The layer must be buildable.
    """
    transposed = layer.kind == "convtranspose"
    build = _transposed_panels if transposed else _conv_panels
    source, target, tap_rows, tap_cols = build(layer, height, width, step, lang)
    panels = (source, target)
    fig = make_subplots(rows=1, cols=2, column_widths=_column_widths(tuple(p.shape for p in panels)),
                        horizontal_spacing=SPACING)
    for col, panel in enumerate(panels, start=1):
        _add_panel(fig, panel, col, lang)
    outlined = 2 if transposed else 1
    fig.add_shape(type="rect", row=1, col=outlined, x0=tap_cols[0] - 0.5, x1=tap_cols[-1] + 0.5,
                  y0=tap_rows[0] - 0.5, y1=tap_rows[-1] + 0.5, line={"color": OUTLINE, "width": 2})
    if transposed:
        anchors = [(r * layer.step - layer.padding, c * layer.step - layer.padding)
                   for r in range(height) for c in range(width)]
        fig.add_trace(go.Scatter(x=[a[1] for a in anchors], y=[a[0] for a in anchors], mode="markers",
                                 marker={"size": 5, "color": LANDS}, hoverinfo="skip",
                                 name=t("cell.lands", lang)), row=1, col=2)
    # the legend is the page's (HTML wraps to any width); the height is for a desktop page, where the
    # page cannot set it from the width the figure gets (WindowPicture.html)
    fig.update_layout(height=round(plot_height(layer, height, width, EXPECTED_WIDTH)) + MARGIN["t"] + MARGIN["b"],
                      margin=MARGIN, plot_bgcolor="white", showlegend=False)
    return WindowPicture(fig, _legend(panels, transposed, lang), height_css(layer, height, width))


TABLE_COLUMNS = ("layer", "type", "hyperparameters", "output_shape", "parameters")


def layer_rows(plan: LayerPlan, lang: str = DEFAULT_LANG) -> list[dict[str, str | int]]:
    """The layer table as rows for ``st.dataframe``, headed in ``lang`` (:func:`column_name`)."""
    layer, kind, hyper, shape, params = (column_name(c, lang) for c in TABLE_COLUMNS)
    return [
        {layer: r.name, kind: t(f"kind.{r.kind}", lang), hyper: r.hyper_text(lang),
         shape: " × ".join(str(d) for d in r.output_shape), params: r.params}
        for r in plan.layers
    ]


def column_name(column: str, lang: str = DEFAULT_LANG) -> str:
    """A layer table column's heading (one of :data:`TABLE_COLUMNS`) in ``lang``."""
    return t(f"table.{column}", lang)
