"""Lesson 3, what the network sees: which kernel made this map, where a map will be strongest (a
pick on the map), and what the network will say about an input the lesson edits. The right answers
come from the network itself (its conv1 kernels convolved with the input, its forward pass), on a
bundled sample or the learner's drawing.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.nn import functional as F

from lenet_viz import activations
from lenet_viz.checkpoints import Checkpoint
from lenet_viz.i18n import Msg, Msgs, class_name
from lenet_viz.lessons.core import Field, Question, cell_name
from lenet_viz.model_store import Samples
from lenet_viz.preprocess import to_tensor

EDITS = ("top", "bottom", "left", "right")  # which third of the picture the lesson erases


def pick_input(rng: random.Random, samples: Samples, drawing: np.ndarray | None) -> tuple[np.ndarray, Msg]:
    """The learner's drawing when there is one, else a sample the seed picks; and how to name it."""
    if drawing is not None and drawing.any():
        return drawing, Msg("lesson.seeing.your_drawing")
    index = rng.randrange(len(samples.images))
    return samples.images[index], Msg("lesson.seeing.sample", index=index)


def conv_maps(ckpt: Checkpoint, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conv1's kernels (C×in×k×k), biases and output maps (C×H×W) for one input, from the network's own layer."""
    conv = ckpt.model.conv1
    with torch.inference_mode():
        maps = conv(to_tensor(image, ckpt.spec.in_channels))[0]
    return conv.weight.detach().numpy().copy(), conv.bias.detach().numpy().copy(), maps.numpy()


def match_kernel(image: np.ndarray, target: np.ndarray, kernels: np.ndarray, biases: np.ndarray,
                 stride: int, padding: int) -> tuple[int, list[float], np.ndarray]:
    """Which kernel made ``target``: convolve the input with each candidate and compare.

    Returns the best candidate, for each candidate the largest difference between its map and
    ``target`` (the one that made it differs by rounding only), and the candidates' maps."""
    x = to_tensor(image, kernels.shape[1])
    with torch.inference_mode():
        maps = F.conv2d(x, torch.from_numpy(kernels), torch.from_numpy(biases), stride, padding)[0].numpy()
    differences = [float(np.abs(m - target).max()) for m in maps]
    return int(np.argmin(differences)), differences, maps


def kernel_differences(differences: list[float]) -> tuple[Msg, ...]:
    """Each candidate kernel's largest difference from the map, as "kernel: difference" in the reader's language."""
    return tuple(Msg("lesson.seeing.difference", kernel=i, difference=f"{d:.3g}") for i, d in enumerate(differences))


def kernel_question(seed: int, ckpt: Checkpoint, samples: Samples, drawing: np.ndarray | None = None) -> Question:
    """Which conv1 kernel made this map? The kernels are shown in an order the seed shuffles."""
    rng = random.Random(seed)
    image, source = pick_input(rng, samples, drawing)
    kernels, biases, maps = conv_maps(ckpt, image)
    channel = rng.randrange(len(kernels))
    order = list(range(len(kernels)))
    rng.shuffle(order)
    block = ckpt.spec.conv[0]
    best, differences, candidate_maps = match_kernel(image, maps[channel], kernels[order], biases[order],
                                                     block.stride, block.padding)
    options = tuple(str(i) for i in range(len(order)))
    explanation = (Msg("lesson.seeing.explain_kernel", kernel=best, diffs=Msgs(kernel_differences(differences))),
                   Msg("lesson.seeing.explain_kernel_how"))
    field = Field("kernel", Msg("lesson.seeing.kernel"), "choice", options=options)
    return Question("seeing", "kernel", seed, Msg("lesson.seeing.kernel_prompt", source=source), (field,),
                    {"kernel": str(best)}, explanation, (),
                    {"image": image, "map": maps[channel], "kernels": kernels[order], "source": source,
                     "candidate_maps": candidate_maps, "differences": differences})


PEAK_SHARE = 0.05  # units within this share of the map's range below its maximum count as "as strong"
PICK_TOLERANCE = 1  # a pick this many rows or columns from the strongest unit counts as right


def clear_peak(values: np.ndarray) -> bool:
    """Whether a map's strongest units all lie next to its maximum (one place to point at, not two
    strokes equally bright far apart)."""
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    top = values.max() - PEAK_SHARE * (values.max() - values.min())
    rows, cols = np.nonzero(values >= top)
    return bool(np.all(np.maximum(np.abs(rows - row), np.abs(cols - col)) <= PICK_TOLERANCE))


def window_centres(size: int, out: int, kernel: int, stride: int, padding: int) -> np.ndarray:
    """For each output position along one axis, the input position at the centre of its window
    (clipped to the input: with padding, an edge window's centre may lie in the padding)."""
    return np.clip(np.arange(out) * stride - padding + kernel // 2, 0, size - 1)


def strongest_question(seed: int, ckpt: Checkpoint, samples: Samples, drawing: np.ndarray | None = None) -> Question:
    """Where will one conv1 map be strongest? The learner sees the input and the map's kernel and picks a
    unit on the map's grid, drawn over the input pixel at the centre of each unit's window; the right
    answer is the largest value of the map the network computes."""
    rng = random.Random(seed)
    image, source = pick_input(rng, samples, drawing)
    kernels, _, maps = conv_maps(ckpt, image)
    order = list(range(len(kernels)))  # the maps in an order the seed picks: the first with one clear peak
    rng.shuffle(order)
    channel = next((c for c in order if clear_peak(maps[c])), order[0])
    values = maps[channel]
    row, col = (int(v) for v in np.unravel_index(int(np.argmax(values)), values.shape))
    block = ckpt.spec.conv[0]
    rows = window_centres(image.shape[0], values.shape[0], block.kernel, block.stride, block.padding)
    cols = window_centres(image.shape[1], values.shape[1], block.kernel, block.stride, block.padding)
    field = Field("cell", Msg("lessons.pick_unit"), "cell", shape=values.shape, tolerance=PICK_TOLERANCE)
    explanation = (Msg("lessons.pick_explain", map=channel, cell=cell_name(row, col), value=f"{values[row, col]:.3g}",
                       low=f"{values.min():.3g}"),
                   Msg("lessons.pick_explain_how"))
    return Question("seeing", "strongest", seed, Msg("lessons.pick_prompt", map=channel, source=source), (field,),
                    {"cell": (row, col)}, explanation, (),
                    {"image": image, "kernels": kernels, "map": values, "channel": channel,
                     "backdrop": image[np.ix_(rows, cols)], "source": source})


def _third(image: np.ndarray, edit: str) -> tuple[slice, slice]:
    third = image.shape[0] // 3
    return {"top": np.s_[:third, :], "bottom": np.s_[-third:, :], "left": np.s_[:, :third],
            "right": np.s_[:, -third:]}[edit]


def erase(image: np.ndarray, edit: str) -> np.ndarray:
    """The picture with one third blanked: its ``top``, ``bottom``, ``left`` or ``right``."""
    out = image.copy()
    out[_third(image, edit)] = 0
    return out


def useful_edits(image: np.ndarray) -> tuple[str, ...]:
    """The edits that erase ink (erasing blank background would ask nothing); all when none does."""
    inked = tuple(edit for edit in EDITS if image[_third(image, edit)].any())
    return inked or EDITS


def predict_one(ckpt: Checkpoint, image: np.ndarray) -> np.ndarray:
    """The network's class probabilities for one picture."""
    return activations.run(ckpt.model.eval(), ckpt.spec, to_tensor(image, ckpt.spec.in_channels)).probabilities


def say_question(seed: int, ckpt: Checkpoint, samples: Samples, drawing: np.ndarray | None = None) -> Question:
    """What will the network say when a third of the input is erased? The reveal runs the network."""
    rng = random.Random(seed)
    image, source = pick_input(rng, samples, drawing)
    edit = rng.choice(useful_edits(image))
    edited = erase(image, edit)
    before, after = predict_one(ckpt, image), predict_one(ckpt, edited)
    said, was = int(after.argmax()), int(before.argmax())
    classes = ckpt.classes
    top = np.argsort(after)[::-1][:3]
    ranking = ", ".join(f"{class_name(classes[i])} {after[i]:.0%}" for i in top)
    explanation = (Msg("lesson.seeing.explain_say", said=class_name(classes[said]), ranking=ranking),
                   Msg("lesson.seeing.explain_before", was=class_name(classes[was]), p=f"{before[was]:.0%}"))
    options = tuple(str(i) for i in range(len(classes)))
    field = Field("say", Msg("lesson.seeing.say"), "choice", options=options,
                  option_labels=tuple(classes))
    return Question("seeing", "say", seed, Msg(f"lesson.seeing.say_prompt_{edit}", source=source), (field,),
                    {"say": str(said)}, explanation, (),
                    {"image": image, "edited": edited, "before": before, "after": after, "classes": classes})
