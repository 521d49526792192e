"""Plotly figures for the feature-maps page, built for speed: one heatmap trace per layer.

A layer's maps are tiled into one image with NaN gaps (see :func:`tile`), so a grid of 16 maps is
a single ``go.Heatmap`` instead of 16 subplots; hover still names the map, row and column of a
unit through ``customdata``. Signed values use a diverging scale centred on zero, non-negative
ones a sequential scale. Every text takes ``lang`` (see :mod:`lenet_viz.i18n`); class names are
translated here, so callers pass the English ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from lenet_viz.activations import Activations, LayerOutput, UnitExplanation
from lenet_viz.i18n import DEFAULT_LANG, class_names, t

DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"
GRAY = "gray"
WIDTH_HINT = 1100  # px of a wide page's main column: used to size figure heights
MAX_CELL = 24  # px: a cell is never drawn larger than this
KINDS_NAMED = ("conv", "sigmoid", "relu", "tanh", "avgpool", "maxpool", "linear")  # have a ``layer_kind.`` key
_AXIS = dict(showgrid=False, zeroline=False, showline=False, ticks="", fixedrange=True)


def _figure(data: list, layout: dict) -> go.Figure:
    """A figure on plotly's empty template: several times faster to build and serialise than the
    default one, and Streamlit's theme styles it in the browser anyway."""
    return go.Figure(data=data, layout={**layout, "template": "none"})


def grid_columns(count: int, max_columns: int = 8) -> int:
    """Columns for ``count`` tiles: one row up to ``max_columns``, then balanced rows."""
    rows = math.ceil(count / max_columns)
    return math.ceil(count / rows)


@dataclass(frozen=True)
class Grid:
    """Where ``count`` tiles of ``height``×``width`` go in one tiled image."""

    count: int
    height: int
    width: int
    columns: int
    gap: int = 1  # empty columns between tiles
    row_gap: int = 1  # empty rows between tile rows (room for labels)

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows * self.height + (self.rows - 1) * self.row_gap,
                self.columns * self.width + (self.columns - 1) * self.gap)

    def origin(self, k: int) -> tuple[int, int]:
        """Top-left (row, column) of tile ``k``."""
        r, c = divmod(k, self.columns)
        return r * (self.height + self.row_gap), c * (self.width + self.gap)

    def locate(self, y: int, x: int) -> tuple[int, int, int] | None:
        """(tile, row, column) of tiled cell (y, x), or None in a gap or outside."""
        tile_row, r = divmod(y, self.height + self.row_gap)
        tile_col, c = divmod(x, self.width + self.gap)
        k = tile_row * self.columns + tile_col
        inside = 0 <= y and 0 <= x and r < self.height and c < self.width and tile_col < self.columns
        return (k, r, c) if inside and k < self.count else None


def tile(maps: np.ndarray, grid: Grid) -> np.ndarray:
    """C×H×W maps → one 2-D float array, tiles in row-major order separated by NaN gaps."""
    out = np.full(grid.shape, np.nan, np.float32)
    for k in range(grid.count):
        y, x = grid.origin(k)
        out[y:y + grid.height, x:x + grid.width] = maps[k]
    return out


@lru_cache(maxsize=64)
def _unit_index(grid: Grid) -> np.ndarray:
    """Tiled (map, row, column) of every cell: H_t×W_t×3, NaN in the gaps (depends on the grid only)."""
    axes = np.meshgrid(np.arange(grid.count), np.arange(grid.height), np.arange(grid.width), indexing="ij")
    return np.stack([tile(a.astype(np.float32), grid) for a in axes], axis=-1)


def _cell_px(tiled_width: int, width_hint: int) -> float:
    return min(MAX_CELL, (width_hint - 110) / tiled_width)


def _range(values: np.ndarray, signed: bool) -> tuple[float, float]:
    peak = float(np.abs(values).max(initial=0.0)) or 1.0
    return (-peak, peak) if signed else (0.0, float(values.max(initial=0.0)) or 1.0)


