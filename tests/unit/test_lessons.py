"""Lessons: every question type's right answer against an independent oracle (PyTorch layers built
here, the network's own forward pass), the check (right, wrong, the gap, bad input), seeds,
progress, and the teacher's link."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lenet_viz import lessons, links
from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.lessons import AnswerError, check, generate
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.preprocess import to_tensor

SEEDS = range(40)


@pytest.fixture(scope="module")
def digits():
    model = next(m for m in bundled_models() if m.dataset == "mnist")
    return load_checkpoint(model.path), load_samples(model.dataset)


def torch_network(spec) -> nn.Sequential:
    """The spec's layers built here from its fields with torch alone (not lenet_viz.models), named as LeNet's."""
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[spec.activation]
    layers, channels = [], spec.in_channels
    for i, block in enumerate(spec.conv, start=1):
        layers.append((f"conv{i}", nn.Conv2d(channels, block.out_channels, block.kernel, block.stride, block.padding)))
        layers.append((f"act{i}", act()))
        pool = nn.MaxPool2d if block.pool == "max" else nn.AvgPool2d
        layers.append((f"pool{i}", pool(block.pool_kernel, block.pool_stride)))
        channels = block.out_channels
    layers.append(("flatten", nn.Flatten()))
    return nn.Sequential(OrderedDict(layers))


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_size_and_parameters_match_pytorch(seed):
    question = generate("shapes", "layer", seed)
    spec, name = question.extras["spec"], question.extras["layer"]
    net = torch_network(spec)
    x = torch.zeros(1, 1, spec.input_size, spec.input_size)
    outputs = {}
    for layer_name, layer in net.named_children():
        x = layer(x)
        outputs[layer_name] = x
    if name == "fc1":
        inputs = outputs["flatten"].shape[1]
        fc1 = nn.Linear(inputs, spec.hidden[0])
        assert question.answer == {"size": inputs, "params": sum(p.numel() for p in fc1.parameters())}
    else:
        out = outputs[name]
        assert out.shape[-1] == out.shape[-2]
        params = sum(p.numel() for p in getattr(net, name).parameters())
        assert question.answer == {"size": out.shape[-1], "params": params}


@pytest.mark.parametrize("seed", SEEDS)
def test_padding_that_keeps_the_size_is_the_smallest_that_does_in_pytorch(seed):
    question = generate("padding", "keep", seed)
    size, kernel = question.extras["input_side"], question.extras["geometry"].kernel
    padding = question.answer["padding"]

    def side(p):
        return nn.Conv2d(1, 1, kernel, padding=p)(torch.zeros(1, 1, size, size)).shape[-1]

    assert side(padding) == size
    assert all(side(p) != size for p in range(padding))


@pytest.mark.parametrize("seed", SEEDS)
def test_pooled_values_match_pytorch_pooling(seed):
    question = generate("padding", "pooled", seed)
    grid = torch.tensor(question.extras["grid"], dtype=torch.float64)[None, None]
    pool = F.max_pool2d if question.extras["pool"] == "max" else F.avg_pool2d
    expected = pool(grid, 2, 2)[0, 0].numpy()
    got = np.array([[question.answer[f"cell_{r}_{c}"] for c in range(2)] for r in range(2)])
    np.testing.assert_allclose(got, expected, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_stride_two_output_matches_pytorch(seed):
    question = generate("padding", "stride", seed)
    geometry, size = question.extras["geometry"], question.extras["input_side"]
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=geometry.padding)
    assert geometry.step == 2
    assert question.answer["size"] == conv(torch.zeros(1, 1, size, size)).shape[-1]


def test_the_explanations_list_their_numbers_with_chinese_punctuation_in_chinese(digits):
    from tests.unit.test_i18n import ascii_colons

    stride = generate("padding", "stride", 3)
    reads = stride.explanation[1]
    assert "0: " in str(reads) and "; 1: " in str(reads)  # English: "0: -1, 0, 1; 1: 1, 2, 3"
    assert ascii_colons(reads.text("zh")) == [] and "；输出 1：" in reads.text("zh")
    kernel = generate("seeing", "kernel", 3, *digits)
    assert ascii_colons(kernel.explanation[0].text("zh")) == [] and "卷积核 1：" in kernel.explanation[0].text("zh")


@pytest.mark.parametrize("seed", range(12))
def test_the_kernel_answer_is_the_network_kernel_whose_map_is_shown(seed, digits):
    ckpt, samples = digits
    question = generate("seeing", "kernel", seed, ckpt, samples)
    with torch.inference_mode():
        maps = ckpt.model.conv1(to_tensor(question.extras["image"]))[0].numpy()
    channel = next(c for c in range(len(maps)) if np.array_equal(maps[c], question.extras["map"]))
    shown = question.extras["kernels"][int(question.answer["kernel"])]
    np.testing.assert_array_equal(shown, ckpt.model.conv1.weight[channel].detach().numpy())


def test_the_kernel_question_uses_the_learners_drawing_when_there_is_one(digits):
    ckpt, samples = digits
    drawing = np.zeros((28, 28), np.uint8)
    drawing[4:24, 13:16] = 255
    question = generate("seeing", "kernel", 3, ckpt, samples, drawing)
    np.testing.assert_array_equal(question.extras["image"], drawing)
    assert "drawing" in question.prompt


@pytest.mark.parametrize("seed", range(12))
def test_what_it_will_say_is_what_the_network_says_about_the_edited_input(seed, digits):
    ckpt, samples = digits
    question = generate("seeing", "say", seed, ckpt, samples)
    image, edited = question.extras["image"], question.extras["edited"]
    assert (edited != image).any()  # the edit erased ink
    assert ((edited == image) | (edited == 0)).all()  # and did nothing else
    with torch.no_grad():
        logits = ckpt.model.eval()(torch.tensor(edited, dtype=torch.float32)[None, None] / 255)
    assert question.answer["say"] == str(int(logits.argmax()))


def numpy_conv1(ckpt, image: np.ndarray) -> np.ndarray:
    """conv1's maps computed here with numpy loops over the padded input (not torch's conv)."""
    block = ckpt.spec.conv[0]
    weights, biases = ckpt.model.conv1.weight.detach().numpy(), ckpt.model.conv1.bias.detach().numpy()
    x = np.pad(to_tensor(image).numpy()[0, 0], block.padding)
    size = (x.shape[0] - block.kernel) // block.stride + 1
    maps = np.zeros((len(weights), size, size))
    for c in range(len(weights)):
        for r in range(size):
            for q in range(size):
                top, left = r * block.stride, q * block.stride
                window = x[top:top + block.kernel, left:left + block.kernel]
                maps[c, r, q] = float((window * weights[c, 0]).sum() + biases[c])
    return maps


@pytest.mark.parametrize("seed", range(8))
def test_where_a_map_is_strongest_is_where_the_networks_kernel_answers_most(seed, digits):
    ckpt, samples = digits
    question = generate("seeing", "strongest", seed, ckpt, samples)
    maps = numpy_conv1(ckpt, question.extras["image"])
    channel = question.extras["channel"]
    np.testing.assert_allclose(question.extras["map"], maps[channel], atol=1e-4)
    oracle = np.unravel_index(int(np.argmax(maps[channel])), maps[channel].shape)
    assert question.answer["cell"] == tuple(int(v) for v in oracle)
    assert question.fields[0].kind == "cell" and question.fields[0].shape == maps[channel].shape
    row, col = question.answer["cell"]  # conv1 (5×5, padding 2): each unit's window is centred on its pixel
    assert question.extras["backdrop"][row, col] == question.extras["image"][row, col]
    assert f"Map {channel} " in question.prompt and "第 0 行" not in question.prompt


def test_a_pick_counts_within_one_row_and_column_and_says_how_far_it_is(digits):
    question = generate("seeing", "strongest", 3, *digits)
    row, col = question.answer["cell"]
    assert check(question, {"cell": (row, col)}).right
    assert check(question, {"cell": [row + 1, col - 1]}).right  # a list, as the page's boxes give it
    far = check(question, {"cell": (row, col + 2 if col < 20 else col - 2)})
    assert not far.right and "2 rows or columns away" in far.gaps[0].text
    assert "相差 2 行或列" in far.gaps[0].text.text("zh")
    for raw, key in [(None, "lessons.pick_none"), ((None, 4), "lessons.pick_none"), ((1, 2, 3), "lessons.pick_none"),
                     ((28, 0), "lessons.pick_outside"), ((0, -1), "lesson.error.too_small"),
                     (("a", 1), "lesson.error.not_number")]:
        with pytest.raises(AnswerError) as caught:
            check(question, {"cell": raw})
        assert caught.value.key == key, raw


def test_the_pick_question_uses_the_learners_drawing(digits):
    drawing = np.zeros((28, 28), np.uint8)
    drawing[4:24, 13:16] = 255
    question = generate("seeing", "strongest", 3, *digits, drawing)
    np.testing.assert_array_equal(question.extras["image"], drawing)
    assert "drawing" in question.prompt


def test_a_right_answer_is_right_and_a_wrong_one_is_wrong_with_its_gap():
    question = generate("shapes", "layer", 5)
    assert check(question, question.answer).right
    wrong = check(question, {"size": question.answer["size"] + 3, "params": question.answer["params"]})
    assert not wrong.right
    size_gap, params_gap = wrong.gaps
    assert not size_gap.correct and params_gap.correct
    assert f"{question.answer['size']}: 3 too high" in size_gap.text
    low = check(question, {"size": question.answer["size"] - 2, "params": question.answer["params"]})
    assert "2 too low" in low.gaps[0].text and "少了 2" in low.gaps[0].text.text("zh")


def test_averages_count_within_their_tolerance_and_choices_by_value(digits):
    question = next(q for q in (generate("padding", "pooled", s) for s in SEEDS) if q.extras["pool"] == "avg")
    close = {k: v + 0.004 for k, v in question.answer.items()}
    assert check(question, close).right
    assert not check(question, {k: v + 0.25 for k, v in question.answer.items()}).right
    say = generate("seeing", "say", 1, *digits)
    other = next(o for o in say.fields[0].options if o != say.answer["say"])
    assert check(say, say.answer).right and not check(say, {"say": other}).right
    assert f"the answer is {say.answer['say']}" in check(say, {"say": other}).gaps[0].text


@pytest.mark.parametrize("raw, key", [
    (None, "lesson.error.empty"), ("", "lesson.error.empty"), ("twelve", "lesson.error.not_number"),
    ("-4", "lesson.error.too_small"), (-4, "lesson.error.too_small"), (10**12, "lesson.error.huge"),
    ("1e400", "lesson.error.huge"), ("nan", "lesson.error.huge"), (2.5, "lesson.error.not_whole"),
    (True, "lesson.error.not_number"),
])
def test_what_is_not_an_answer_gets_a_clear_message(raw, key):
    question = generate("padding", "keep", 1)
    with pytest.raises(AnswerError) as caught:
        check(question, {"padding": raw})
    assert caught.value.key == key
    assert "Padding P" in str(caught.value) and "填充 P" in caught.value.text("zh")


def test_a_choice_must_be_one_of_the_options(digits):
    question = generate("seeing", "kernel", 2, *digits)
    for raw in (None, "7", "garbage"):
        with pytest.raises(AnswerError, match="pick one first"):
            check(question, {"kernel": raw})


def test_the_same_seed_gives_the_same_question_and_seeds_give_different_ones():
    for lesson in ("shapes", "padding", "training"):
        for kind in lessons.LESSONS[lesson]:
            one, again = generate(lesson, kind, 11), generate(lesson, kind, 11)
            assert (one.prompt, one.answer, one.explanation) == (again.prompt, again.answer, again.explanation)
    assert len({str(generate("shapes", "layer", s).answer) for s in SEEDS}) > 10
    with pytest.raises(KeyError):
        generate("shapes", "pooled", 1)


def test_progress_counts_questions_and_first_tries_and_resets():
    progress = lessons.LessonProgress()
    first, second = generate("shapes", "layer", 1), generate("shapes", "layer", 2)
    progress.add(first, check(first, first.answer))
    progress.add(second, check(second, {"size": 999, "params": 0}))
    progress.add(second, check(second, second.answer))
    assert progress.summary("shapes") == (2, 1)
    assert progress.records[second.id].solved and progress.records[second.id].checks == 2
    assert progress.summary("padding") == (0, 0)
    progress.reset()
    assert progress.summary("shapes") == (0, 0)


def test_a_teachers_link_round_trips_and_bad_values_fall_back_with_notes():
    view = links.LessonsView("padding", "pooled", 42)
    controls = links.Controls("lessons", frozenset({"nav", "new"}), frozenset({"lesson"}))
    query = links.view_query(view, "zh", controls)
    assert query == {"lesson": "padding", "q": "pooled", "seed": "42", "hide": "new,nav", "lock": "lesson",
                     "lang": "zh"}
    link = links.parse_link("/lessons", query)
    assert (link.page, link.view, link.lang, link.notes, link.controls) == ("lessons", view, "zh", [], controls)
    assert links.build_url("http://h:1/", "lessons", query).startswith("http://h:1/lessons?lesson=padding")
    bad = links.parse_link("/lessons", {"lesson": "<script>", "q": "layer", "seed": "x1", "hide": "all,nav",
                                        "lock": ""})
    assert bad.view == links.LessonsView("shapes", "layer", None)
    assert bad.controls == links.Controls("lessons", frozenset({"nav"}))
    assert len(bad.notes) == 3 and all(isinstance(n, str) for n in bad.notes)
    huge = links.parse_link("/lessons", {"lesson": "seeing", "q": "faster", "seed": "99999999999999"})
    assert huge.view.question is None and huge.view.seed is None and len(huge.notes) == 2
