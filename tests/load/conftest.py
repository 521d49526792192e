"""The load tests' answer times, printed after the results (``tests/load/latency.py``)."""

import pytest

from tests.load.latency import RECORDED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RECORDED:
        terminalreporter.section("load: answer times (p50, p95)")
        for latency in RECORDED:
            terminalreporter.write_line(str(latency))
