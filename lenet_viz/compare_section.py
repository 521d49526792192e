"""Compare runs, the Streamlit side: this browser session's finished runs, and the section that
overlays their curves (:func:`lenet_viz.figures.train.compare_curves`). The Train page records its
runs here; the Training lesson adds the runs it makes.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from lenet_viz.figures.train import compare_curves
from lenet_viz.run_compare import RunRecord, add_record, describe_run
from lenet_viz.training_session import SessionView, TrainingSession
from lenet_viz.ui import lang, tr

RUNS = "compared_runs"  # this session's RunRecords, oldest first
RECORDED = "compared_recorded"  # ids of the Train page's runs already recorded


def records() -> list[RunRecord]:
    """This session's runs to compare."""
    return st.session_state.setdefault(RUNS, [])


def add_runs(new: Iterable[RunRecord]) -> None:
    """Add runs (the oldest beyond :data:`lenet_viz.run_compare.MAX_RECORDS` leave)."""
    kept = records()
    for record in new:
        kept = add_record(kept, record)
    st.session_state[RUNS] = kept


def _record_train_run(run: TrainingSession | None, view: SessionView | None) -> None:
    """Keep a Train page run once it has ended (by its session object and run number)."""
    if run is None or view is None or view.busy or view.status in ("idle", "running") or not view.history:
        return
    run_id = f"{id(run)}:{view.run}"
    done = st.session_state.setdefault(RECORDED, set())
    if run_id in done or run.config is None:
        return
    done.add(run_id)
    add_runs([RunRecord(describe_run(run.spec, run.config, run.data.dataset, len(run.data.train[0])),
                        tuple(view.history))])


def compare_runs(run: TrainingSession | None, view: SessionView | None) -> None:
    """The Train page's "Compare runs" section: record the run that just ended, then overlay them all."""
    _record_train_run(run, view)
    kept = records()
    if not kept:
        return
    st.subheader(tr("lesson.compare.heading"))
    st.caption(tr("lesson.compare.intro", count=len(kept)))
    st.plotly_chart(compare_curves(kept, lang()), width="stretch", key="compare_runs_chart")
    if len(kept) == 1:
        st.info(tr("lesson.compare.one"), icon=":material/compare_arrows:")
    if st.button(tr("lesson.compare.clear"), icon=":material/delete_sweep:", key="compare_runs_clear"):
        st.session_state[RUNS] = []
        st.rerun()
