// Training replay: a time slider (and Play) over a run's weight snapshots; at the chosen one, the
// input's maps in every layer, the conv1 kernels, the ten probabilities and the prediction; the
// loss/accuracy curves with a marker; the input's probabilities across all snapshots. Every
// snapshot is decoded once (lenet.js decode) and run in the page: scrubbing never asks the server.
// mountReplay puts it in any element. Nothing from the user or a checkpoint becomes HTML: text goes
// in with textContent.

import { colourScale, GRAY, RDBU, valueRange, VIRIDIS } from "./colours.js";
import { el, layerTitle, probabilityBars, say, shownLayers } from "./draw.js";
import { metric as num, percent as pct } from "./format.js";
import { forward, net } from "./lenet.js";

const PLAY_MS = 450; // per snapshot while playing
const PERF = (globalThis.__replay ??= { latencies: [], paints: 0 }); // read by tests and benchmarks
const CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];
const FINAL_COLOUR = "#111"; // the class the final model predicts: the line to watch

// ---- maps: one canvas per layer, its maps tiled, one colour scale per layer ----------------------
const GAP = 1;
const SHOWN_WIDTH = 540; // CSS pixels after which a layer's maps wrap
const STRIP = 30; // a flat layer (fc, its activation) is shown as rows of this many units

// Maps side by side (wrapping after ~SHOWN_WIDTH CSS pixels), each drawn `zoom` CSS pixels per cell:
// small maps larger, so that a 5×5 map is as readable as a 28×28 one.
function tileLayout(c, h, w, flat, maxWidth) {
  const zoom = Math.max(1, Math.min(flat ? 8 : Math.min(6, Math.floor(84 / w)), Math.floor(maxWidth / w)));
  const cols = Math.max(1, Math.min(c, Math.floor((maxWidth + GAP * zoom) / ((w + GAP) * zoom))));
  const rows = Math.ceil(c / cols);
  return { cols, rows, zoom, width: cols * (w + GAP) - GAP, height: rows * (h + GAP) - GAP };
}

// Paint C×H×W values (or N values as rows of STRIP) into the layer's canvas, one scale for the layer,
// at most `maxWidth` CSS pixels wide (a phone's column).
function paintLayer(canvas, values, shape, table, signed, maxWidth = SHOWN_WIDTH) {
  const [lo, hi] = valueRange(values);
  const colour = colourScale(lo, hi, signed);
  const flat = shape.length !== 3;
  const [c, h, w] = flat ? [1, Math.ceil(shape[0] / Math.min(shape[0], STRIP)), Math.min(shape[0], STRIP)] : shape;
  const layout = tileLayout(c, h, w, flat, maxWidth);
  if (canvas.width !== layout.width || canvas.height !== layout.height) {
    canvas.width = layout.width;
    canvas.height = layout.height;
  }
  canvas.style.width = `${layout.width * layout.zoom}px`;
  canvas.style.height = `${layout.height * layout.zoom}px`;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(layout.width, layout.height);
  const px = image.data; // all transparent: the gaps between maps stay so
  for (let m = 0; m < c; m++) {
    const x0 = (m % layout.cols) * (w + GAP), y0 = Math.floor(m / layout.cols) * (h + GAP);
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        const index = (m * h + r) * w + col;
        if (index >= values.length) break;
        const k = colour(values[index]);
        const p = ((y0 + r) * layout.width + x0 + col) * 4;
        px[p] = table[k]; px[p + 1] = table[k + 1]; px[p + 2] = table[k + 2]; px[p + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return { lo, hi };
}

// ---- charts ------------------------------------------------------------------------------------
function sizeCanvas(canvas) {
  const ratio = globalThis.devicePixelRatio || 1;
  const width = Math.max(200, canvas.clientWidth || 320), height = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

const PAD = { left: 40, right: 40, top: 10, bottom: 22 };

function axes(ctx, width, height, xLabel) {
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(PAD.left, PAD.top);
  ctx.lineTo(PAD.left, height - PAD.bottom);
  ctx.lineTo(width - PAD.right, height - PAD.bottom);
  ctx.stroke();
  ctx.fillStyle = "#777";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(xLabel, (PAD.left + width - PAD.right) / 2, height - 6);
}

function polyline(ctx, points, colour, width = 1.5) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  let open = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(y)) { open = false; continue; }
    if (open) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    open = true;
  }
  ctx.stroke();
}

