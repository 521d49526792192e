"""Training throughput: the seed's loop (d2l ``train_ch6``) against lenet_viz's engine.

Each run is a fresh process doing one full Fashion-MNIST epoch plus evaluation of the 10,000
test images (the engine's runs are ``python -m lenet_viz train``, exactly as a user runs it);
seed and engine runs are interleaved (A B A B ...) and medians reported. Also
measured: examples/s of the training steps alone, and the compute ceiling (forward + backward +
step on one fixed, preloaded batch: no data handling at all).

    python benchmarks/train_throughput.py                 # classic and modern, 3 pairs each
    python benchmarks/train_throughput.py --pairs 5 --models classic
    python benchmarks/train_throughput.py --epochs 10     # also compare final accuracy
    python benchmarks/train_throughput.py --snapshots 24 --pairs 7 --models classic
                                      # the engine with 24 weight snapshots against none (no seed loop)
    python benchmarks/train_throughput.py --device cuda --epochs 10 --pairs 2 --models classic
                                      # both loops on the GPU (the seed's moves each batch there)

Writes ``benchmarks/results/train_throughput.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))


# --- the seed's loop, kept faithful (d2l's train_ch6 with its DataLoader), for comparison only ---

def seed_loop(model_name: str, epochs: int, data_root: str, device: str = "cpu") -> dict:
    import torch
    import torchvision
    from torch import nn
    from torch.utils import data
    from torchvision import transforms

    from lenet_viz.models import PRESETS, build_model

    trans = transforms.ToTensor()
    train = torchvision.datasets.FashionMNIST(root=data_root, train=True, transform=trans, download=False)
    test = torchvision.datasets.FashionMNIST(root=data_root, train=False, transform=trans, download=False)
    train_iter = data.DataLoader(train, 256, shuffle=True, num_workers=4)
    test_iter = data.DataLoader(test, 256, shuffle=False, num_workers=4)
    net = build_model(PRESETS[model_name])

    def init_weights(m):
        if type(m) in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)

    net.apply(init_weights)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9 if model_name == "classic" else 0.1)
    loss = nn.CrossEntropyLoss()
    step_time = 0.0
    for _ in range(epochs):
        metric = [0.0, 0.0, 0]
        net.train()
        for X, y in train_iter:
            X, y = X.to(device), y.to(device)
            t0 = time.perf_counter()
            optimizer.zero_grad()
            y_hat = net(X)
            batch_loss = loss(y_hat, y)
            batch_loss.backward()
            optimizer.step()
            with torch.no_grad():  # d2l's Accumulator: float() of each term, a sync every step
                metric[0] += float(batch_loss * X.shape[0])
                metric[1] += float((y_hat.argmax(axis=1) == y).sum())
                metric[2] += X.shape[0]
            step_time += time.perf_counter() - t0
        net.eval()
        correct = total = 0
        with torch.no_grad():
            for X, y in test_iter:
                X, y = X.to(device), y.to(device)
                correct += float((net(X).argmax(axis=1) == y).sum())
                total += y.numel()
    return {"train_loss": metric[0] / metric[2], "train_acc": metric[1] / metric[2], "test_acc": correct / total,
            "steps_ex_per_s": metric[2] * epochs / step_time}


def engine_command(model_name: str, epochs: int, snapshots: int = 0, device: str = "cpu") -> list[str]:
    """The engine as a user runs it: lenet_viz's CLI, with the seed's recipe."""
    lr = 0.9 if model_name == "classic" else 0.1
    return [sys.executable, "-m", "lenet_viz", "train", "--dataset", "fashion-mnist", "--model", model_name,
            "--epochs", str(epochs), "--lr", str(lr), "--device", device, "--snapshots", str(snapshots)]


def parse_summary(text: str) -> dict:
    """The CLI's closing lines: ``loss L, train acc A, test acc T`` and ``N examples/sec on cpu``."""
    found = re.search(r"loss ([\d.]+), train acc ([\d.]+), test acc ([\d.]+)\s+([\d.]+) examples/sec", text)
    if not found:
        raise RuntimeError(f"unexpected CLI output: {text!r}")
    loss, train_acc, test_acc, speed = map(float, found.groups())
    return {"train_loss": loss, "train_acc": train_acc, "test_acc": test_acc, "steps_ex_per_s": speed}


