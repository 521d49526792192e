"""Finding and reading MNIST-style IDX files."""

from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_viz import data, settings
from tests.datasets import DEBIAN_FASHION, SHARED_MNIST, requires, synthetic_digits, write_idx


def test_reads_a_folder_with_non_standard_names(idx_folder: Path):
    ds = data.load_dataset("mnist", idx_folder)
    assert ds.train_images.shape == (600, 28, 28) and ds.train_images.dtype == torch.uint8
    assert ds.test_labels.shape == (200,) and ds.test_labels.dtype == torch.int64
    expected, _ = synthetic_digits(200, 1)
    assert np.array_equal(ds.test_images.numpy(), expected)
    assert ds.classes == tuple("0123456789")


def test_torchvision_layout_and_env_var(tmp_path: Path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 50), ("t10k", 20)):
        images, labels = synthetic_digits(n)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", labels)
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    folder, _ = data.locate("fashion-mnist")
    assert folder == raw


def test_missing_data_says_where_it_looked(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "nothing"))
    with pytest.raises(data.DataNotFound) as info:
        data.load_dataset("mnist", tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and "MNIST/raw" in message and "--download" in message


def test_truncated_and_foreign_files_are_refused(tmp_path: Path):
    bad = tmp_path / "x-idx3-ubyte"
    bad.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(data.DataError, match="not an IDX"):
        data.read_idx(bad)
    images, _ = synthetic_digits(10)
    write_idx(bad, images)
    bad.write_bytes(bad.read_bytes()[:-5])
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(bad)


def test_to_input_scales_to_unit_range():
    x = data.to_input(torch.tensor([[[0, 255]]], dtype=torch.uint8))
    assert x.shape == (1, 1, 1, 2) and x.dtype == torch.float32 and x.flatten().tolist() == [0.0, 1.0]


@pytest.mark.slow
@requires(SHARED_MNIST, "the project's MNIST digits (../shared/datasets/mnist)")
def test_real_mnist_from_shared_folder():
    ds = data.load_dataset("mnist", SHARED_MNIST)
    assert len(ds.train_images) == 5000 and len(ds.test_images) == 10000
    assert torch.bincount(ds.train_labels).tolist() == [500] * 10


@pytest.mark.slow
@requires(DEBIAN_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_debian():
    ds = data.load_dataset("fashion-mnist")
    assert len(ds.train_images) == 60000 and len(ds.test_images) == 10000
    assert ds.classes[9] == "Ankle boot"


def test_gzipped_files_are_unpacked_once_into_the_cache(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "xdg"))
    cache = tmp_path / "xdg" / "lenet-viz" / "unpacked"
    images, _ = synthetic_digits(20)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(path, images)
    assert np.array_equal(data.load_idx(path), images)
    cached = list(cache.iterdir())
    assert len(cached) == 1 and cached[0].suffix == ".npy"
    np.save(cached[0], np.zeros_like(images))  # the cached copy is what is read the second time
    assert not data.load_idx(path).any()
    write_idx(path, images[:10])  # a changed file is unpacked again, replacing its old copy
    assert np.array_equal(data.load_idx(path), images[:10])
    assert [p.name for p in cache.iterdir()] != [cached[0].name]
    assert len(list(cache.iterdir())) == 1
    other = tmp_path / "other" / path.name  # the same name elsewhere is another dataset: both kept
    other.parent.mkdir()
    write_idx(other, images[:5])
    assert np.array_equal(data.load_idx(other), images[:5])
    assert np.array_equal(data.load_idx(path), images[:10])
    assert len(list(cache.iterdir())) == 2


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(settings.CACHE_ENV, str(blocker / "cache"))
    images, _ = synthetic_digits(5)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    write_idx(path, images)
    assert np.array_equal(data.load_idx(path), images)


def test_damaged_gzip_gives_a_clear_error(idx_folder: Path):
    path = idx_folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])  # cut short
    with pytest.raises(data.DataError, match="could not be read"):
        data.load_dataset("mnist", idx_folder)


def test_the_cache_follows_xdg_cache_home_set_after_import(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    assert data.unpacked_dir() == tmp_path / "lenet-viz" / "unpacked"
    assert data.default_root() == tmp_path / "lenet-viz" / "data"
    root = tmp_path / "lenet-viz" / "data"
    assert data.candidate_dirs("mnist")[-3:] == [root, root / "mnist", root / "MNIST" / "raw"]