def layer_grid_shape(count: int, height: int, width: int, width_hint: int = WIDTH_HINT) -> tuple[Grid, float]:
    """The grid for a layer's maps and the expected size of one cell in screen pixels."""
    columns, gap = grid_columns(count), max(1, height // 7)
    cell = _cell_px(columns * width + (columns - 1) * gap, width_hint)
    return Grid(count, height, width, columns, gap, max(gap, math.ceil(16 / cell))), cell


def kind_text(kind: str, lang: str = DEFAULT_LANG) -> str:
    """A layer kind in words (``conv`` → convolution, 卷积); an unknown kind as it is."""
    return t(f"layer_kind.{kind}", lang) if kind in KINDS_NAMED else kind


def layer_title(layer: LayerOutput, lang: str = DEFAULT_LANG) -> str:
    """e.g. ``conv1 (C1) · convolution · 6×28×28``."""
    label = f" ({layer.label})" if layer.label else ""
    return f"<b>{layer.name}</b>{label} · {kind_text(layer.kind, lang)} · {layer.shape_text}"


def layer_grid(layer: LayerOutput, per_map: bool = False, width_hint: int = WIDTH_HINT,
               lang: str = DEFAULT_LANG) -> go.Figure:
    """All maps of a spatial layer as one tiled heatmap, with one colour scale for the layer or per map."""
    values = layer.values
    count, height, width = values.shape
    grid, cell = layer_grid_shape(count, height, width, width_hint)
    signed = bool(values.min() < 0)
    real = tile(values, grid)
    if per_map:
        peaks = np.abs(values).reshape(count, -1).max(axis=1)
        z = tile(values / np.where(peaks > 0, peaks, 1.0)[:, None, None], grid)
        zmin, zmax, bar_title = (-1.0 if signed else 0.0), 1.0, t("maps.per_map_bar", lang)
    else:
        z = real
        (zmin, zmax), bar_title = _range(values, signed), ""
    trace = go.Heatmap(
        z=z, customdata=np.concatenate([_unit_index(grid), real[..., None]], axis=-1), zmin=zmin, zmax=zmax,
        colorscale=DIVERGING if signed else SEQUENTIAL, zmid=0 if signed else None, hoverongaps=False,
        colorbar=dict(thickness=12, len=1, nticks=6, title=dict(text=bar_title, side="right")),
        hovertemplate=t("maps.hover", lang) + "<br>%{customdata[3]:.4g}<extra></extra>",
    )
    cells_y, cells_x = np.nonzero(~np.isnan(real))
    clickable = dict(  # invisible markers on every cell: a click on one selects that unit (heatmaps take no clicks)
        type="scatter", mode="markers", x=cells_x, y=cells_y, hoverinfo="none", showlegend=False,
        marker=dict(symbol="square", size=max(cell, 3), opacity=0),
        selected=dict(marker=dict(opacity=0.9, color="#ff8c00")), unselected=dict(marker=dict(opacity=0)))
    origins = np.array([grid.origin(k) for k in range(count)], dtype=np.float32)
    labels = dict(type="scatter", mode="text", x=origins[:, 1] + (width - 1) / 2, y=origins[:, 0] + height - 0.5,
                  text=[str(k) for k in range(count)], textposition="bottom center", hoverinfo="skip",
                  showlegend=False, textfont=dict(size=11, color="#808495"), cliponaxis=False,
                  unselected=dict(textfont=dict(color="#808495")))  # not dimmed when a cell is clicked
    axis = dict(_AXIS, showticklabels=False, constrain="domain")
    layout = dict(title=dict(text=layer_title(layer, lang), x=0, xanchor="left", font=dict(size=15)),
                  height=int(grid.shape[0] * cell + 75), margin=dict(l=10, r=10, t=40, b=20),
                  xaxis=axis, yaxis=dict(axis, autorange="reversed", scaleanchor="x"),
                  plot_bgcolor="rgba(0,0,0,0)")
    return _figure([trace, clickable, labels], layout)


def unit_at(shape: tuple[int, int, int], x: float, y: float,
            width_hint: int = WIDTH_HINT) -> tuple[int, int, int] | None:
    """The (map, row, column) drawn at point (x, y) of :func:`layer_grid`'s figure for maps of ``shape``."""
    grid, _ = layer_grid_shape(*shape, width_hint=width_hint)
    return grid.locate(round(y), round(x))


def dense_strips(acts: Activations, classes: tuple[str, ...], lang: str = DEFAULT_LANG) -> go.Figure:
    """Fully connected activations (hidden layers after their activation) and the output
    probabilities, one strip each, stacked in one figure."""
    names = [layer.name for layer in acts.layers]
    start = names.index("flatten") if "flatten" in names else 0
    hidden = [layer for layer in acts.layers[start + 1:-1] if layer.kind != "linear"]
    strips = [(t("dense.hidden", lang, name=h.name, kind=kind_text(h.kind, lang), source=names[names.index(h.name) - 1],
                 units=h.values.size), h.values, None) for h in hidden]
    strips.append((t("dense.output", lang, source=acts.layers[-1].name, classes=acts.probabilities.size),
                   acts.probabilities, class_names(list(classes), lang)))
    n, step = len(strips), 1 / len(strips)
    traces, layout = [], dict(height=95 * n + 20, margin=dict(l=10, r=10, t=10, b=10), annotations=[])
    for i, (title, values, labels) in enumerate(strips):
        suffix = "" if i == 0 else str(i + 1)
        top = 1 - i * step
        signed = bool(values.min() < 0)
        zmin, zmax = (0.0, 1.0) if labels else _range(values, signed)
        trace = dict(type="heatmap", z=values[None, :], zmin=zmin, zmax=zmax, showscale=False,
                     colorscale=DIVERGING if signed else SEQUENTIAL, xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                     xgap=1 if values.size <= 200 else 0,
                     hovertemplate=("%{x}" if labels else t("dense.unit_hover", lang)) + ": %{z:.4g}<extra></extra>")
        if labels:
            trace.update(x=labels, texttemplate="%{z:.2f}", textfont=dict(size=11))
        traces.append(trace)
        layout[f"xaxis{suffix}"] = dict(_AXIS, anchor=f"y{suffix}", showticklabels=bool(labels),
                                        tickfont=dict(size=11), type="category" if labels else "linear")
        layout[f"yaxis{suffix}"] = dict(_AXIS, domain=[top - step + 0.12 * step + (0.18 * step if labels else 0),
                                                       top - 0.3 * step], showticklabels=False,
                                        anchor=f"x{suffix}")
        layout["annotations"].append(dict(text=title, x=0, y=top - 0.02 * step, xref="paper", yref="paper",
                                          xanchor="left", yanchor="top", showarrow=False, font=dict(size=13)))
    return _figure(traces, layout)


MAX_KERNEL_INPUTS = 16


def kernel_grid(name: str, weights: np.ndarray, width_hint: int = WIDTH_HINT, lang: str = DEFAULT_LANG) -> go.Figure:
    """A convolution's kernels (out×in×k×k): one column per output map, one row per input channel
    (the first ``MAX_KERNEL_INPUTS`` inputs of a wide layer, so the grid stays on a screen)."""
    all_inputs = weights.shape[1]
    weights = weights[:, :MAX_KERNEL_INPUTS]
    out_ch, in_ch, kh, kw = weights.shape
    grid = Grid(in_ch * out_ch, kh, kw, out_ch)
    z = tile(weights.transpose(1, 0, 2, 3).reshape(in_ch * out_ch, kh, kw), grid)
    peak = float(np.abs(weights).max(initial=0.0)) or 1.0
    index = _unit_index(grid)[..., 0]  # tile number = input channel × out_ch + output map
    custom = np.stack([index // out_ch, index % out_ch, z], axis=-1)
    trace = go.Heatmap(z=z, customdata=custom, zmin=-peak, zmax=peak, zmid=0, colorscale=DIVERGING,
                       hoverongaps=False, colorbar=dict(thickness=12, len=1, nticks=6),
                       hovertemplate=t("kernels.hover", lang) + "<extra></extra>")
    xaxis = dict(_AXIS, constrain="domain", tickvals=[grid.origin(c)[1] + (kw - 1) / 2 for c in range(out_ch)],
                 ticktext=[str(c) for c in range(out_ch)],
                 title=dict(text=t("kernels.output_map", lang), font=dict(size=11)))
    yaxis = dict(_AXIS, autorange="reversed", scaleanchor="x", constrain="domain",
                 tickvals=[grid.origin(r * out_ch)[0] + (kh - 1) / 2 for r in range(in_ch)],
                 ticktext=[str(r) for r in range(in_ch)], title=dict(text=t("kernels.input", lang), font=dict(size=11)))
    cell = min(18.0, _cell_px(grid.shape[1], width_hint))
    inputs = t("kernels.inputs" if all_inputs > 1 else "kernels.one_input", lang, count=all_inputs)
    if all_inputs > in_ch:
        inputs += t("kernels.first_shown", lang, count=in_ch)
    title = t("kernels.title", lang, name=name, maps=out_ch, inputs=inputs, height=kh, width=kw)
    layout = dict(title=dict(text=title, x=0, xanchor="left", font=dict(size=15)), xaxis=xaxis, yaxis=yaxis,
                  height=max(int(grid.shape[0] * cell + 110), 220), margin=dict(l=50, r=10, t=40, b=45))
    return _figure([trace], layout)


def probability_bars(probabilities: np.ndarray, classes: tuple[str, ...], lang: str = DEFAULT_LANG) -> go.Figure:
    """Horizontal bars of every class probability, the top class highlighted."""
    classes = tuple(class_names(list(classes), lang))
    top = int(probabilities.argmax())
    colours = ["#ff4b4b" if i == top else "#8aa4c8" for i in range(len(classes))]
    trace = go.Bar(x=probabilities, y=list(classes), orientation="h", marker_color=colours,
                   text=[f"{p:.0%}" if p >= 0.005 else "" for p in probabilities], textposition="outside",
                   cliponaxis=False, hovertemplate="%{y}: %{x:.2%}<extra></extra>")
    layout = dict(height=320, margin=dict(l=10, r=30, t=10, b=10),
                  xaxis=dict(range=[0, 1.0], showticklabels=False, showgrid=False, fixedrange=True),
                  yaxis=dict(autorange="reversed", type="category", fixedrange=True, tickfont=dict(size=13)))
    return _figure([trace], layout)


def _rect(top: float, left: float, bottom: float, right: float, xref: str, yref: str, colour: str) -> dict:
    return dict(type="rect", xref=xref, yref=yref, x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
                line=dict(color=colour, width=3))


def unit_location(acts: Activations, unit: UnitExplanation, lang: str = DEFAULT_LANG) -> go.Figure:
    """Left: the input with the unit's receptive field; right: the unit's map with the unit marked."""
    image = acts.input.mean(axis=0)
    values = acts[unit.layer].values[unit.map]
    signed = bool(values.min() < 0)
    zmin, zmax = _range(values, signed)
    top, left, bottom, right = unit.field
    clipped = (max(top, 0), max(left, 0), min(bottom, image.shape[0]), min(right, image.shape[1]))
    traces = [
        dict(type="heatmap", z=image, colorscale=GRAY, zmin=0, zmax=1, showscale=False,
             hovertemplate=t("unit.input_hover", lang) + ": %{z:.3f}<extra></extra>"),
        dict(type="heatmap", z=values, colorscale=DIVERGING if signed else SEQUENTIAL, zmin=zmin, zmax=zmax,
             zmid=0 if signed else None, showscale=False, xaxis="x2", yaxis="y2",
             hovertemplate=t("unit.map_hover", lang) + ": %{z:.4g}<extra></extra>"),
    ]

    def axis(title: str, domain: list[float]) -> dict:
        return dict(_AXIS, showticklabels=False, constrain="domain", domain=domain, side="top",
                    title=dict(text=title, font=dict(size=13), standoff=6))

    layout = dict(
        height=300, margin=dict(l=10, r=10, t=45, b=10),
        xaxis=axis(t("unit.input_title", lang, size=unit.field_size), [0, 0.47]),
        yaxis=dict(_AXIS, showticklabels=False, autorange="reversed", scaleanchor="x", constrain="domain"),
        xaxis2=axis(t("unit.map_title", lang, layer=unit.layer, map=unit.map, row=unit.row, col=unit.col), [0.53, 1]),
        yaxis2=dict(_AXIS, showticklabels=False, autorange="reversed", scaleanchor="x2", anchor="x2",
                    constrain="domain"),
        shapes=[_rect(*clipped, "x", "y", "#ffb000"),
                _rect(unit.row, unit.col, unit.row + 1, unit.col + 1, "x2", "y2", "#ffb000")],
    )
    return _figure(traces, layout)


def unit_arithmetic(unit: UnitExplanation, width_hint: int = WIDTH_HINT, lang: str = DEFAULT_LANG) -> go.Figure:
    """The numbers a unit reads: its input patch, and for a convolution the kernel and the products.

    One panel per quantity, each tiling the input channels; panels side by side for a single
    channel, stacked otherwise.
    """
    channels, kh, kw = unit.patch.shape
    panels = [(t("unit.patch", lang, source=unit.source), unit.patch)]
    if unit.weights is not None:
        panels += [(t("unit.kernel", lang, map=unit.map), unit.weights),
                   (t("unit.products", lang), unit.weights * unit.patch)]
    grid = Grid(channels, kh, kw, channels)
    tiles = [tile(arr, grid) for _, arr in panels]
    across = channels == 1
    n = len(panels)
    tiled_w = tiles[0].shape[1] * (n if across else 1) + (n - 1) * 2 * across
    cell = min(34.0, (width_hint - 40) / tiled_w)
    panel_h = kh * cell + 40
    height = int((panel_h if across else n * panel_h) + 10)
    traces, layout = [], dict(height=height, margin=dict(l=10, r=10, t=10, b=10))
    for i, ((title, arr), z) in enumerate(zip(panels, tiles, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        signed = i > 0 or bool(arr.min() < 0)
        zmin, zmax = _range(arr, True) if signed else (0.0, max(1.0, float(arr.max())))
        trace = dict(type="heatmap", z=z, zmin=zmin, zmax=zmax, zmid=0 if signed else None, showscale=False,
                     colorscale=DIVERGING if signed else GRAY, xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                     hoverongaps=False, hovertemplate="%{z:.4g}<extra></extra>")
        if cell >= 26:
            trace.update(texttemplate="%{z:.2f}", textfont=dict(size=10))
        traces.append(trace)
        if across:
            xdomain, ydomain = [i / n + 0.01, (i + 1) / n - 0.01], [0, 1 - 40 / height]
        else:
            top = 1 - i / n
            xdomain, ydomain = [0, 1], [top - 1 / n + 5 / height, top - 40 / height]
        label = title + (t("unit.channels", lang, count=channels) if channels > 1 else "")
        layout[f"xaxis{suffix}"] = dict(_AXIS, showticklabels=False, anchor=f"y{suffix}", constrain="domain",
                                        scaleanchor=f"y{suffix}", domain=xdomain, side="top",
                                        title=dict(text=label, font=dict(size=13), standoff=6))
        layout[f"yaxis{suffix}"] = dict(_AXIS, showticklabels=False, autorange="reversed", anchor=f"x{suffix}",
                                        domain=ydomain, constrain="domain")
    return _figure(traces, layout)