// Loss (left axis) and train/test accuracy (right axis, 0..1) against the step, marker at `step`.
function drawCurves(view, step) {
  const { ctx, width, height } = sizeCanvas(view.curves);
  const points = view.data.history.length ? view.data.history : view.data.set_info;
  const steps = points.map((p) => p.step);
  const maxStep = Math.max(1, ...steps, ...view.data.set_info.map((s) => s.step));
  const losses = points.map((p) => p.loss).filter((v) => Number.isFinite(v));
  const maxLoss = Math.max(1e-9, ...losses.map((v) => Math.min(v, 10)));
  const X = (s) => PAD.left + (s / maxStep) * (width - PAD.left - PAD.right);
  const YL = (v) => height - PAD.bottom - (Math.min(v, maxLoss) / maxLoss) * (height - PAD.top - PAD.bottom);
  const YA = (v) => height - PAD.bottom - v * (height - PAD.top - PAD.bottom);
  axes(ctx, width, height, say(view.data?.texts, "axis_step"));
  polyline(ctx, points.map((p) => [X(p.step), p.loss === null ? NaN : YL(p.loss)]), "#d62728");
  polyline(ctx, points.map((p) => [X(p.step), p.train_acc === null ? NaN : YA(p.train_acc)]), "#1f77b4");
  const tested = points.filter((p) => p.test_acc !== null);
  polyline(ctx, tested.map((p) => [X(p.step), YA(p.test_acc)]), "#2ca02c");
  ctx.fillStyle = "#2ca02c";
  for (const p of tested) ctx.fillRect(X(p.step) - 2, YA(p.test_acc) - 2, 4, 4);
  ctx.strokeStyle = "#ff9800";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(X(step), PAD.top);
  ctx.lineTo(X(step), height - PAD.bottom);
  ctx.stroke();
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  ctx.fillStyle = "#d62728";
  ctx.fillText(num(maxLoss), PAD.left - 4, PAD.top + 8);
  ctx.fillText("0", PAD.left - 4, height - PAD.bottom);
  ctx.textAlign = "left";
  ctx.fillStyle = "#1f77b4";
  ctx.fillText("1", width - PAD.right + 4, PAD.top + 8);
  ctx.fillText("0", width - PAD.right + 4, height - PAD.bottom);
  ctx.textAlign = "right";
  ctx.fillText(String(maxStep), width - PAD.right, height - 6);
}

// The input's ten probabilities across the snapshots (x: snapshot index), marker at `index`.
function drawTrajectories(view, index) {
  const { ctx, width, height } = sizeCanvas(view.trajectory);
  const probs = view.trajectories;
  const n = probs.length;
  const X = (i) => PAD.left + (n > 1 ? i / (n - 1) : 0) * (width - PAD.left - PAD.right);
  const Y = (v) => height - PAD.bottom - v * (height - PAD.top - PAD.bottom);
  axes(ctx, width, height, say(view.data?.texts, "axis_snapshot"));
  const final = view.finalPrediction;
  const classes = probs[0]?.length ?? 0;
  for (let c = 0; c < classes; c++) {
    if (c === final) continue;
    polyline(ctx, probs.map((p, i) => [X(i), Y(p[c])]), CLASS_COLOURS[c % 10] + "99", 1.2);
  }
  if (final !== null) polyline(ctx, probs.map((p, i) => [X(i), Y(p[final])]), FINAL_COLOUR, 3);
  ctx.strokeStyle = "#ff9800";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(X(index), PAD.top);
  ctx.lineTo(X(index), height - PAD.bottom);
  ctx.stroke();
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  ctx.fillStyle = "#777";
  ctx.fillText("1", PAD.left - 4, PAD.top + 8);
  ctx.fillText("0", PAD.left - 4, height - PAD.bottom);
}

