"""A class on one server: 40 sessions on Feature maps while one trains, then 200 sessions in waves.

Protocol-level, not browsers: each session is a websocket speaking Streamlit's BackMsg/ForwardMsg
protobufs from the installed streamlit package (``tests/load/stclient.py``), as 40 Chromium tabs do
not fit on 2 cores. Loopback only, a private server, bounded (asyncio timeouts). Every answer's time is recorded and
printed (p50, p95: ``tests/load/latency.py``); the only bounds on them are relative and generous
(answers while a run trains against the same answers after it, the last wave against the first), so
a busy machine cannot fail them: speed targets are in ``benchmarks/server_load.py``. A
"pen lift" is the most the in-browser view asks of the server about a drawing (a pen lift itself
sends nothing): a click on a unit with the drawing's 28×28 input, which opens the unit inspector;
on the older page without that view, a rerun that picks a new sample.
"""

import asyncio

import pytest

from lenet_viz.data import DATA_ENV
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.settings import MAX_RUNS_ENV
from tests.browser.support import free_port, start_server, stop_server
from tests.datasets import synthetic_digits, write_idx
from tests.load.latency import SLOWER_AT_MOST, TAIL_AT_MOST, record
from tests.load.stclient import (
    open_feature_maps,
    pen_lift,
    server_rss,
    start_training,
    stop_training,
    training_status,
)

pytestmark = pytest.mark.slow
STUDENTS, LIFTS, WAVES = 40, 3, 5
TTL_S = 3  # Streamlit keeps a closed tab's session this long for a reconnect (default 120 s)
BOUND_S = 420  # the whole scenario is cancelled after this: the test stops by itself


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A private server, capped at one training run, its data 6,000 synthetic images."""
    if not bundled_models() or load_samples("mnist") is None:
        pytest.skip("no bundled model or samples: Feature maps has nothing to show")
    folder = tmp_path_factory.mktemp("load-data")
    for split, n, seed in (("train", 6000, 0), ("t10k", 200, 1)):
        images, labels = synthetic_digits(n, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    env = {MAX_RUNS_ENV: "1", DATA_ENV: str(folder), "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache")),
           "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S)}
    proc = start_server(free_port(), env=env)
    try:
        yield f"http://127.0.0.1:{proc.args[proc.args.index('--server.port') + 1]}", proc.pid
    finally:
        stop_server(proc)


def bounded(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND_S))


@pytest.mark.timeout(BOUND_S + 120)
def test_forty_students_draw_while_one_trains(server):
    base, _ = server

    async def scenario():
        trainer = await start_training(base, epochs=50)
        opened = await asyncio.gather(*(open_feature_maps(base) for _ in range(STUDENTS)))
        sessions = [s for s, _ in opened]

        drawings = load_samples("mnist").images  # stand-ins for what the students draw

        async def lifts(first: int, rounds: int):
            async def student(i, s):
                return [await pen_lift(s, drawings[(i + lift) % len(drawings)], i + lift)
                        for lift in range(first, first + rounds)]
            return await asyncio.gather(*(student(i, s) for i, s in enumerate(sessions)))

        answers = await lifts(0, LIFTS)
        during = await training_status(trainer)
        stopped = await stop_training(trainer)
        after = await lifts(LIFTS, 1)  # the same class, nobody training: the baseline
        await asyncio.gather(*(s.close() for s in [trainer, *sessions]))
        return opened, answers, during, stopped, after

    opened, answers, during, stopped, after = bounded(scenario())
    first_errors = [e for _, a in opened for e in a.exceptions]
    opening = record(f"open Feature maps, {STUDENTS} at once while one trains", [a for _, a in opened])
    lifting = record(f"pen lift, {STUDENTS} students while one trains", [a for per in answers for a in per])
    idle = record(f"pen lift, {STUDENTS} students, nobody training", [a for per in after for a in per])
    assert first_errors == []
    assert (opening.count, lifting.count, idle.count) == (STUDENTS, STUDENTS * LIFTS, STUDENTS)
    assert lifting.p50 <= SLOWER_AT_MOST * idle.p50, f"training made pen lifts {lifting.p50 / idle.p50:.1f}× slower"
    assert lifting.p95 <= TAIL_AT_MOST * idle.p95, f"training made slow pen lifts {lifting.p95 / idle.p95:.1f}× slower"
    assert len(answers) == STUDENTS and all(len(a) == LIFTS for a in answers)  # every answer arrived
    assert [e for per in (*answers, *after) for a in per for e in a.exceptions] == []  # and none is an error
    # every answer drew the page anew: the prediction and all layers came back
    assert min(a.messages for per in answers for a in per) > 20
    assert "epoch" in during or "starting" in during, during  # the run went on meanwhile
    assert "Training runs on the server: 1 going on, at most 1" in during  # train.device_note: this run counted


@pytest.mark.timeout(BOUND_S + 120)
def test_two_hundred_sessions_in_waves_give_their_memory_back(server):
    base, pid = server

    async def wave(n):  # opening Feature maps runs it on its example input: every layer's figures
        opened = await asyncio.gather(*(open_feature_maps(base) for _ in range(n)))
        await asyncio.gather(*(s.close() for s, _ in opened))
        return [a for _, a in opened]

    async def scenario():
        warm = await wave(10)  # warm: the page, the models and the caches loaded once
        await asyncio.sleep(TTL_S + 2)
        start = server_rss(pid)
        waves = [await wave(200 // WAVES) for _ in range(WAVES)]
        await asyncio.sleep(TTL_S + 2)
        poke, _ = await open_feature_maps(base)  # Streamlit drops expired sessions when another one leaves
        await poke.close()
        await asyncio.sleep(2)
        return warm, waves, start, server_rss(pid)

    warm, waves, start, end = bounded(scenario())
    assert [e for answers in (warm, *waves) for a in answers for e in a.exceptions] == []
    times = [record(f"open Feature maps, wave {i + 1} of {WAVES} ({len(w)} at once)", w) for i, w in enumerate(waves)]
    assert max(t.p50 for t in times) <= SLOWER_AT_MOST * times[0].p50, "later waves answer far slower: sessions pile up"
    assert end <= start * 1.10, f"RSS {start / 1e6:.0f} MB before the waves, {end / 1e6:.0f} MB after"
