"""One app server under a class: memory per session count, pen-lift answer times, open/close waves.

    python benchmarks/server_load.py [--sessions 40] [--think 10] [--seconds 60] [--train]
    python benchmarks/server_load.py --only rates --rates 1 2 3 4
    python benchmarks/server_load.py --sessions 200 --only rss answers [--post-script-gc]

Starts its own server (loopback, a free port) and drives it with the protocol-level client of
``tests/load/stclient.py``: real Streamlit sessions over websockets, the browser's BackMsg/ForwardMsg
protobufs, no browsers (40 Chromium tabs would not fit on 2 cores beside the server). A student's
pen lift sends nothing since the view draws in the browser (issue 21), so the "pen lift" here is the
most a drawing student asks of the server: a click on a unit, which opens the unit inspector for the
drawing (a rerun of the view's fragment carrying the 28×28 input the browser computed; a bundled MNIST
test image stands in for the drawing). On the
older page without that view, a rerun that picks a new sample, the same server work there. Measures:

1. ``rss``: the server's RSS (``/proc/<pid>/status``) with 1, 10 and 40 sessions open on Feature maps;
2. ``answers``: the 40 sessions "drawing": each lifts its pen after a random pause (exponential,
   mean ``--think`` seconds) for ``--seconds``; every answer's time, p50/p95/max (``--train``: one
   more session trains meanwhile, the server capped at one run);
3. ``waves``: 5 waves of 40 sessions opened (one pen lift each) and closed; RSS before, after, and
   after Streamlit drops the disconnected sessions (``server.disconnectedSessionTTL``, set low here);
4. ``rates``: pen lifts per second offered by 40 sessions (Poisson), p95 at each rate: the highest rate
   with p95 under 2 s is what one process sustains.

Writes ``benchmarks/results/server_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lenet_viz.model_store import load_samples  # noqa: E402
from tests.browser.support import free_port, start_server, stop_server  # noqa: E402
from tests.load.stclient import (  # noqa: E402
    has_netview,
    open_feature_maps,
    pen_lift,
    percentile,
    server_rss,
    start_training,
    stop_training,
    training_status,
)

DRAWINGS = load_samples("mnist").images  # stand-ins for what students draw
RESULTS = ROOT / "benchmarks" / "results" / "server_load.json"
TTL_S = 5  # disconnected sessions kept this long here (Streamlit's default is 120 s)
MB = 1e6


def mb(pid: int) -> float:
    return round(server_rss(pid) / MB, 1)


async def settle(pid: int, seconds: float = 3.0) -> float:
    await asyncio.sleep(seconds)
    return mb(pid)


OPEN_ERRORS: list[str] = []  # pages that came with an error instead of the view: reported, left out


async def open_many(base: str, n: int) -> list:
    opened = await asyncio.gather(*(open_feature_maps(base) for _ in range(n)))
    sessions = []
    for session, answer in opened:
        if answer.exceptions or not has_netview(session):
            OPEN_ERRORS.append("; ".join(answer.exceptions) or "no network view on the page")
            await session.close()
        else:
            sessions.append(session)
    await asyncio.gather(*(pen_lift(s, DRAWINGS[i % len(DRAWINGS)], i) for i, s in enumerate(sessions)))
    return sessions


async def drawing(sessions: list, think: float, seconds: float, seed: int = 0) -> tuple[list[float], int]:
    """Each session lifts its pen after exponential pauses of mean ``think`` s, until ``seconds`` pass."""
    rng, times, errors = random.Random(seed), [], 0
    end = time.monotonic() + seconds

    async def student(s, pauses):
        nonlocal errors
        i = 0
        while True:
            await asyncio.sleep(next(pauses))
            if time.monotonic() > end:
                return
            i += 1
            answer = await pen_lift(s, DRAWINGS[i % len(DRAWINGS)], i)
            times.append(answer.seconds)
            errors += bool(answer.exceptions)

    def pauses(r):
        while True:
            yield r.expovariate(1 / think)

    await asyncio.gather(*(student(s, pauses(random.Random(rng.random()))) for s in sessions))
    return times, errors


def summary(times: list[float], errors: int, seconds: float) -> dict:
    return {"answers": len(times), "errors": errors, "per_s": round(len(times) / seconds, 2),
            "p50_s": round(percentile(times, 50), 3), "p95_s": round(percentile(times, 95), 3),
            "max_s": round(max(times), 3)}


async def measure(base: str, pid: int, args) -> dict:
    out: dict = {}
    first, _ = await open_feature_maps(base)
    await pen_lift(first, DRAWINGS[0])
    if "rss" in args.only:
        out["rss_mb"] = {"server started, 1 session": await settle(pid)}
        more = await open_many(base, 9)
        out["rss_mb"]["10 sessions"] = await settle(pid)
        more += await open_many(base, args.sessions - 10)
        out["rss_mb"][f"{args.sessions} sessions"] = await settle(pid)
    else:
        more = await open_many(base, args.sessions - 1)
    sessions = [first, *more]
    if "answers" in args.only:
        trainer = await start_training(base) if args.train else None
        times, errors = await drawing(sessions, args.think, args.seconds)
        out["answers"] = summary(times, errors, args.seconds) | {"think_s": args.think, "training": args.train}
        if trainer:
            out["answers"]["trainer"] = (await training_status(trainer))[-200:]
            await stop_training(trainer)
            await trainer.close()
        out["rss_mb"] = out.get("rss_mb", {}) | {"after drawing": mb(pid)}
    if "rates" in args.only:
        out["rates"] = []
        for rate in args.rates:
            times, errors = await drawing(sessions, len(sessions) / rate, args.rate_seconds, seed=int(rate * 10))
            row = summary(times, errors, args.rate_seconds) | {"offered_per_s": rate}
            out["rates"].append(row)
            print("rate", row, flush=True)
        ok = [r["per_s"] for r in out["rates"] if r["p95_s"] < 2.0]
        out["sustained_per_s"] = max(ok) if ok else 0.0
    await asyncio.gather(*(s.close() for s in sessions))
    out["open_errors"] = OPEN_ERRORS
    if "waves" in args.only:
        start = await settle(pid, TTL_S + 5)
        waves = []
        for _ in range(5):
            wave = await open_many(base, args.sessions)
            await asyncio.gather(*(s.close() for s in wave))
            waves.append(mb(pid))
        out["waves_mb"] = {"start (all closed)": start, "after each wave": waves,
                           f"{TTL_S + 10} s after the last": await settle(pid, TTL_S + 10)}
        poke, _ = await open_feature_maps(base)  # Streamlit drops expired sessions when another one comes or goes
        await poke.close()
        out["waves_mb"]["after one more session came and went"] = await settle(pid, 3)
        out["waves_mb"]["change_pct"] = round(100 * (out["waves_mb"]["after one more session came and went"]
                                                     / start - 1), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between one student's pen lifts")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--train", action="store_true", help="one more session trains meanwhile")
    parser.add_argument("--rates", type=float, nargs="*", default=[1, 2, 3, 4])
    parser.add_argument("--rate-seconds", type=float, default=30.0)
    parser.add_argument("--only", nargs="*", default=["rss", "answers", "waves", "rates"],
                        choices=["rss", "answers", "waves", "rates"])
    parser.add_argument("--post-script-gc", action="store_true",
                        help="Streamlit's default, off in .streamlit/config.toml: a full collection after every run")
    args = parser.parse_args()
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL_S), "LENET_VIZ_MAX_RUNS": "1"}
    if args.post_script_gc:
        env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "true"
    proc = start_server(free_port(), env=env)
    port = proc.args[proc.args.index("--server.port") + 1]
    try:
        result = asyncio.run(measure(f"http://127.0.0.1:{port}", proc.pid, args))
    finally:
        stop_server(proc)
    result["post_script_gc"] = args.post_script_gc
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "load_1min_at_end": os.getloadavg()[0]}
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
