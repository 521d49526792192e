"""How long the feature-maps page's server side takes for a drawing (the inspector's rerun).

The maps are drawn in the browser and a pen lift sends nothing; with the unit inspector open, a
click or a pen lift sends the 28×28 input the browser computed, and the inspector reruns.
Times each step of one rerun on a synthetic drawing of a 7: reading that input, the forward pass,
the kernel and unit-inspector figures, and serialising them to JSON as ``st.plotly_chart`` does.
Uses the bundled models when present, otherwise untrained presets; then times the whole page
script in AppTest. Prints a table and writes ``benchmarks/results/feature_map_rerun.json``.

Run: ``.venv/bin/python benchmarks/feature_map_rerun.py [--repeats 30]``
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import plotly.io as pio
import plotly.tools
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lenet_viz import activations, preprocess  # noqa: E402
from lenet_viz.checkpoints import load_checkpoint  # noqa: E402
from lenet_viz.figures import feature_maps as ff  # noqa: E402
from lenet_viz.model_store import bundled_models  # noqa: E402
from lenet_viz.models import PRESETS, build_model, layer_plan  # noqa: E402

BUDGET_MS = 150.0
RESULTS = ROOT / "benchmarks" / "results" / "feature_map_rerun.json"


def canvas_png() -> bytes:
    """A white-on-black 7 as the canvas sends it (RGBA PNG, 280×280)."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line([(70, 60), (210, 60), (120, 240)], fill=(255, 255, 255, 255), width=20, joint="curve")
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def models() -> list[tuple[str, torch.nn.Module, object, tuple[str, ...]]]:
    found = [(m.key, load_checkpoint(m.path)) for m in bundled_models()]
    if found:
        return [(key, c.model, c.spec, c.classes) for key, c in found]
    return [(f"{name} (untrained)", build_model(PRESETS[name]).eval(), PRESETS[name], tuple("0123456789"))
            for name in ("classic", "modern")]


def drawn_input(png_url: str, size: int) -> list[int]:
    """The 28×28 input the page sends at pen lift, as its JSON list of 0..255 integers."""
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(png_url.split(";base64,", 1)[1]))))
    return preprocess.mnist_style(preprocess.rgba_to_gray(pixels), size).image.ravel().tolist()


def rerun(values: list[int], model, spec) -> dict[str, float]:
    """One page rerun's server work, timed per step (ms)."""
    times, t0 = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        times[name] = (now - t0) * 1e3
        t0 = now

    size = spec.input_size
    image = np.clip(np.asarray(values, dtype=np.int64), 0, 255).astype(np.uint8).reshape(size, size)
    x = preprocess.to_tensor(image, spec.in_channels)
    lap("read the page's input")
    acts = activations.run(model, spec, x)
    lap("forward")
    figures = []
    for name in (row.name for row in layer_plan(spec).layers if row.kind == "conv"):
        figures.append(ff.kernel_grid(name, getattr(model, name).weight.detach().numpy()))
    layer = acts.spatial[3].name if len(acts.spatial) > 3 else acts.spatial[0].name
    _, h, w = acts[layer].values.shape
    unit = activations.explain_unit(model, spec, acts, layer, 0, h // 2, w // 2)
    figures += [ff.unit_location(acts, unit), ff.unit_arithmetic(unit, 640)]
    activations.formula_latex(unit)
    lap("kernels + unit figures")
    for fig in figures:  # what st.plotly_chart does with a figure
        pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)
    lap("to JSON")
    times["total"] = sum(times.values())
    return times


def page_reruns(url: str, repeats: int) -> list[float]:
    """The whole page script after each new stroke with the inspector open, run by Streamlit's
    AppTest (ms): more than the browser's fragment rerun, plus AppTest's own bookkeeping. Empty
    without bundled models."""
    from streamlit.testing.v1 import AppTest

    from lenet_viz.netview_payload import Drawing
    from lenet_viz.page_state import FeatureMapsState

    if not bundled_models():
        return []
    at = AppTest.from_file(str(ROOT / "app_pages" / "feature_maps.py"), default_timeout=60).run()
    times, values = [], drawn_input(url, 28)
    for i in range(repeats + 1):
        values[300 + i] ^= 1  # a new input each time, as after every stroke
        image = np.asarray(values, np.uint8).reshape(28, 28)
        state = at.session_state[FeatureMapsState.state_key()]  # the page's, as a pen lift leaves it
        state.drawing, state.inspecting = Drawing(f"bench-{i}", 28, image), True
        start = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - start) * 1e3)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    url = "data:image/png;base64," + base64.b64encode(canvas_png()).decode()
    results = {}
    for key, model, spec, _ in models():
        values = drawn_input(url, spec.input_size)
        rerun(values, model, spec)  # warm-up: imports, caches
        runs = [rerun(values, model, spec) for _ in range(args.repeats)]
        results[key] = {name: {"median_ms": statistics.median(r[name] for r in runs),
                               "p90_ms": float(np.percentile([r[name] for r in runs], 90))} for name in runs[0]}
    width = max(len(k) for k in results) + 2
    steps = list(next(iter(results.values())))
    print(f"{'model':<{width}}" + "".join(f"{s:>24}" for s in steps))
    for key, row in results.items():
        print(f"{key:<{width}}" + "".join(f"{row[s]['median_ms']:>13.1f} (p90 {row[s]['p90_ms']:5.1f})"
                                          for s in steps))
    page = page_reruns(url, args.repeats)
    if page:
        print(f"\nwhole page script (AppTest, bundled digits model): median {statistics.median(page):.1f} ms, "
              f"p90 {np.percentile(page, 90):.1f} ms")
    worst = max(row["total"]["median_ms"] for row in results.values())
    verdict = "within" if worst < BUDGET_MS else "OVER"
    print(f"\nworst median total {worst:.1f} ms: {verdict} the {BUDGET_MS:.0f} ms budget "
          f"({args.repeats} repeats, {torch.get_num_threads()} torch threads)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "feature_map_rerun", "budget_ms": BUDGET_MS, "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()},
        "worst_median_total_ms": worst, "within_budget": worst < BUDGET_MS, "results": results,
        "page_rerun_apptest_ms": {"median": statistics.median(page), "p90": float(np.percentile(page, 90))}
        if page else None,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
