"""Command line: ``python -m lenet_viz train|evaluate ...``."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

import torch

from lenet_viz.checkpoints import load_checkpoint, save_checkpoint
from lenet_viz.data import DATA_ENV, DATASETS, load_dataset, take_subset
from lenet_viz.errors import LenetVizError
from lenet_viz.history import (
    DEFAULT_SNAPSHOTS,
    MAX_SNAPSHOTS,
    Offset,
    Progress,
    Snapshot,
    bounded_snapshots,
    offset_after,
    thin,
)
from lenet_viz.model_store import save_samples
from lenet_viz.models import PRESETS, build_model
from lenet_viz.run_data import KEPT_BATCH_SIZE, RunData, continue_data, taught_recipe
from lenet_viz.run_slots import RunRefused
from lenet_viz.teach import DATASET as TAUGHT_DATASET
from lenet_viz.training import TrainConfig, evaluate, pick_device, start_device_init, train


class UsageError(LenetVizError, ValueError):
    """Arguments that do not fit together or with the data."""


def index_range(text: str) -> slice:
    """``"5000:10000"`` → ``slice(5000, 10000)``; either end may be empty."""
    try:
        start, stop = (int(p) if p else None for p in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range like 5000:10000") from None
    if (start or 0) < 0 or (stop is not None and stop < (start or 0)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid range of indices")
    return slice(start, stop)


def snapshots_arg(text: str) -> int:
    """``--snapshots``: 0 (off) up to the most a checkpoint keeps."""
    value = int(text)
    if not 0 <= value <= MAX_SNAPSHOTS:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_SNAPSHOTS}, got {text}")
    return value


def positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


class DefaultsInHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Each flag's default in the help, unless its help says it (one that depends on the checkpoint)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None and "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist", help="dataset")
    p.add_argument("--data-dir", help=f"folder with the IDX files (default: ${DATA_ENV}, then standard places)")
    p.add_argument("--download", action="store_true", help="download with torchvision if not found (needs internet)")
    p.add_argument("--test-range", "--range", dest="test_range", type=index_range, default=slice(None),
                   help="use only these test images, by index, e.g. 5000:10000")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lenet_viz", description="Train and evaluate LeNet.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a LeNet and save a checkpoint",
                       formatter_class=DefaultsInHelp)
    _data_args(t)
    t.add_argument("--model", choices=sorted(PRESETS), default="classic", help="network preset")
    t.add_argument("--epochs", type=positive(int), default=10, help="passes over the training set")
    t.add_argument("--lr", type=positive(float), help="learning rate (default: 0.9; continuing a taught "
                   "network, the one Teach trained it with)")
    t.add_argument("--batch-size", type=positive(int), help=f"examples per step (default: 256; continuing a "
                   f"taught network, {KEPT_BATCH_SIZE})")
    t.add_argument("--optimizer", choices=("sgd", "adam"), help="optimizer (default: sgd; continuing a taught "
                   "network, the one Teach trained it with)")
    t.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    t.add_argument("--seed", type=int, default=0, help="random seed")
    t.add_argument("--subset", type=positive(int), help="train on only this many random training images")
    t.add_argument("--add-test-range", type=index_range,
                   help="also train on these test images, e.g. 0:5000 (then evaluate on the rest)")
    t.add_argument("--augment", action="store_true", help="random shifts, rotations, scale and stroke width")
    t.add_argument("--out", type=Path, help="where to save the checkpoint (.pt); written at every epoch end")
    t.add_argument("--resume", type=Path, help="continue training this checkpoint (its network and weights; "
                   "--model is ignored, the history and snapshots go on); a network taught on the Teach page "
                   "goes on with the drawings its checkpoint keeps (--dataset is then ignored)")
    t.add_argument("--snapshots", type=snapshots_arg, default=DEFAULT_SNAPSHOTS,
                   help="weight snapshots kept in the checkpoint for the replay view, log-spaced in steps "
                   "(float16; a LeNet's 24 add 3.0 MB); 0 turns them off")
    t.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=True,
                   help="on CUDA, capture the training step once as a CUDA graph and replay it (much faster "
                   "at small batches); elsewhere the steps run eagerly either way")

    e = sub.add_parser("evaluate", help="test accuracy of a saved checkpoint",
                       formatter_class=DefaultsInHelp)
    e.add_argument("checkpoint", type=Path, help="a .pt file saved by train or by the app")
    _data_args(e)

    s = sub.add_parser("samples", help="pick a few test images per class for the app's sample picker",
                       formatter_class=DefaultsInHelp)
    _data_args(s)
    s.add_argument("--per-class", type=positive(int), default=3, help="images per class (the first ones in range)")
    s.add_argument("--out", type=Path, required=True, help="the .npz file to write (images, labels, classes)")
    return parser


class ProgressPrinter:
    """A one-line progress bar on a terminal, one line per epoch otherwise."""

    def __init__(self, epochs: int, stream=sys.stderr):
        self.epochs, self.stream, self.tty = epochs, stream, stream.isatty()

    def __call__(self, p: Progress) -> None:
        done = int(30 * p.step / p.total_steps)
        line = (f"epoch {p.epoch:5.2f}/{self.epochs} [{'#' * done}{'.' * (30 - done)}] "
                f"loss {p.train_loss:.3f}, train acc {p.train_acc:.3f}"
                + (f", test acc {p.test_acc:.3f}" if p.test_acc is not None else "")
                + f", {p.examples_per_sec:,.0f} ex/s")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if p.test_acc is not None else ""))
            self.stream.flush()
        elif p.test_acc is not None:
            print(line, file=self.stream, flush=True)


class RunRecord:
    """What ``train`` keeps of a run, continued from a checkpoint's: history and snapshots at their
    global epochs and steps, written to ``--out`` at every epoch end (a killed run resumes from there)."""

    def __init__(self, cap: int, history: tuple[Progress, ...] = (), snapshots: tuple[Snapshot, ...] = ()):
        self.history, self.snapshots, self.cap = list(history), list(snapshots), cap
        self.offset: Offset = offset_after(history)

    def add_progress(self, p: Progress) -> None:
        self.history.append(self.offset.shift(p))

    def add_snapshot(self, s: Snapshot) -> None:
        kept = self.offset.shift_snapshot(s)
        if not self.snapshots or self.snapshots[-1].step != kept.step:  # a continuation's step 0 repeats
            self.snapshots.append(kept)
        self.snapshots = thin(self.snapshots, self.cap)


def training_split(args: argparse.Namespace, data) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images: a subset, plus test images when asked (never those tested on)."""
    images, labels = take_subset((data.train_images, data.train_labels), args.subset, args.seed)
    if args.add_test_range:
        extra = args.add_test_range
        overlap = range(len(data.test_images))[extra]
        if set(overlap) & set(range(len(data.test_images))[args.test_range]):
            raise UsageError("--add-test-range overlaps --test-range: never train on the images you test on")
        images = torch.cat([images, data.test_images[extra]])
        labels = torch.cat([labels, data.test_labels[extra]])
    return images, labels


