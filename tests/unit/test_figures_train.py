"""Figures of the training page."""

import math

import numpy as np
import torch

from lenet_viz.figures.train import confusion_figure, confusion_matrix, live_curves, misclassified_figure
from lenet_viz.history import Progress


def progress(epoch: float, loss: float, acc: float, test: float | None = None) -> Progress:
    return Progress(epoch=epoch, step=0, total_steps=1, train_loss=loss, train_acc=acc, test_acc=test,
                    examples_per_sec=1.0, elapsed_s=1.0)


def test_live_curves_has_the_animators_three_curves():
    history = [progress(0.5, 2.0, 0.3), progress(1.0, 1.5, 0.5), progress(1.0, 1.5, 0.5, test=0.55),
               progress(1.5, 1.0, 0.7), progress(1.7, math.nan, 0.1)]
    fig = live_curves(history, epochs=3)
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["train loss", "train acc", "test acc"]
    assert list(traces["train loss"].x) == [0.5, 1.0, 1.5]  # test reports and NaN losses left out
    assert list(traces["train loss"].y) == [2.0, 1.5, 1.0]
    assert list(traces["train acc"].y) == [0.3, 0.5, 0.7]
    assert list(traces["test acc"].x) == [1.0] and list(traces["test acc"].y) == [0.55]
    assert list(fig.layout.xaxis.range) == [0, 3]
    assert fig.layout.yaxis.range[1] >= 2.0
    assert "%{y:.4f}" in traces["train loss"].hovertemplate


def test_live_curves_of_no_history_is_an_empty_frame():
    fig = live_curves([], epochs=10)
    assert all(len(t.x) == 0 for t in fig.data) and list(fig.layout.xaxis.range) == [0, 10]


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    preds = torch.tensor([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert np.array_equal(confusion_matrix(labels, preds, 3), expected)
    fig = confusion_figure(labels, preds, ["a", "b", "c"])
    assert np.array_equal(np.asarray(fig.data[0].z), expected)
    assert list(fig.data[0].x) == ["a", "b", "c"] and list(fig.data[0].y) == ["a", "b", "c"]
    assert fig.layout.yaxis.autorange == "reversed"  # first class on top, as a table


def test_misclassified_gallery_is_one_figure_titled_true_to_predicted():
    images = torch.arange(6).reshape(6, 1, 1).expand(6, 28, 28).to(torch.uint8)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    preds = torch.tensor([0, 2, 2, 1, 1, 0])
    fig = misclassified_figure(images, labels, preds, ["cat", "dog", "owl"], limit=16, columns=2)
    titles = [a.text.replace("<br>", " ") for a in fig.layout.annotations]
    assert titles == ["dog → owl", "cat → dog", "owl → cat"]
    assert len(fig.data) == 3
    assert [int(np.asarray(t.z)[0, 0]) for t in fig.data] == [1, 3, 5]  # the wrong images, in order
    limited = misclassified_figure(images, labels, preds, ["cat", "dog", "owl"], limit=2)
    assert len(limited.data) == 2


def test_no_gallery_when_everything_is_right():
    labels = torch.tensor([0, 1])
    assert misclassified_figure(torch.zeros(2, 28, 28, dtype=torch.uint8), labels, labels, ["a", "b"]) is None


def test_a_blown_up_loss_leaves_the_frame_instead_of_flattening_the_curves():
    history = [progress(0.2, 2.4, 0.1), progress(0.4, 1.9, 0.3), progress(0.6, 7.8e10, 0.1)]
    fig = live_curves(history, epochs=1)
    assert fig.layout.yaxis.range[1] < 10  # the real curves stay readable
    assert list(fig.data[0].y)[-1] == 7.8e10  # the point is kept: hovering shows it
    assert "up to 7.8e+10" in fig.layout.annotations[0].text


def test_a_single_report_is_drawn_as_a_point():
    fig = live_curves([progress(0.25, 1.2e11, 0.1)], epochs=2)
    assert "markers" in fig.data[0].mode and "markers" in fig.data[1].mode
    assert "up to 1.2e+11" in fig.layout.annotations[0].text
    assert live_curves([progress(0.1, 2.0, 0.1)] * 5, epochs=2).data[0].mode == "lines"