// The fixed words, in the language of this rerun (it may have just changed).
function words(view) {
  for (const [node, key] of view.words) node.textContent = say(view.data?.texts, key);
  for (const [node, key] of view.labels) node.setAttribute("aria-label", say(view.data?.texts, key));
  view.play.textContent = say(view.data?.texts, view.timer ? "pause" : "play");
}

// ---- the view ----------------------------------------------------------------------------------
function createView(parent) {
  const root = el("div", "rp-root");
  const controls = el("div", "rp-controls");
  const play = el("button", "rp-play");
  play.type = "button";
  const slider = el("input", "rp-slider");
  Object.assign(slider, { type: "range", min: "0", max: "0", step: "1", value: "0" });
  const status = el("div", "rp-status");
  const slot = el("div", "rp-slot"); // other features' controls (the 3D view's)
  controls.append(play, slider, status, slot);

  const top = el("div", "rp-top");
  const predictionBox = el("div", "rp-prediction");
  const prediction = el("div", "rp-prediction-text");
  prediction.setAttribute("aria-live", "polite");
  const bars = el("div", "nv-bars");
  const predictionHeading = el("div", "rp-heading");
  predictionBox.append(predictionHeading, prediction, bars);
  const curvesBox = el("div", "rp-chart");
  const curves = el("canvas", "rp-curves");
  const legend = el("div", "rp-legend");
  const keys = [];
  for (const [key, colour] of [["loss", "#d62728"], ["train_acc", "#1f77b4"], ["test_acc", "#2ca02c"],
    ["this_snapshot", "#ff9800"]]) {
    const item = el("span", "rp-key");
    item.style.setProperty("--key", colour);
    legend.append(item);
    keys.push([item, key]);
  }
  const curvesHeading = el("div", "rp-heading");
  curvesBox.append(curvesHeading, curves, legend);
  const trajectoryBox = el("div", "rp-chart");
  const trajectory = el("canvas", "rp-trajectory");
  const trajectoryLegend = el("div", "rp-legend");
  const trajectoryHeading = el("div", "rp-heading");
  trajectoryBox.append(trajectoryHeading, trajectory, trajectoryLegend);
  top.append(predictionBox, curvesBox, trajectoryBox);

  const kernelsBox = el("div", "rp-kernels");
  const layersBox = el("div", "rp-layers");
  root.append(controls, top, kernelsBox, layersBox);
  parent.querySelector(":scope > .rp-root")?.remove(); // a stale view; Streamlit's <style> stays
  parent.append(root);

  const view = { root, slot, hooks: {}, play, slider, status, prediction, bars, curves, trajectory, trajectoryLegend, kernelsBox,
    layersBox, index: 0, timer: null, frame: 0, pendingSince: null, model: null, layerCanvases: new Map(),
    words: [[predictionHeading, "prediction_heading"], [curvesHeading, "curves_heading"],
      [trajectoryHeading, "trajectory_heading"], ...keys],
    labels: [[slider, "slider"], [curves, "curves_label"], [trajectory, "trajectory_label"]] };
  slider.addEventListener("input", () => {
    stop(view);
    view.pendingSince ??= performance.now();
    schedule(view, Number(slider.value));
  });
  play.addEventListener("click", () => (view.timer ? stop(view) : start(view)));
  return view;
}

function start(view) {
  const last = view.model.sets.length - 1;
  if (view.index >= last) schedule(view, 0);
  view.play.textContent = say(view.data?.texts, "pause");
  view.timer = setInterval(() => {
    if (view.index >= last) { stop(view); return; }
    view.pendingSince ??= performance.now();
    schedule(view, view.index + 1);
  }, PLAY_MS);
}

