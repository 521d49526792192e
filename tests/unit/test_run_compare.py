"""Compare runs: the legend names what differs, and the figure overlays every run's loss and accuracy."""

from __future__ import annotations

import json

from lenet_viz.figures.train import compare_curves
from lenet_viz.history import Progress
from lenet_viz.models import PRESETS
from lenet_viz.run_compare import MAX_RECORDS, RunRecord, add_record, describe_run, legend_names
from lenet_viz.training import TrainConfig


def record(spec="classic", lr=0.9, losses=(2.3, 1.0, 0.5)) -> RunRecord:
    history = tuple(Progress(epoch=(i + 1) / len(losses), step=i + 1, total_steps=len(losses), train_loss=loss,
                             train_acc=1 - loss / 3, test_acc=None, examples_per_sec=1.0, elapsed_s=1.0)
                    for i, loss in enumerate(losses))
    return RunRecord(describe_run(PRESETS[spec], TrainConfig(lr=lr), "mnist", 1000), history)


def test_the_legend_names_only_what_differs():
    assert legend_names([record(lr=0.9), record(lr=0.1)]) == ["lr=0.9", "lr=0.1"]
    assert legend_names([record("classic", 0.1), record("modern", 0.1)]) == [
        "activation=sigmoid, pool=avg", "activation=relu, pool=max"]
    assert legend_names([record(), record()]) == ["#1", "#2"]
    assert legend_names([record(lr=0.9), record(lr=0.1), record(lr=0.1)]) == ["lr=0.9", "#2 lr=0.1", "#3 lr=0.1"]
    chinese = legend_names([record("classic", 0.9), record("modern", 0.1)], "zh")
    assert chinese[1] == "激活函数=relu、池化=max、学习率=0.1"


def test_the_comparison_keeps_the_newest_runs():
    runs = []
    for i in range(MAX_RECORDS + 2):
        runs = add_record(runs, record(lr=i))
    assert len(runs) == MAX_RECORDS and runs[-1].settings_dict["lr"] == str(MAX_RECORDS + 1)


def test_the_figure_overlays_loss_and_accuracy_of_each_run_in_both_languages():
    runs = [record(lr=0.9, losses=(2.3, float("nan"), 9.0)), record(lr=0.1)]
    figure = compare_curves(runs, "en")
    names = [trace.name for trace in figure.data]
    assert names == ["lr=0.9", "lr=0.9", "lr=0.1", "lr=0.1"]
    assert [trace.showlegend for trace in figure.data] == [True, False, True, False]
    assert list(figure.data[2].y) == [2.3, 1.0, 0.5]
    assert len(figure.data[0].x) == 2  # the non-finite loss is left out
    assert figure.layout.yaxis.range[1] <= 6.0 * 1.05  # a blown-up loss leaves the frame
    text = json.dumps(compare_curves(runs, "zh").to_plotly_json(), ensure_ascii=False)
    assert "训练损失" in text and "训练准确率" in text
