"""Test data: tiny synthetic IDX datasets written to disk, and where the real data lives."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IN_CI = os.environ.get("CI") == "true"


def requires(path: Path, what: str):
    """Skip unless ``path`` exists; in CI a missing path is a failure, not a skip."""
    if IN_CI:
        return pytest.mark.skipif(False, reason="")
    return pytest.mark.skipif(not path.exists(), reason=f"{what} not found at {path}")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose class is where a bright square sits (10 positions): easy to learn."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        r, col = 2 + (c // 5) * 14, 2 + (c % 5) * 5
        images[i, r:r + 8, col:col + 4] = 255
    return images, labels


def write_dataset(folder: Path, splits: tuple[tuple[str, int, int], ...]) -> Path:
    """Synthetic IDX files in ``folder``: ``(file prefix, count, seed)`` per split."""
    for prefix, n, seed in splits:
        images, labels = synthetic_digits(n, seed)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder
