"""Torch autograd references for the in-browser backward pass (lenet_viz/netview/backprop.js).

:func:`write_cases` writes one JSON file per network: the spec, the layer plan, the weights, an
input and its label, every layer's output and its gradient, the input and parameter gradients,
the weights after one ``torch.optim.SGD`` step and after two ``torch.optim.Adam`` steps, and a
small batch with its mean loss and averaged gradients. tests/js/backprop_parity.mjs checks the JS
against them, under node (tests/unit/test_backprop_js.py) and in Chromium
(tests/browser/test_backprop_browser.py). Arrays are float32 little-endian base64, so the JS
reads exactly the values torch used.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lenet_viz.checkpoints import load_checkpoint
from lenet_viz.model_store import bundled_models, load_samples
from lenet_viz.models import PRESETS, LeNetSpec, build_model, layer_plan
from tests.browser.test_netview_maths import CUSTOM

SGD_LR = 0.1
ADAM = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "steps": 2}
BATCH = 3


def encode(array) -> dict:
    """A tensor or array as {"shape", "data": base64 of float32 little-endian}."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    array = np.asarray(array, dtype="<f4")
    return {"shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def inputs_for(spec: LeNetSpec, count: int, seed: int, images: np.ndarray | None = None) -> list[np.ndarray]:
    """``count`` inputs (C×H×W in [0, 1]): real images where given, else noise and sparse strokes."""
    rng = np.random.default_rng(seed)
    shape = (spec.in_channels, spec.input_size, spec.input_size)
    out = []
    for n in range(count):
        if images is not None and n < len(images):
            out.append((images[n][None] / np.float32(255)).astype(np.float32))
        elif n % 2:
            out.append((rng.random(shape) > 0.8).astype(np.float32))
        else:
            out.append(rng.random(shape, dtype=np.float32))
    return out


def reference(name: str, spec: LeNetSpec, model: nn.Module, inputs: list[np.ndarray], labels: list[int]) -> dict:
    """Everything backprop.js must reproduce for one network, from torch autograd."""
    model = model.float().eval()
    x = torch.from_numpy(inputs[0])[None].requires_grad_(True)
    outputs, h = [], x
    for _, layer in model.named_children():
        h = layer(h)
        h.retain_grad()
        outputs.append(h)
    model.zero_grad()
    loss = F.cross_entropy(h, torch.tensor([labels[0]]))
    loss.backward()
    params = {k: v.detach().clone() for k, v in model.state_dict().items()}
    grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}

    sgd_model = copy.deepcopy(model)
    sgd = torch.optim.SGD(sgd_model.parameters(), lr=SGD_LR)
    for k, p in sgd_model.named_parameters():
        p.grad = grads[k].clone()
    sgd.step()

    adam_model = copy.deepcopy(model)
    adam = torch.optim.Adam(adam_model.parameters(), lr=ADAM["lr"], betas=tuple(ADAM["betas"]), eps=ADAM["eps"])
    for _ in range(ADAM["steps"]):  # the same gradients twice: the second step uses the moments of the first
        for k, p in adam_model.named_parameters():
            p.grad = grads[k].clone()
        adam.step()

    model.zero_grad()
    batch = torch.from_numpy(np.stack(inputs[:BATCH]))
    batch_loss = F.cross_entropy(model(batch), torch.tensor(labels[:BATCH]))
    batch_loss.backward()

    return {
        "name": name,
        "spec": spec.to_dict(),
        "layers": [layer.to_dict() for layer in layer_plan(spec).layers],
        "params": {k: encode(v) for k, v in params.items()},
        "input": encode(inputs[0]),
        "label": labels[0],
        "loss": float(loss.detach()),
        "outputs": [encode(o[0]) for o in outputs],
        "grad_outputs": [encode(o.grad[0]) for o in outputs],
        "grad_input": encode(x.grad[0]),
        "grad_params": {k: encode(v) for k, v in grads.items()},
        "sgd": {"lr": SGD_LR, "params": {k: encode(p) for k, p in sgd_model.named_parameters()}},
        "adam": {**ADAM, "params": {k: encode(p) for k, p in adam_model.named_parameters()}},
        "batch": {"inputs": [encode(v) for v in inputs[:BATCH]], "labels": labels[:BATCH],
                  "loss": float(batch_loss.detach()),
                  "grad_params": {k: encode(p.grad) for k, p in model.named_parameters()}},
    }


def cases() -> list[dict]:
    """The 3 presets, every bundled model (on its own sample images) and the 6 random specs that
    cover every layer option (tests/browser/test_netview_maths.CUSTOM)."""
    out = []
    networks: list[tuple[str, LeNetSpec, nn.Module, np.ndarray | None]] = []
    for index, (key, spec) in enumerate(sorted(PRESETS.items())):
        torch.manual_seed(index)
        networks.append((f"preset-{key}", spec, build_model(spec), None))
    for bundled in bundled_models():
        checkpoint = load_checkpoint(bundled.path)
        samples = load_samples(bundled.dataset)
        networks.append((f"bundled-{bundled.key}", checkpoint.spec, checkpoint.model,
                         None if samples is None else samples.images[:BATCH]))
    for index, spec in enumerate(CUSTOM):
        torch.manual_seed(100 + index)
        networks.append((f"random-{index}", spec, build_model(spec), None))
    for seed, (name, spec, model, images) in enumerate(networks):
        rng = np.random.default_rng(seed)
        labels = [int(v) for v in rng.integers(0, spec.num_classes, BATCH + 1)]
        out.append(reference(name, spec, model, inputs_for(spec, BATCH + 1, seed, images), labels))
    return out


def write_cases(folder: Path) -> list[Path]:
    """One ``<name>.json`` per case in ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in cases():
        path = folder / f"{case['name']}.json"
        path.write_text(json.dumps(case))
        paths.append(path)
    return paths
