"""Per-thread limits on torch's CPU threads."""

import threading

import pytest
import torch

from lenet_viz import settings, threads


def test_thread_limit_is_local_to_the_calling_thread():
    if threads._openmp() is None:
        pytest.skip("torch ships no OpenMP runtime here")
    outside = torch.get_num_threads()
    seen = {}
    with threads.thread_limit(1):
        seen["inside"] = torch.get_num_threads()
        other = threading.Thread(target=lambda: seen.update(other=torch.get_num_threads()))
        other.start()
        other.join()
    assert seen["inside"] == 1
    assert seen["other"] == outside
    assert torch.get_num_threads() == outside


def test_app_training_threads_leave_a_core(monkeypatch):
    monkeypatch.delenv(settings.TRAIN_THREADS_ENV, raising=False)
    assert threads.app_training_threads() == max(1, torch.get_num_threads() - 1)
    monkeypatch.setenv(settings.TRAIN_THREADS_ENV, "3")
    assert threads.app_training_threads() == 3
    monkeypatch.setenv(settings.TRAIN_THREADS_ENV, "zero")
    assert threads.app_training_threads() >= 1
