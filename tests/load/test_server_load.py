"""A class on one server: 40 sessions on Feature maps while one trains, then 200 sessions in waves.

Protocol-level, not browsers: each session is a websocket speaking Streamlit's BackMsg/ForwardMsg
protobufs from the installed streamlit package (``tests/load/stclient.py``), as 40 Chromium tabs do
not fit on 2 cores. Loopback only, a private server, bounded (asyncio timeouts), no timed
assertions: speed is in ``benchmarks/server_load.py``. A
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


def test_forty_students_draw_while_one_trains(server):
    base, _ = server

    async def scenario():
        trainer = await start_training(base, epochs=50)
        opened = await asyncio.gather(*(open_feature_maps(base) for _ in range(STUDENTS)))
        sessions = [s for s, _ in opened]
        first_errors = [e for _, a in opened for e in a.exceptions]

        drawings = load_samples("mnist").images  # stand-ins for what the students draw

        async def student(i, s):
            return [await pen_lift(s, drawings[(i + lift) % len(drawings)], i + lift) for lift in range(LIFTS)]

        answers = await asyncio.gather(*(student(i, s) for i, s in enumerate(sessions)))
        during = await training_status(trainer)
        stopped = await stop_training(trainer)
        await asyncio.gather(*(s.close() for s in [trainer, *sessions]))
        return first_errors, answers, during, stopped

    first_errors, answers, during, stopped = bounded(scenario())
    assert first_errors == []
    assert len(answers) == STUDENTS and all(len(a) == LIFTS for a in answers)  # every answer arrived
    assert [e for per in answers for a in per for e in a.exceptions] == []  # and none is an error
    # every answer drew the page anew: the prediction and all layers came back
    assert min(a.messages for per in answers for a in per) > 20
    assert "epoch" in during or "starting" in during, during  # the run went on meanwhile
    assert "1 of 1 training run" in during


def test_two_hundred_sessions_in_waves_give_their_memory_back(server):
    base, pid = server

    async def wave(n):  # opening Feature maps runs it on its example input: every layer's figures
        opened = await asyncio.gather(*(open_feature_maps(base) for _ in range(n)))
        await asyncio.gather(*(s.close() for s, _ in opened))
        return [e for _, a in opened for e in a.exceptions]

    async def scenario():
        assert await wave(10) == []  # warm: the page, the models and the caches loaded once
        await asyncio.sleep(TTL_S + 2)
        start = server_rss(pid)
        errors = []
        for _ in range(WAVES):
            errors += await wave(200 // WAVES)
        await asyncio.sleep(TTL_S + 2)
        poke, _ = await open_feature_maps(base)  # Streamlit drops expired sessions when another one leaves
        await poke.close()
        await asyncio.sleep(2)
        return start, server_rss(pid), errors

    start, end, errors = bounded(scenario())
    assert errors == []
    assert end <= start * 1.10, f"RSS {start / 1e6:.0f} MB before the waves, {end / 1e6:.0f} MB after"
