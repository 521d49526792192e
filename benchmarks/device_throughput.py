"""The engine's training speed on one device (the GPU when there is one) and where a step's time goes.

For each batch size: lenet_viz's ``train()`` on Fashion-MNIST held on the device, one warm-up
epoch, then timed epochs (examples/s as the engine reports them: the host waits for the device
only at progress reports), then test accuracy. Then a profile of the engine's steps at the first
batch size: the top kernels by device time on a GPU (the top aten ops by CPU time otherwise),
launches per step, and how busy the device was. On CUDA, ``--oom-check`` also trains with a batch
far too big for the card's memory and checks that the run ends with the engine's plain message
and that training works again afterwards.

On CUDA the engine captures its step as a CUDA graph (issue 25); ``--compare-graphs`` measures
each batch size both ways (graph, then ``cuda_graphs=False``), checks that 3 seeded epochs give
the same loss curve both ways (within 1% at every report; same snapshot steps and forms), and
times whole ``python -m lenet_viz train`` processes (10 epochs classic) with and without graphs.

    python benchmarks/device_throughput.py                       # auto device, classic, 256 1024 4096
    python benchmarks/device_throughput.py --device cpu --batch-sizes 256 --epochs 1
    python benchmarks/device_throughput.py --oom-check           # on a GPU
    python benchmarks/device_throughput.py --compare-graphs --oom-check   # on a GPU: issue 25's figures

Writes ``benchmarks/results/device_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from lenet_viz.data import load_dataset  # noqa: E402
from lenet_viz.models import PRESETS, build_model  # noqa: E402
from lenet_viz.training import TrainConfig, describe_device, evaluate, pick_device, train  # noqa: E402

LR = {"classic": 0.9, "modern": 0.1}


def throughput(model_name: str, data, device: torch.device, batch_size: int, epochs: int,
               cuda_graphs: bool = True) -> dict:
    """Examples/s of the engine's steps after a warm-up epoch, and the test accuracy after them."""
    model = build_model(PRESETS[model_name])
    config = TrainConfig(epochs=1, lr=LR[model_name], batch_size=batch_size, device=str(device))
    train_split = (data.train_images, data.train_labels)
    train(model, train_split, None, config, cuda_graphs=cuda_graphs)  # warm-up: kernels chosen, memory pooled
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    result = train(model, train_split, None, TrainConfig(**{**config.to_dict(), "epochs": epochs}), fresh_weights=False,
                   cuda_graphs=cuda_graphs)
    wall = time.perf_counter() - start
    row = {"batch_size": batch_size, "epochs": epochs, "status": result.status, "steps": str(result.step_path),
           "ex_per_s": result.examples_per_sec, "wall_ex_per_s": epochs * len(data.train_images) / wall,
           "test_acc_after_1_plus_epochs": evaluate(model, (data.test_images, data.test_labels), device)}
    if device.type == "cuda":
        row["peak_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return row


def step_profile(model_name: str, data, device: torch.device, batch_size: int, steps: int = 50, top: int = 15) -> dict:
    """Where the engine's steps spend their time: the top kernels (GPU) or aten ops (CPU)."""
    n = steps * batch_size
    split = (data.train_images[:n], data.train_labels[:n])
    model = build_model(PRESETS[model_name])
    config = TrainConfig(epochs=1, lr=LR[model_name], batch_size=batch_size, device=str(device))
    train(model, split, None, config)  # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        train(model, split, None, config, fresh_weights=False)
        wall_us = (time.perf_counter() - start) * 1e6
    if device.type == "cuda":
        events = [e for e in prof.key_averages() if e.device_type == DeviceType.CUDA]
        time_of = lambda e: e.self_device_time_total  # noqa: E731
    else:
        events = [e for e in prof.key_averages() if e.key.startswith("aten::")]
        time_of = lambda e: e.self_cpu_time_total  # noqa: E731
    total_us = sum(time_of(e) for e in events)
    ranked = sorted(events, key=time_of, reverse=True)
    return {
        "steps": steps, "batch_size": batch_size, "wall_us_per_step": wall_us / steps,
        "busy_us_per_step": total_us / steps,
        "launches_per_step": sum(e.count for e in events) / steps if device.type == "cuda" else None,
        "top": [{"name": e.key, "share": time_of(e) / total_us, "us_per_step": time_of(e) / steps,
                 "calls_per_step": e.count / steps} for e in ranked[:top]],
    }


def curve_check(model_name: str, data, device: torch.device, epochs: int = 3, batch_size: int = 256) -> dict:
    """The same seeded run with and without the CUDA graph: the largest relative difference of the
    train loss over all reports (one a step), and whether the snapshots have the same steps and form."""
    split = (data.train_images, data.train_labels)
    test = (data.test_images, data.test_labels)
    runs = {}
    for graphs in (True, False):
        config = TrainConfig(epochs=epochs, lr=LR[model_name], batch_size=batch_size, device=str(device),
                             report_every_s=0.0)
        runs[graphs] = train(build_model(PRESETS[model_name]), split, test, config, snapshots=24, cuda_graphs=graphs)
    graph, eager = runs[True], runs[False]
    worst = max(abs(a.train_loss - b.train_loss) / abs(b.train_loss) for a, b in zip(graph.history, eager.history))
    same_form = ([(s.step, {k: (v.shape, v.dtype) for k, v in s.state_dict.items()}) for s in graph.snapshots]
                 == [(s.step, {k: (v.shape, v.dtype) for k, v in s.state_dict.items()}) for s in eager.snapshots])
    passed = (len(graph.history) == len(eager.history) and worst < 0.01 and same_form
              and graph.status == eager.status == "finished")
    return {"epochs": epochs, "batch_size": batch_size, "reports": len(graph.history), "max_rel_loss_diff": worst,
            "snapshots_same_form": same_form, "graph_steps": str(graph.step_path), "passed": passed}


def whole_process(model_name: str, device: torch.device, epochs: int = 10, rounds: int = 2) -> dict:
    """Seconds of ``python -m lenet_viz train`` as a user runs it, with and without CUDA graphs, interleaved."""
    command = [sys.executable, "-m", "lenet_viz", "train", "--model", model_name, "--epochs", str(epochs),
               "--lr", str(LR[model_name]), "--device", str(device), "--snapshots", "24"]
    runs: dict[str, list[dict]] = {"graph": [], "eager": []}
    for _ in range(rounds):
        for which, flag in (("graph", "--cuda-graphs"), ("eager", "--no-cuda-graphs")):
            start = time.perf_counter()
            out = subprocess.run([*command, flag], capture_output=True, text=True, check=True, cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
            rate = re.search(r"([\d.]+) examples/sec", out.stdout)
            runs[which].append({"process_s": time.perf_counter() - start,
                                "cli_ex_per_s": float(rate.group(1)) if rate else None,
                                "steps": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""})
    return {"epochs": epochs, "rounds": rounds, "runs": runs}


def oom_check(model_name: str, data, device: torch.device) -> dict:
    """Train with one batch far larger than the card holds, then train normally again."""
    free, _ = torch.cuda.mem_get_info(device)
    per_image = 4 * 6 * 28 * 28 * 6  # float32 activations and their gradients, very roughly, for conv1 alone
    repeat = max(1, int(3 * free / per_image / len(data.train_images)) + 1)
    images = data.train_images.repeat(repeat, 1, 1)
    labels = data.train_labels.repeat(repeat)
    model = build_model(PRESETS[model_name])
    big = train(model, (images, labels), None,
                TrainConfig(epochs=1, lr=LR[model_name], batch_size=len(images), device=str(device)))
    del images, labels
    after = train(model, (data.train_images, data.train_labels), None,
                  TrainConfig(epochs=1, lr=LR[model_name], device=str(device)))
    return {"batch_size": len(data.train_images) * repeat, "free_mb_before": free / 2**20,
            "status": big.status, "message": big.message, "after_status": after.status,
            "passed": big.status == "error" and "Out of memory" in big.message and after.status == "finished"}


def compare_graphs(report: dict, model_name: str, data, device: torch.device, args: argparse.Namespace) -> None:
    """Add the eager rows, the curve check and the whole-process pair to ``report`` (which has the graph rows)."""
    eager = [throughput(model_name, data, device, b, args.epochs, cuda_graphs=False) for b in args.batch_sizes]
    report["eager_throughput"] = eager
    print(f"\n{model_name}, CUDA graph against eager steps:")
    print(f"  {'batch':>6} {'eager ex/s':>11} {'graph ex/s':>11} {'×':>5}")
    for g, e in zip(report["throughput"], eager):
        speedup = g["ex_per_s"] / e["ex_per_s"]
        print(f"  {g['batch_size']:6} {e['ex_per_s']:11,.0f} {g['ex_per_s']:11,.0f} {speedup:5.1f}")
    print(f"  graph rows: {report['throughput'][0]['steps']}")
    curves = report["curve_check"] = curve_check(model_name, data, device)
    print(f"\nsame seed, {curves['epochs']} epochs, graph vs eager: {curves['reports']} reports, loss differs by at "
          f"most {curves['max_rel_loss_diff']:.3%}, snapshots of the same form: {curves['snapshots_same_form']} → "
          f"{'PASS' if curves['passed'] else 'FAIL'}")
    process = report["whole_process"] = whole_process(model_name, device)
    print(f"\nwhole process, python -m lenet_viz train, {process['epochs']} epochs, interleaved:")
    for which, runs in process["runs"].items():
        print(f"  {which:5} " + ", ".join(f"{r['process_s']:.2f} s ({r['cli_ex_per_s'] or 0:,.0f} ex/s)" for r in runs)
              + f"  [{runs[-1]['steps']}]")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--models", nargs="+", default=["classic"], choices=sorted(LR))
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[256, 1024, 4096])
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per batch size, after a warm-up epoch")
    p.add_argument("--oom-check", action="store_true", help="(CUDA) a batch too big for the card, then a normal run")
    p.add_argument("--compare-graphs", action="store_true",
                   help="(CUDA) each batch size with and without the CUDA graph, the loss curves of both, and "
                   "whole CLI processes (10 epochs) both ways")
    args = p.parse_args()

    device = pick_device(args.device)
    data = load_dataset("fashion-mnist")
    report = {"device": describe_device(device), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "models": {}}
    print(f"{report['device']}, torch {report['torch']}, Fashion-MNIST held on the device")
    for model_name in args.models:
        rows = [throughput(model_name, data, device, b, args.epochs) for b in args.batch_sizes]
        prof = step_profile(model_name, data, device, args.batch_sizes[0])
        report["models"][model_name] = {"throughput": rows, "profile": prof}
        if args.compare_graphs and device.type == "cuda":
            compare_graphs(report["models"][model_name], model_name, data, device, args)
        print(f"\n{model_name}: {'batch':>6} {'engine ex/s':>12} {'wall ex/s':>11} {'test acc':>9}")
        for r in rows:
            print(f"{'':{len(model_name)}}  {r['batch_size']:6} {r['ex_per_s']:12,.0f} {r['wall_ex_per_s']:11,.0f} "
                  f"{r['test_acc_after_1_plus_epochs']:9.3f}" + (f"  peak {r['peak_memory_mb']:,.0f} MB"
                                                                   if "peak_memory_mb" in r else ""))
        what = "kernel" if device.type == "cuda" else "aten op"
        print(f"\nprofile of {prof['steps']} steps at batch {prof['batch_size']}: {prof['wall_us_per_step']:,.0f} µs "
              f"wall per step, {prof['busy_us_per_step']:,.0f} µs of {what} time per step"
              + (f", {prof['launches_per_step']:.0f} launches per step" if prof["launches_per_step"] else ""))
        for t in prof["top"]:
            print(f"  {t['share']:6.1%} {t['us_per_step']:8.1f} µs  ×{t['calls_per_step']:<4g} {t['name'][:90]}")
    if args.compare_graphs and device.type != "cuda":
        print("\n--compare-graphs needs a CUDA device; skipped")
    if args.oom_check:
        if device.type != "cuda":
            print("\n--oom-check needs a CUDA device; skipped")
        else:
            report["oom_check"] = oom_check(args.models[0], data, device)
            print(f"\nout-of-memory check: batch {report['oom_check']['batch_size']:,} → "
                  f"{report['oom_check']['status']}: {report['oom_check']['message']}; a normal run afterwards "
                  f"{report['oom_check']['after_status']} → {'PASS' if report['oom_check']['passed'] else 'FAIL'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "device_throughput.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
