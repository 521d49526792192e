"""Fuzz: damaged examples zips and damaged Save reports through the Teach page's readers.

Each one must give examples (or a checkpoint) that are whole, or raise :class:`TeachError` with a
message: never another exception, never a half-read result.
"""

import base64
import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenet_viz import teach
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.models import LeNetSpec
from lenet_viz.teach import Examples, TeachError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                database=None, derandomize=True)
GOOD_ZIP = teach.write_examples_zip(Examples(("一", "二"), np.arange(4 * 784, dtype=np.uint32).astype(np.uint8)
                                             .reshape(4, 28, 28), np.array([0, 1, 0, 1])))


def outcome_of(data: bytes) -> str:
    try:
        examples = teach.read_examples_zip(data)
    except TeachError as exc:
        assert str(exc) and exc.text("zh")
        return "refused"
    assert examples.images.shape == (len(examples.labels), 28, 28) and examples.images.dtype == np.uint8
    assert set(examples.labels.tolist()) <= set(range(len(examples.classes)))
    return "read"


@pytest.mark.slow
@pytest.mark.slow
@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_zip_with_changed_bytes_is_read_whole_or_refused(changes):
    data = bytearray(GOOD_ZIP)
    for at, value in changes:
        data[at] = value
    outcome_of(bytes(data))


@FUZZ
@given(st.integers(0, len(GOOD_ZIP)))
def test_a_cut_zip_is_refused(length):
    assert outcome_of(GOOD_ZIP[:length]) == ("read" if length == len(GOOD_ZIP) else "refused")


NAMES = st.text(min_size=0, max_size=50)
LABELS = st.fixed_dictionaries({
    "format": st.sampled_from([teach.FORMAT, "x", 1]),
    "classes": st.one_of(st.lists(NAMES, max_size=12), st.integers(), st.none()),
    "examples": st.one_of(st.lists(st.fixed_dictionaries({"file": st.sampled_from(["images/1.png", "../x", "a"]),
                                                          "class": NAMES}), max_size=4), st.text()),
})


@pytest.mark.slow
@pytest.mark.slow
@FUZZ
@given(LABELS, st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", GOOD_ZIP[:200]]))
def test_any_labels_file_is_read_whole_or_refused(labels, image):
    import json

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("images/1.png", image)
        z.writestr(teach.LABELS_FILE, json.dumps(labels))
    outcome_of(buffer.getvalue())


SPEC = LeNetSpec.from_dict({"conv": [{"out_channels": 2, "kernel": 5, "pool": "max"}], "hidden": [8],
                            "activation": "relu", "num_classes": 2})
PARAMS = 2 * 25 + 2 + 2 * 12 * 12 * 8 + 8 + 8 * 2 + 2


def floats(values) -> str:
    return base64.b64encode(np.asarray(values, "<f4").tobytes()).decode()


VALUE = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**9), st.floats(allow_nan=True), st.text(max_size=20))
REPORT = st.fixed_dictionaries({
    "spec": st.one_of(st.just(SPEC.to_dict()), st.dictionaries(st.text(max_size=8), VALUE, max_size=3)),
    "classes": st.one_of(st.just(["a", "b"]), st.lists(NAMES, max_size=3), VALUE),
    "weights": st.one_of(st.just(floats(np.zeros(PARAMS))), st.just(floats(np.full(PARAMS, np.inf))),
                         st.text(max_size=40), VALUE),
    "history": st.one_of(st.just([]), st.lists(st.dictionaries(st.sampled_from(["epoch", "step", "train_loss"]),
                                                               VALUE), max_size=2), VALUE),
    "snapshots": st.one_of(st.just([]), st.lists(st.fixed_dictionaries({"step": VALUE, "weights": st.one_of(
        st.just(floats(np.ones(PARAMS))), VALUE)}), max_size=3), VALUE),
    "config": st.one_of(st.dictionaries(st.sampled_from(list(teach.CONFIG_KEYS) + ["x"]), VALUE), VALUE),
})


@pytest.mark.slow
@pytest.mark.slow
@FUZZ
@given(REPORT)
def test_any_save_report_gives_a_loadable_checkpoint_or_a_reason(report):
    try:
        data = teach.taught_checkpoint(report)
    except TeachError as exc:
        assert str(exc) and exc.text("zh")
        return
    assert load_checkpoint(data).classes == ("a", "b")
