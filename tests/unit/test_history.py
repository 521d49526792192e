"""The typed training history: the snapshot schedule and bounds, the continue offset, the parser."""

import pytest
import torch

from lenet_viz.history import (
    MAX_SNAPSHOTS,
    SNAPSHOT_BUDGET_BYTES,
    HistoryError,
    Offset,
    Progress,
    bounded_snapshots,
    history_dicts,
    offset_after,
    parse_history,
    snapshot_steps,
    take_snapshot,
    thin,
)
from lenet_viz.models import PRESETS, build_model


@pytest.mark.parametrize(("total", "count"), [(2350, 24), (235, 24), (100, 5), (30, 24), (24, 24), (1, 2), (2, 3)])
def test_the_schedule_is_dense_early_with_the_first_and_last_step(total, count):
    steps = snapshot_steps(total, count)
    assert steps[0] == 0 and steps[-1] == total
    assert len(steps) == min(count, total + 1) and steps == sorted(set(steps))
    gaps = [b - a for a, b in zip(steps, steps[1:])]
    assert gaps == sorted(gaps)  # never denser later than earlier


def test_the_default_schedule_of_a_classic_epoch_is_log_spaced():
    steps = snapshot_steps(235, 24)  # one epoch of 60,000 images in batches of 256
    assert steps[:6] == [0, 1, 2, 3, 4, 5] and steps[-1] == 235
    assert sum(s <= 235 // 10 for s in steps) > len(steps) // 2  # over half in the first tenth of the run


def test_no_snapshots_one_or_a_run_without_steps():
    assert snapshot_steps(100, 0) == [] and snapshot_steps(100, 1) == [100] and snapshot_steps(0, 24) == [0]


def test_the_count_is_bounded_by_the_cap_and_the_byte_budget():
    lenet = sum(p.numel() for p in build_model(PRESETS["modern"]).parameters())
    assert bounded_snapshots(24, lenet) == 24 and bounded_snapshots(500, lenet) == min(MAX_SNAPSHOTS, 33)
    assert 24 * 2 * lenet < SNAPSHOT_BUDGET_BYTES  # the default fits
    assert bounded_snapshots(24, 6_000_000) == 0  # not even the first and last of a huge network fit
    assert bounded_snapshots(0, lenet) == 0


def test_thinning_keeps_the_first_and_last():
    model = build_model(PRESETS["classic"])
    many = [take_snapshot(model, step, 0.0, None, None, None) for step in range(30)]
    kept = thin(many, 10)
    assert len(kept) == 10 and kept[0].step == 0 and kept[-1].step == 29
    assert thin(many[:5], 10) == many[:5]


def test_a_continued_run_counts_on_from_the_last_event():
    earlier = [Progress(1.0, 20, 20, 0.5, 0.8, 0.7, 100.0, 3.0)]
    offset = offset_after(earlier)
    assert offset == Offset(1.0, 20, 3.0) and offset_after([]) == Offset()
    shifted = offset.shift(Progress(0.5, 10, 20, 0.4, 0.9, None, 100.0, 1.0))
    assert (shifted.epoch, shifted.step, shifted.total_steps, shifted.elapsed_s) == (1.5, 30, 40, 4.0)
    snap = offset.shift_snapshot(take_snapshot(build_model(PRESETS["classic"]), 5, 0.25, 1.0, 0.5, None))
    assert (snap.step, snap.epoch) == (25, 1.25)


def test_history_round_trips_and_bad_entries_are_named():
    events = (Progress(1.0, 4, 8, float("inf"), 0.8, None, 100.0, 2.0), Progress(2.0, 8, 8, 0.5, 0.9, 0.7, 1.0, 4.0))
    assert parse_history(history_dicts(events)) == events  # a diverged run's infinite loss is kept
    good = history_dicts(events)[1]
    for bad, said in (({**good, "epoch": None}, "epoch is None"), ({**good, "train_acc": "high"}, "not a number"),
                      ({**good, "test_acc": True}, "not a number"), ({**good, "elapsed_s": float("nan")}, "finite"),
                      ({k: v for k, v in good.items() if k != "step"}, "lacks step")):
        with pytest.raises(HistoryError, match=said):
            parse_history([good, bad])
    with pytest.raises(HistoryError, match="not a list"):
        parse_history("history")


def test_snapshots_are_float16_copies_on_the_cpu():
    model = build_model(PRESETS["modern"])
    snap = take_snapshot(model, 3, 0.1, 2.0, 0.3, None)
    with torch.no_grad():
        model.fc3.bias.add_(1.0)  # training goes on: the snapshot keeps what it saw
    assert snap.state_dict["fc3.bias"].dtype == torch.float16
    assert not torch.allclose(snap.state_dict["fc3.bias"].float(), model.fc3.bias)
