"""The test suite's own rules, which every new test inherits: a clean environment whatever the
shell holds, a language for every browser page, Debian's Chromium or a skip, markers that exist."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import support
from tests.environment import TEST_SETTINGS, clean_environment, process_environment

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
HOSTILE = {"LENET_VIZ_MAX_RUNS": "0", "LENET_VIZ_SESSION_MODELS": "1", "LENET_VIZ_SESSION_MB": "0",
           "LENET_VIZ_TRAIN_THREADS": "abc", "LENET_VIZ_DATA": "/nonexistent", "STREAMLIT_SERVER_PORT": "1",
           "LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8", "LANGUAGE": "zh_CN",
           "XDG_CACHE_HOME": "/proc/version/cache", "HOME": "/nonexistent", "PATH": "/usr/bin"}


def foreign(env) -> list[str]:
    """The app's, Streamlit's and the locale's settings in ``env`` (the tests' own are fine)."""
    return sorted(name for name in env if name.startswith(("LENET_VIZ_", "STREAMLIT_", "LC_"))
                  and name not in TEST_SETTINGS and env[name] != "C.UTF-8")


def test_the_session_runs_in_a_clean_environment_with_a_writable_cache():
    """Set before any module or server: run the suite from a hostile shell to see this fail without it."""
    assert foreign(os.environ) == []
    assert (os.environ["LANG"], os.environ["LC_ALL"], os.environ.get("LANGUAGE")) == ("C.UTF-8", "C.UTF-8", None)
    cache = Path(os.environ["XDG_CACHE_HOME"])
    assert cache.is_dir() and os.access(cache, os.W_OK) and cache.parent == Path(os.environ["HOME"])
    assert cache.parent.name.startswith("lenet-viz-tests-home-")  # private to the session, not ~/.cache


def test_a_hostile_shell_is_cleaned_and_the_tests_own_settings_kept(tmp_path):
    env = clean_environment({**HOSTILE, "LENET_VIZ_SHOTS": "/tmp/shots"}, tmp_path)
    assert foreign(env) == [] and "LANGUAGE" not in env
    assert (env["HOME"], env["XDG_CACHE_HOME"]) == (str(tmp_path), str(tmp_path / ".cache"))
    assert (env["LANG"], env["LC_ALL"], env["LENET_VIZ_SHOTS"], env["PATH"]) == ("C.UTF-8", "C.UTF-8", "/tmp/shots",
                                                                                 "/usr/bin")


def test_a_server_gets_only_the_settings_its_test_names(monkeypatch):
    monkeypatch.setenv("LENET_VIZ_MAX_RUNS", "0")  # a test that set one on the process for itself
    env = process_environment({"LENET_VIZ_MAX_RUNS": "2"})
    assert env["LENET_VIZ_MAX_RUNS"] == "2" and foreign(process_environment()) == []
    assert process_environment()["XDG_CACHE_HOME"] == os.environ["XDG_CACHE_HOME"]


def _browser_calls_without_a_language(path: Path) -> list[str]:
    """``browser.new_page(…)`` and ``….new_context(…)`` calls that pass no ``locale=``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value  # browser.new_page(): a context of its own; a_context.new_page(): in that one's
        on_a_browser = isinstance(receiver, (ast.Name, ast.Attribute)) and "browser" in ast.unparse(receiver)
        makes_a_context = node.func.attr == "new_context" or (node.func.attr == "new_page" and on_a_browser)
        if makes_a_context and not any(k.arg == "locale" for k in node.keywords):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_every_browser_page_says_its_language():
    """The app answers in the browser's language: a page made without one reads Chinese on a Chinese
    desktop. Use ``tests.browser.support.new_context(browser, locale=…)``."""
    sources = sorted(TESTS.rglob("*.py"))
    assert TESTS / "browser" / "support.py" in sources and len(sources) > 30
    assert [call for path in sources for call in _browser_calls_without_a_language(path)] == []


def test_a_context_without_a_known_language_is_refused():
    with pytest.raises(ValueError, match="en-US"):
        support.new_context(object(), locale="fr-FR")


def test_the_browser_check_looks_at_the_chromium_every_launch_uses(tmp_path, monkeypatch):
    """Another Chromium on PATH is not the one launched: the tests skip, they do not fail at launch."""
    other = tmp_path / "chromium"
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(support, "CHROMIUM", str(tmp_path / "not-here" / "chromium"))
    with pytest.raises(pytest.skip.Exception, match="not-here/chromium is not installed"):
        support.skip_without_browser()


def _registered_markers() -> list[str]:
    import tomllib

    lines = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    return [line.split(":")[0].strip() for line in lines]


def test_each_marker_is_registered_once_and_every_folder_has_one():
    from tests.conftest import TIERS

    markers = _registered_markers()
    assert sorted(markers) == sorted(set(markers))
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and any(p.glob("test_*.py"))}
    assert folders <= set(TIERS) <= set(markers), (folders, TIERS, markers)
    assert {"slow", "load"} <= set(markers)


def test_slow_means_one_thing_wherever_it_is_explained():
    """The marker's help, the conftest and the README give the same threshold."""
    help_text = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if '"slow:' in line)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    conftest = (TESTS / "conftest.py").read_text(encoding="utf-8")
    for text in (help_text, readme, conftest):
        assert "over about a second" in text, text[:200]


@pytest.mark.slow
def test_the_load_marker_selects_the_load_tests():
    """``pytest -m load`` runs (``--strict-markers`` refuses an unknown marker) and picks tests/load only."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-m", "load",
                           "tests/load", "tests/unit/test_settings.py"],
                          cwd=ROOT, capture_output=True, text=True, env=process_environment(), timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    selected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert selected and all(line.startswith("tests/load/") for line in selected), selected


def test_hangs_are_cut_and_the_slowest_tests_listed(request):
    assert request.config.pluginmanager.hasplugin("timeout")
    assert float(request.config.getini("timeout")) >= 120  # room for a browser test on a loaded machine
    assert "--durations=15" in request.config.getini("addopts")


@pytest.mark.slow
def test_a_wedged_test_fails_with_a_message_instead_of_hanging(tmp_path):
    (tmp_path / "test_wedged.py").write_text("import time\n\ndef test_waits_forever():\n    time.sleep(60)\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-o", "timeout=2", str(tmp_path / "test_wedged.py")],
                          cwd=tmp_path, capture_output=True, text=True, env=process_environment(), timeout=50)
    assert proc.returncode == 1 and "Timeout" in proc.stdout and "1 failed" in proc.stdout, proc.stdout[-1500:]


def test_ci_runs_the_readme_test_command():
    """``.ci/run`` takes the second line of the README's Quickstart block: that line is the test command."""
    extract = next(line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("test_command="))
    found = subprocess.run(["bash", "-c", f"{extract}\nprintf %s \"$test_command\""], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert found.endswith(".venv/bin/python -m pytest") and "requirements-dev.txt" in found, found


def test_load_answers_are_measured_and_printed(capsys):
    from tests.load.latency import RECORDED, record
    from tests.load.stclient import Answer

    latency = record("pen lift, a check", [Answer(seconds, 30) for seconds in (0.4, 0.1, 2.0, 0.3, 0.2)])
    try:
        assert (latency.count, latency.p50, latency.p95) == (5, 0.3, 2.0)
        assert "pen lift, a check: 5 answers, p50 300 ms, p95 2000 ms" in capsys.readouterr().out
        assert latency in RECORDED  # printed again, with the others, after the results
    finally:
        RECORDED.remove(latency)
    with pytest.raises(ValueError, match="no answers"):
        record("nothing", [])