def taught_run(args: argparse.Namespace, ckpt) -> RunData:
    """The drawings a taught network's checkpoint keeps, split as the Teach page split them: the
    network goes on learning them (a dataset's options do not apply to them)."""
    given = [flag for flag, value in (("--subset", args.subset), ("--add-test-range", args.add_test_range),
                                      ("--augment", args.augment)) if value]
    if given:
        raise UsageError(f"{args.resume} is a network taught on drawings: {', '.join(given)} cannot apply to them")
    try:
        return continue_data(ckpt, args.dataset)
    except RunRefused as exc:
        raise UsageError(f"{args.resume}: {exc}") from None


def cmd_train(args: argparse.Namespace) -> int:
    device_init = start_device_init(args.device)  # CUDA starts up while the data loads
    ckpt = load_checkpoint(args.resume) if args.resume else None
    taught = ckpt is not None and (ckpt.examples is not None or ckpt.dataset == TAUGHT_DATASET)
    if taught:
        run = taught_run(args, ckpt)
        (train_images, train_labels), (test_images, test_labels) = run.train, run.test
        dataset, classes, source = run.dataset, run.classes, "kept in the checkpoint"
        recipe = taught_recipe(ckpt)
    else:
        data = load_dataset(args.dataset, args.data_dir, args.download)
        test_images, test_labels = data.test_images[args.test_range], data.test_labels[args.test_range]
        train_images, train_labels = training_split(args, data)
        dataset, classes, source = args.dataset, data.classes, data.source
        recipe = TrainConfig()
    if ckpt is not None:
        if not taught and ckpt.dataset and ckpt.dataset != args.dataset:
            raise UsageError(f"{args.resume} was trained on {ckpt.dataset}; pass --dataset {ckpt.dataset}")
        spec, model, name = ckpt.spec, ckpt.model, str(ckpt.config.get("model", "checkpoint"))
        earlier = ckpt.history, ckpt.snapshots
    else:
        spec, name, earlier = PRESETS[args.model], args.model, ((), ())
        model = build_model(spec)
    params = sum(p.numel() for p in model.parameters())
    record = RunRecord(bounded_snapshots(MAX_SNAPSHOTS, params), *earlier)
    if args.resume:
        print(f"resuming {args.resume} after {record.offset.epoch:g} epochs", file=sys.stderr)
    config = TrainConfig(epochs=args.epochs, lr=args.lr or recipe.lr, batch_size=args.batch_size or recipe.batch_size,
                         optimizer=args.optimizer or recipe.optimizer, device=args.device, seed=args.seed,
                         augment=args.augment)
    if device_init is not None:
        device_init.join()
    pick_device(args.device)  # fail early on a device that is not there
    print(f"training {name} on {len(train_images):,} {dataset} images "
          f"({source}), testing on {len(test_images):,}", file=sys.stderr)
    printer = ProgressPrinter(args.epochs)
    meta = {**config.to_dict(), "model": name, "train_images": len(train_images)}

    def save() -> None:
        save_checkpoint(args.out, model, spec, dataset, classes, record.history, meta, record.snapshots,
                        ckpt.examples if taught else None)

    def on_progress(p: Progress) -> None:
        printer(p)
        record.add_progress(p)
        if args.out and p.test_acc is not None:  # every epoch end: a killed run resumes from here
            save()

    result = train(model, (train_images, train_labels), (test_images, test_labels), config,
                   on_progress=on_progress, fresh_weights=not args.resume,
                   snapshots=bounded_snapshots(args.snapshots, params),
                   on_snapshot=record.add_snapshot, cuda_graphs=args.cuda_graphs)
    print(result.step_path, file=sys.stderr)
    if result.status != "finished":
        print(result.message, file=sys.stderr)
    print(result.summary())
    if args.out and result.status != "diverged":
        save()
        print(f"saved {args.out} ({len(record.snapshots)} snapshots)", file=sys.stderr)
    return 0 if result.status == "finished" else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    data = load_dataset(args.dataset, args.data_dir, args.download)
    images, labels = data.test_images[args.test_range], data.test_labels[args.test_range]
    if not len(images):
        raise UsageError("the test range selects no images")
    acc = evaluate(ckpt.model, (images, labels), torch.device("cpu"))
    print(f"test acc {acc:.4f} on {len(images)} images")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    data = load_dataset(args.dataset, args.data_dir, args.download)
    offset = args.test_range.start or 0
    labels = data.test_labels[args.test_range]
    picked = [offset + int(i) for c in range(len(data.classes))
              for i in (labels == c).nonzero().flatten()[:args.per_class]]
    save_samples(args.out, data.test_images[picked], data.test_labels[picked], data.classes, picked)
    print(f"saved {len(picked)} {args.dataset} test images to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    # The hundreds of thousands of objects that importing torch creates live until exit: moved
    # out of the garbage collector's sight, they cost no more full collections, and the exit is
    # 0.3 s quicker (a quarter of the whole-process gain in benchmarks/README.md).
    gc.freeze()
    args = build_parser().parse_args(argv)
    try:
        return {"train": cmd_train, "evaluate": cmd_evaluate, "samples": cmd_samples}[args.command](args)
    except LenetVizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
