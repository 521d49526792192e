"""Plotly figures of the training page: live curves, compared runs, confusion matrix, misclassified images.

Every text takes ``lang`` (see :mod:`lenet_viz.i18n`); class names are translated here, so callers
pass the dataset's English names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lenet_viz.i18n import DEFAULT_LANG, class_names, t
from lenet_viz.run_compare import RunRecord, legend_names
from lenet_viz.training import Progress, loss_text

LOSS_AXIS_MAX = 6.0  # the y axis stops here: a blown-up loss leaves the frame instead of flattening the rest
CURVE_COLORS = {"train loss": "#1f77b4", "train acc": "#ff7f0e", "test acc": "#2ca02c"}


def live_curves(history: Sequence[Progress], epochs: float, lang: str = DEFAULT_LANG) -> go.Figure:
    """d2l's Animator: train loss, train accuracy and test accuracy against fractional epoch.

    The x axis spans the whole run (``epochs``) so the curves grow into a fixed frame; non-finite
    losses (a diverging run) are left out, and losses above :data:`LOSS_AXIS_MAX` leave the frame.
    """
    train_points = [p for p in history if p.test_acc is None and math.isfinite(p.train_loss)]
    test_points = [p for p in history if p.test_acc is not None]
    fig = go.Figure()
    epoch = t("curve.epoch", lang)
    for curve, points, values, mode in (
        ("train loss", train_points, [p.train_loss for p in train_points], "lines"),
        ("train acc", train_points, [p.train_acc for p in train_points], "lines"),
        ("test acc", test_points, [p.test_acc for p in test_points], "lines+markers"),
    ):
        if len(points) < 3:  # one or two reports: a line alone would not show
            mode = "lines+markers"
        name = t(f"curve.{curve.replace(' ', '_')}", lang)
        fig.add_trace(go.Scatter(
            x=[p.epoch for p in points], y=values, name=name, mode=mode, marker={"size": 9}, cliponaxis=False,
            line={"color": CURVE_COLORS[curve], "dash": "dash" if curve == "train acc" else "solid"},
            hovertemplate=f"{name} %{{y:.4f}}<br>{epoch} %{{x:.2f}}<extra></extra>",
        ))
    highest = max([1.0] + [p.train_loss for p in train_points])
    top = min(highest, LOSS_AXIS_MAX)
    if highest > LOSS_AXIS_MAX:  # say how far off the frame the loss went
        fig.add_annotation(x=0.99, y=0.98, xref="paper", yref="paper", xanchor="right", showarrow=False,
                           text=t("curve.loss_off_frame", lang, loss=loss_text(highest)),
                           font={"color": CURVE_COLORS["train loss"]})
    fig.update_layout(
        xaxis={"title": epoch, "range": [0, max(epochs, 1e-9)]},
        yaxis={"range": [0, top * 1.05]},
        # the legend under the axis: above it, Plotly's toolbar (always shown on a touch screen) covered it
        legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=380,
        uirevision="live",
    )
    return fig


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    index = labels.long() * num_classes + predictions.long()
    counts = torch.bincount(index, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).numpy()


def confusion_figure(labels: torch.Tensor, predictions: torch.Tensor, classes: Sequence[str],
                     lang: str = DEFAULT_LANG) -> go.Figure:
    """A heatmap of the confusion matrix with class names and counts in the cells."""
    counts = confusion_matrix(labels, predictions, len(classes))
    names = class_names(list(classes), lang)
    fig = go.Figure(go.Heatmap(
        z=counts, x=names, y=names, colorscale="Blues", texttemplate="%{z}", showscale=False,
        hovertemplate=t("confusion.hover", lang) + "<extra></extra>",
    ))
    fig.update_layout(
        xaxis={"title": t("confusion.predicted", lang), "side": "bottom", "type": "category"},
        yaxis={"title": t("confusion.true", lang), "autorange": "reversed", "type": "category"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},  # a band for the toolbar, not over the first row
        height=460,
    )
    return fig


def misclassified(labels: torch.Tensor, predictions: torch.Tensor, limit: int) -> list[int]:
    """Indices of the first ``limit`` wrongly classified examples."""
    return torch.nonzero(labels != predictions).flatten()[:limit].tolist()


def misclassified_figure(images: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor,
                         classes: Sequence[str], limit: int = 18, columns: int = 6,
                         lang: str = DEFAULT_LANG) -> go.Figure | None:
    """One figure of small test images the network got wrong, titled 'true → predicted'
    (on two lines, so that long class names fit). None when every image is right.
    """
    wrong = misclassified(labels, predictions, limit)
    if not wrong:
        return None
    rows = math.ceil(len(wrong) / columns)
    names = class_names(list(classes), lang)
    titles = [f"{names[int(labels[i])]} →<br>{names[int(predictions[i])]}" for i in wrong]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.25 / rows)
    for k, i in enumerate(wrong):
        fig.add_trace(go.Heatmap(z=images[i].numpy(), colorscale="gray", zmin=0, zmax=255, showscale=False,
                                 hovertemplate=t("misclassified.hover", lang) + "<extra></extra>"),
                      row=k // columns + 1, col=k % columns + 1)
        fig.update_yaxes(scaleanchor=f"x{k + 1 if k else ''}", row=k // columns + 1, col=k % columns + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    fig.update_annotations(font_size=11)
    fig.update_layout(height=160 * rows + 20, margin={"l": 0, "r": 0, "t": 40, "b": 0})
    return fig


COMPARE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def compare_curves(records: Sequence[RunRecord], lang: str = DEFAULT_LANG) -> go.Figure:
    """Compare runs: each run's training loss (left) and training accuracy (right) against epoch,
    overlaid, one colour per run, named in the legend by what differs between the runs
    (:func:`lenet_viz.run_compare.legend_names`). Losses above :data:`LOSS_AXIS_MAX` leave the frame."""
    titles = (t("lesson.compare.loss", lang), t("lesson.compare.accuracy", lang))
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    epoch = t("curve.epoch", lang)
    for index, (record, name) in enumerate(zip(records, legend_names(records, lang), strict=True)):
        points = [p for p in record.history if p.test_acc is None and math.isfinite(p.train_loss)]
        colour = COMPARE_COLORS[index % len(COMPARE_COLORS)]
        for col, values in ((1, [p.train_loss for p in points]), (2, [p.train_acc for p in points])):
            fig.add_trace(go.Scatter(x=[p.epoch for p in points], y=values, name=name, legendgroup=name,
                                     showlegend=col == 1, mode="lines" if len(points) > 2 else "lines+markers",
                                     line={"color": colour},
                                     hovertemplate=f"{name}<br>%{{y:.4f}} · {epoch} %{{x:.2f}}<extra></extra>"),
                          row=1, col=col)
    highest = max([1.0] + [p.train_loss for r in records for p in r.history if math.isfinite(p.train_loss)])
    fig.update_yaxes(range=[0, min(highest, LOSS_AXIS_MAX) * 1.05], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title=epoch)
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},  # a band above the
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, height=410)  # titles for the toolbar
    return fig