def ceiling(model_name: str, blocks: int = 7, steps: int = 30) -> float:
    """Examples/s of forward+backward+step on one fixed, preloaded batch of 256 (no data handling):
    the fastest of several blocks of steps, after a warm-up."""
    import torch
    from torch import nn

    from lenet_viz.models import PRESETS, build_model
    from lenet_viz.training import PlainSGD, tune_memory_allocator

    tune_memory_allocator()
    model = build_model(PRESETS[model_name]).to(memory_format=torch.channels_last)
    x = torch.rand(256, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (256,))
    opt, loss_fn = PlainSGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss()

    def block(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
        return 256 * n / (time.perf_counter() - start)

    block(10)
    return max(block(steps) for _ in range(blocks))


# --- the driver ---

def torchvision_root() -> str:
    """A temporary torchvision layout (FashionMNIST/raw, uncompressed) of Debian's files."""
    from lenet_viz.data import locate

    _, files = locate("fashion-mnist")
    root = Path(tempfile.mkdtemp(prefix="fmnist-"))
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for path in files.values():
        name = path.name.removesuffix(".gz")
        with (gzip.open(path) if path.suffix == ".gz" else open(path, "rb")) as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return str(root)


def run_child(which: str, model: str, epochs: int, data_root: str, snapshots: int = 0, device: str = "cpu") -> dict:
    if which == "seed":
        command = [sys.executable, __file__, "--child", "--models", model, "--epochs", str(epochs),
                   "--data-root", data_root, "--device", device]
    else:
        command = engine_command(model, epochs, snapshots if which == "snapshots" else 0, device)
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    result = json.loads(out.stdout.strip().splitlines()[-1]) if which == "seed" else parse_summary(out.stdout)
    result["process_s"] = time.perf_counter() - start
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["classic", "modern"])
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--child", action="store_true", help="run the seed's loop once (used by the driver)")
    p.add_argument("--data-root")
    p.add_argument("--device", default="cpu", help="where both loops train (the seed's and the engine's)")
    p.add_argument("--snapshots", type=int, default=0,
                   help="compare the engine keeping this many snapshots against none, instead of against the seed")
    args = p.parse_args()
    if args.child:
        print(json.dumps(seed_loop(args.models[0], args.epochs, args.data_root, args.device)))
        return
    if args.snapshots:
        compare_snapshots(args)
        return

    import torch

    data_root = torchvision_root()
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "models": {}}
    for model in args.models:
        runs: dict[str, list[dict]] = {"seed": [], "engine": []}
        for _ in range(args.pairs):
            for which in ("seed", "engine"):
                runs[which].append(run_child(which, model, args.epochs, data_root, device=args.device))
        med = {w: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for w, rs in runs.items()}
        med["ceiling_ex_per_s"] = ceiling(model) if args.device == "cpu" else None  # a CPU figure
        med["process_speedup"] = med["seed"]["process_s"] / med["engine"]["process_s"]
        med["steps_speedup"] = med["engine"]["steps_ex_per_s"] / med["seed"]["steps_ex_per_s"]
        report["models"][model] = {**med, "runs": runs}
    shutil.rmtree(data_root, ignore_errors=True)

    print(f"{report['machine']}, torch {report['torch']}, {args.epochs} epoch(s) + evaluation, "
          f"medians of {args.pairs} interleaved runs")
    print(f"{'model':8} {'loop':7} {'process s':>10} {'steps ex/s':>11} {'test acc':>9}")
    for model, med in report["models"].items():
        for which in ("seed", "engine"):
            r = med[which]
            print(f"{model:8} {which:7} {r['process_s']:10.1f} {r['steps_ex_per_s']:11,.0f} {r['test_acc']:9.3f}")
        ceiling_text = f"; ceiling (fixed batch) {med['ceiling_ex_per_s']:,.0f} ex/s" if med["ceiling_ex_per_s"] else ""
        print(f"{model:8} speed-up: whole process {med['process_speedup']:.2f}×, training steps "
              f"{med['steps_speedup']:.2f}×{ceiling_text}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train_throughput.json").write_text(json.dumps(report, indent=2))


def snapshot_cost_s(model_name: str, repeats: int = 50) -> float:
    """Seconds of the work one snapshot adds to a run (copy to float16, finiteness check, the metrics'
    host sync), the fastest of ``repeats``: a figure that a loaded machine cannot blur the way it
    blurs two whole runs."""
    import torch

    from lenet_viz.history import take_snapshot
    from lenet_viz.models import PRESETS, build_model

    model = build_model(PRESETS[model_name]).to(memory_format=torch.channels_last)
    loss = torch.zeros(())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kept = take_snapshot(model, 1, 0.0, loss.item(), 0.5, None)
        all(torch.isfinite(t).all() for t in kept.state_dict.values())
        times.append(time.perf_counter() - start)
    return min(times)


def compare_snapshots(args: argparse.Namespace) -> None:
    """The engine with ``--snapshots N`` against ``--snapshots 0``, interleaved; medians, and the
    median of the per-pair ratios (each pair ran under about the same load)."""
    report = {"snapshots": args.snapshots, "epochs": args.epochs, "date": time.strftime("%Y-%m-%d"), "models": {}}
    print(f"{args.epochs} epoch(s) + evaluation, {args.pairs} interleaved pairs, --snapshots 0 vs {args.snapshots}")
    for model in args.models:
        runs: dict[str, list[dict]] = {"off": [], "snapshots": []}
        for i in range(args.pairs):
            order = ("off", "snapshots") if i % 2 == 0 else ("snapshots", "off")  # ABBA: no side always first
            for which in order:
                runs[which].append(run_child(which, model, args.epochs, "", args.snapshots))
                print(f"  pair {i + 1} {which}: {runs[which][-1]['steps_ex_per_s']:,.0f} ex/s", flush=True)
        ratios = [on["steps_ex_per_s"] / off["steps_ex_per_s"] for off, on in zip(runs["off"], runs["snapshots"])]
        med = {w: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for w, rs in runs.items()}
        cost = snapshot_cost_s(model)
        fastest = max(r["steps_ex_per_s"] for r in runs["off"])  # the shortest run: the largest share
        steps_s = 60_000 * args.epochs / fastest
        report["models"][model] = {**med, "pair_ratio_median": statistics.median(ratios), "snapshot_s": cost,
                                   "added_share": args.snapshots * cost / steps_s, "runs": runs}
        for which in ("off", "snapshots"):
            r = med[which]
            print(f"{model:8} {which:9} process {r['process_s']:5.1f} s, steps {r['steps_ex_per_s']:8,.0f} ex/s, "
                  f"test acc {r['test_acc']:.3f}")
        print(f"{model:8} snapshots/off, steps ex/s: median of pair ratios {statistics.median(ratios):.3f} "
              f"(pairs: {', '.join(f'{r:.3f}' for r in ratios)})")
        print(f"{model:8} one snapshot adds {cost * 1e3:.2f} ms; {args.snapshots} of them "
              f"{100 * args.snapshots * cost / steps_s:.2f} % of the fastest run's {steps_s:.1f} s of steps")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train_throughput_snapshots.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
