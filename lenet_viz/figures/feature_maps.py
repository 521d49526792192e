"""Plotly figures of the feature-maps page's server side: learned kernels and the unit inspector.

The live maps are drawn in the browser (``lenet_viz/netview``). Kernels are tiled into one image
with NaN gaps (see :func:`tile`), so a grid of 96 kernels is a single ``go.Heatmap``. Signed
values use a diverging scale centred on zero, non-negative ones a gray or sequential scale.
Every text takes ``lang`` (see :mod:`lenet_viz.i18n`); class names are translated here, so
callers pass the English ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from lenet_viz.activations import Activations, LayerOutput, UnitExplanation
from lenet_viz.i18n import DEFAULT_LANG, t

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


def kind_text(kind: str, lang: str = DEFAULT_LANG) -> str:
    """A layer kind in words (``conv`` → convolution, 卷积); an unknown kind as it is."""
    return t(f"layer_kind.{kind}", lang) if kind in KINDS_NAMED else kind


def layer_title(layer: LayerOutput, lang: str = DEFAULT_LANG) -> str:
    """e.g. ``conv1 (C1) · convolution · 6×28×28``."""
    label = f" ({layer.label})" if layer.label else ""
    return f"<b>{layer.name}</b>{label} · {kind_text(layer.kind, lang)} · {layer.shape_text}"


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
    source = t("nv.input_name", lang) if unit.source == "input" else unit.source  # conv1, pool1: identifiers
    panels = [(t("unit.patch", lang, source=source), unit.patch)]
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


PICK_CELL = 12  # px per unit of a map to click on


def pick_map(values: np.ndarray, title: str, picked: tuple[int, int] | None = None,
             strongest: tuple[int, int] | None = None, lang: str = DEFAULT_LANG) -> go.Figure:
    """A map to click on (a lesson's pick): one grey square marker per unit, a scatter since a click
    selects a marker (a heatmap has nothing to select); the learner's pick circled and, in the reveal,
    the strongest unit crossed."""
    rows, cols = values.shape
    row, col = np.mgrid[:rows, :cols]
    low, high = float(values.min()), float(values.max())
    cell = t("lessons.pick_cell", lang, row="%{y}", col="%{x}")
    units = go.Scatter(x=col.ravel(), y=row.ravel(), mode="markers", hovertemplate=cell + "<extra></extra>",
                       marker=dict(symbol="square", size=PICK_CELL, color=values.ravel(), colorscale=GRAY,
                                   cmin=low, cmax=high if high > low else low + 1, line=dict(width=0)),
                       selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)))
    marks = [go.Scatter(x=[where[1]], y=[where[0]], mode="markers", hoverinfo="skip",
                        marker=dict(symbol=symbol, size=PICK_CELL + 8, color=colour, line=dict(width=3, color=colour)))
             for where, symbol, colour in ((picked, "circle-open", "#e4572e"), (strongest, "x-thin-open", "#1f77b4"))
             if where is not None]
    axis = dict(_AXIS, showticklabels=False)
    layout = dict(title=dict(text=title, x=0, xanchor="left", font=dict(size=13)), showlegend=False,
                  xaxis=dict(axis, range=[-0.5, cols - 0.5]), yaxis=dict(axis, range=[rows - 0.5, -0.5]),
                  width=cols * PICK_CELL + 20, height=rows * PICK_CELL + 50, margin=dict(l=10, r=10, t=40, b=10),
                  dragmode=False)
    return _figure([units, *marks], layout)