function stop(view) {
  if (view.timer) clearInterval(view.timer);
  view.timer = null;
  view.play.textContent = say(view.data?.texts, "play");
}

// At most one repaint per animation frame, whatever the slider does.
function schedule(view, index) {
  view.index = index;
  view.slider.value = String(index);
  if (view.frame) return;
  view.frame = requestAnimationFrame(() => {
    view.frame = 0;
    render(view);
    if (view.pendingSince !== null) {
      PERF.latencies.push(performance.now() - view.pendingSince);
      view.pendingSince = null;
    }
  });
}

function inputOf(view) {
  const d = view.data;
  const plane = d.size * d.size;
  const input = new Float32Array(d.channels * plane);
  for (let c = 0; c < d.channels; c++) for (let i = 0; i < plane; i++) input[c * plane + i] = d.input[i] / 255;
  return input;
}

// The forward pass of every snapshot for this input: the probabilities chart and the prediction.
function runAll(view) {
  const input = inputOf(view);
  view.input = input;
  view.results = view.model.sets.map((_, i) => forward(net(view.model, i), input));
  view.trajectories = view.results.map((r) => r.probabilities);
  view.finalPrediction = view.results.length ? view.results[view.results.length - 1].prediction : null;
  const classes = view.data.classes;
  view.trajectoryLegend.replaceChildren();
  classes.forEach((name, c) => {
    const item = el("span", "rp-key" + (c === view.finalPrediction ? " rp-key-strong" : ""), name);
    item.style.setProperty("--key", c === view.finalPrediction ? FINAL_COLOUR : CLASS_COLOURS[c % 10]);
    view.trajectoryLegend.append(item);
  });
}

function buildLayers(view) {
  view.bars.replaceChildren(); // the class names are the model's
  view.layerCanvases.clear();
  view.layersBox.replaceChildren();
  view.titles = [];
  const d = view.data;
  const shown = shownLayers(d.layers, d.channels, d.size);
  for (const layer of shown) {
    const section = el("section", "rp-layer");
    section.dataset.layer = layer.name;
    const heading = el("div", "rp-layer-title");
    section.append(heading);
    view.titles.push([heading, layer]);
    const canvas = el("canvas", "rp-layer-canvas" + (layer.output_shape.length === 3 ? "" : " rp-strip"));
    canvas.dataset.layer = layer.name;
    const scale = el("div", "rp-scale");
    section.append(canvas, scale);
    view.layersBox.append(section);
    view.layerCanvases.set(layer.name, { canvas, scale, layer });
  }
  const conv1 = d.layers.find((l) => l.kind === "conv");
  view.kernelsBox.replaceChildren();
  view.conv1 = view.kernelsHeading = null;
  if (conv1) {
    view.kernelsHeading = el("div", "rp-heading");
    view.kernelsBox.append(view.kernelsHeading);
    view.kernelCanvas = el("canvas", "rp-kernel-canvas");
    view.kernelCanvas.dataset.layer = conv1.name + ".weight";
    view.kernelScale = el("div", "rp-scale");
    view.kernelsBox.append(view.kernelCanvas, view.kernelScale);
    view.conv1 = conv1;
  }
  headings(view);
}

// The layer and kernel headings, again at each rerun: the language may have changed.
function headings(view) {
  for (const [node, layer] of view.titles ?? []) node.textContent = layerTitle(layer, view.data?.texts);
  const conv1 = view.conv1;
  if (conv1 && view.kernelsHeading) {
    view.kernelsHeading.textContent = say(view.data?.texts, conv1.input_shape[0] > 1 ? "kernels" : "kernels_one", {
      name: conv1.name, filters: conv1.output_shape[0], channels: conv1.input_shape[0], k: conv1.geometry.kernel });
  }
}

