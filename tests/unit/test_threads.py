"""Per-thread limits on torch's CPU threads, and how many a training run in the app gets.

What is promised, not how it is computed: a limit holds in the thread that set it and nowhere else,
ends with its block (an exception included), never raises a thread's count; a run in the app takes
``$LENET_VIZ_TRAIN_THREADS`` when it is a usable number, else every core but one, and at least one.
"""

import threading

import pytest
import torch

from lenet_viz import settings, threads


@pytest.fixture
def openmp():
    if threads._openmp() is None:
        pytest.skip("torch ships no OpenMP runtime here: thread_limit cannot limit anything")


def in_another_thread(work):
    seen = []
    other = threading.Thread(target=lambda: seen.append(work()))
    other.start()
    other.join()
    return seen[0]


def test_a_limit_holds_in_its_thread_only_and_ends_with_its_block(openmp):
    outside = torch.get_num_threads()
    with threads.thread_limit(1):
        inside = torch.get_num_threads()
        elsewhere = in_another_thread(torch.get_num_threads)
    assert (inside, elsewhere, torch.get_num_threads()) == (1, outside, outside)


def test_a_limit_ends_when_its_block_raises(openmp):
    outside = torch.get_num_threads()
    with pytest.raises(KeyError), threads.thread_limit(1):
        raise KeyError("the work failed")
    assert torch.get_num_threads() == outside


def test_a_limit_never_raises_the_count_and_never_drops_below_one(openmp):
    outside = torch.get_num_threads()
    with threads.thread_limit(outside + 7):
        assert torch.get_num_threads() == outside  # more threads than the thread had: it keeps what it had
    with threads.thread_limit(0):
        assert torch.get_num_threads() == 1
    with threads.thread_limit(1), threads.thread_limit(4):
        assert torch.get_num_threads() == 1  # an inner, looser limit does not undo the outer one


@pytest.mark.parametrize(("cores", "setting", "expected"), [
    (8, None, 7),  # every core but one, left for the web server and other visitors
    (2, None, 1),
    (1, None, 1),  # but at least one
    (8, "3", 3),
    (2, "16", 16),  # an explicit number is taken as given
    (8, "0", 7), (8, "zero", 7), (8, "-2", 7), (8, "", 7),  # not a usable number: as if unset
])
def test_a_training_run_in_the_app_gets_every_core_but_one_unless_set(monkeypatch, cores, setting, expected):
    monkeypatch.setattr(torch, "get_num_threads", lambda: cores)
    if setting is None:
        monkeypatch.delenv(settings.TRAIN_THREADS_ENV, raising=False)
    else:
        monkeypatch.setenv(settings.TRAIN_THREADS_ENV, setting)
    assert threads.app_training_threads() == expected
