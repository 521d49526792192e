"""The Training lesson: the answer is the run that really ended with the lowest loss; the runs are
real (tiny synthetic data here), recorded for Compare runs, and a full server refuses them."""

from __future__ import annotations

import pytest
import torch

from lenet_viz import lessons
from lenet_viz.lessons import training
from lenet_viz.run_data import RunData
from lenet_viz.run_slots import RunRefused, RunSlots
from lenet_viz.training import TrainConfig
from tests.datasets import synthetic_digits

TINY = TrainConfig(epochs=1, batch_size=32, report_every_s=0.0, device="cpu")


@pytest.fixture(scope="module")
def tiny_data() -> RunData:
    images, labels = synthetic_digits(128, seed=0)
    test_images, test_labels = synthetic_digits(32, seed=1)
    return RunData("mnist", tuple(str(i) for i in range(10)), (torch.from_numpy(images), torch.from_numpy(labels)),
                   (torch.from_numpy(test_images), torch.from_numpy(test_labels)))


def test_every_comparison_trains_only_what_it_compares():
    for comparison in training.COMPARISONS:
        runs = training.variants(comparison)
        specs = {run.spec for run in runs}
        if comparison == "lr":
            assert len(specs) == 1 and [r.lr for r in runs] == [0.9, 0.1, 0.01]
        else:
            assert len(specs) == len(runs) and len({r.lr for r in runs}) == 1
    question = lessons.generate("training", "faster", 3)
    assert question.answer == {} and question.extras["comparison"] in training.COMPARISONS


@pytest.mark.slow
@pytest.mark.parametrize("comparison", training.COMPARISONS)
def test_the_answer_is_the_run_with_the_lowest_final_loss(comparison, tiny_data):
    question = training.faster_question(5, comparison)
    with pytest.raises(lessons.AnswerError):
        lessons.read_answers(question, {"faster": None})
    answered, records = training.run_variants(question, tiny_data, RunSlots(lambda: 1), TINY)
    assert len(records) == len(question.fields[0].options)
    finals = [record.history[-1].train_loss for record in records]  # the oracle: the runs' own histories
    winner = question.fields[0].options[min(range(len(finals)), key=finals.__getitem__)]
    assert answered.answer == {"faster": winner}
    assert lessons.check(answered, {"faster": winner}).right
    loser = next(o for o in question.fields[0].options if o != winner)
    assert not lessons.check(answered, {"faster": loser}).right
    assert all(record.history[-1].step == 4 for record in records)  # 128 images, batch 32, one epoch
    assert f"{finals[0]:.3f}" in answered.explanation[0]
    chinese = answered.explanation[0].text("zh")
    assert f"：{finals[0]:.3f}" in chinese and "activation" not in chinese and "pooling" not in chinese


def test_a_full_server_refuses_the_runs(tiny_data):
    slots = RunSlots(lambda: 1)
    slots.acquire()
    with pytest.raises(RunRefused):
        training.run_variants(training.faster_question(1, "lr"), tiny_data, slots, TINY)
    assert slots.active == 1