function render(view) {
  if (!view.model || !view.results) return;
  const d = view.data;
  const i = Math.min(view.index, view.results.length - 1);
  const result = view.results[i];
  const info = d.set_info?.[i] ?? {};
  view.status.textContent = say(view.data?.texts, "status", { index: i + 1, count: view.results.length, step: info.step ?? "–",
    epoch: info.epoch === null || info.epoch === undefined ? "–" : info.epoch.toFixed(2), loss: num(info.loss),
    train: pct(info.train_acc), test: pct(info.test_acc) });
  const p = result.probabilities;
  const best = result.prediction;
  const confident = p[best] >= 0.5;
  view.prediction.textContent = `${d.classes[best] ?? best} (${pct(p[best])})` + (confident ? "" : say(view.data?.texts, "unsure"));
  view.prediction.dataset.prediction = d.classes[best] ?? String(best);
  view.prediction.dataset.confidence = String(p[best]);
  view.prediction.classList.toggle("rp-unsure", !confident);
  probabilityBars(view.bars, p, d.classes, best, pct);
  const maxWidth = Math.max(60, Math.min(SHOWN_WIDTH, (view.layersBox.clientWidth || SHOWN_WIDTH) - 8));
  for (const [name, { canvas, scale, layer }] of view.layerCanvases) {
    const values = name === "input" ? view.input : result.outputs[name];
    const signed = layer.kind === "conv" || layer.kind === "linear";
    const table = name === "input" ? GRAY : signed ? RDBU : VIRIDIS;
    const { lo, hi } = paintLayer(canvas, values, layer.output_shape, table, signed, maxWidth);
    scale.textContent = `${num(lo)} … ${num(hi)}`;
  }
  if (view.conv1) {
    const w = net(view.model, i).byName[view.conv1.name].weight;
    const [out, cin] = [view.conv1.output_shape[0], view.conv1.input_shape[0]];
    const k = view.conv1.geometry.kernel;
    const { lo, hi } = paintLayer(view.kernelCanvas, w, [out * cin, k, k], RDBU, true, maxWidth);
    view.kernelScale.textContent = `${num(lo)} … ${num(hi)}`;
  }
  view.hooks.onResult?.(result, net(view.model, i), d.layers);
  drawCurves(view, info.step ?? 0);
  drawTrajectories(view, i);
  PERF.paints += 1;
}

// A rerun's data on `model` (decoded, every snapshot): the input, words and class names may have changed.
function update(view, d, model) {
  if (d.label !== null && d.label !== undefined) view.root.dataset.truth = d.label;
  else delete view.root.dataset.truth;
  const inputChanged = JSON.stringify(view.data?.input) !== JSON.stringify(d.input);
  view.data = d;
  words(view);
  headings(view);
  const last = model.sets.length - 1;
  if (view.model !== model) {
    stop(view);
    view.model = model;
    view.slider.max = String(last);
    view.index = last;
    buildLayers(view);
    runAll(view);
  } else if (inputChanged) {
    runAll(view);
  }
  schedule(view, Math.min(view.index, last));
}

/**
 * Mount the replay in `parent` on an already decoded model with snapshots (lenet.js decode). `data`:
 * layers, set_info, history, classes, texts, label, size, channels, input (size×size 0..255).
 * Returns `update(data, model)` for a later rerun, `stop()` (stops Play) and `slot` (an element in the
 * controls row for another feature's controls). `hooks.onResult(result, net, layers)` hears each
 * snapshot shown: its forward result, the snapshot's net and the layer plan.
 * @param {HTMLElement} parent
 * @param {any} model
 * @param {any} data
 * @param {{onResult?: (result: any, net: any, layers: any[]) => void}} [hooks]
 */
export function mountReplay(parent, model, data, hooks = {}) {
  const view = createView(parent);
  view.hooks = hooks;
  update(view, data, model);
  return {
    root: view.root,
    slot: view.slot,
    /** @param {any} next @param {any} nextModel */
    update: (next, nextModel) => update(view, next, nextModel),
    stop: () => stop(view),
  };
}
