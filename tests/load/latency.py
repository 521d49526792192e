"""Answer times of the load tests: p50 and p95 of every kind of answer, printed with the results.

The tests assert only relative, generous bounds on them (the same answers under load against
before it, a late wave against an early one), so a slow or busy machine cannot make them fail; the
speed targets and their numbers live in ``benchmarks/server_load.py`` and ``benchmarks/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tests.load.stclient import Answer, percentile

SLOWER_AT_MOST = 5
"""How much slower answers may be than the same answers without the load (medians): a stall, not noise."""
TAIL_AT_MOST = 10
"""The same for the 95th percentiles, or for one p95 against its own median: tails are noisier."""
RECORDED: list[Latency] = []
"""Every measurement of this run, in order; ``tests/load/conftest.py`` prints them at the end."""


@dataclass(frozen=True)
class Latency:
    """How long one kind of answer took: ``count`` answers, their median and 95th percentile."""

    what: str
    count: int
    p50: float
    p95: float

    def __str__(self) -> str:
        return f"{self.what}: {self.count} answers, p50 {self.p50 * 1000:.0f} ms, p95 {self.p95 * 1000:.0f} ms"


def record(what: str, answers: Iterable[Answer]) -> Latency:
    """Measure ``answers``, keep the result for the run's summary and print it (shown with ``-s``)."""
    seconds = [a.seconds for a in answers]
    if not seconds:
        raise ValueError(f"{what}: no answers to measure")
    latency = Latency(what, len(seconds), percentile(seconds, 50), percentile(seconds, 95))
    RECORDED.append(latency)
    print(latency)
    return latency
