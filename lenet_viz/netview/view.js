// The live network view: a drawing pad, the preprocessing steps, every layer and the prediction,
// recomputed in the page at most once per animation frame while the pen moves. mountLiveView puts
// it in any element, on an already decoded model (lenet.js decode); what it reports goes through
// the hooks given to it (index.js sends the component's to Streamlit). Other features plug in
// through `onResult` (every forward pass) and `slot` (an element for their controls).
//
// Everything the user or a checkpoint supplies (class names, layer names) is set with textContent:
// Streamlit trusts component code, so this file never builds HTML from data.

import { GRAY, paintMap, valueRange } from "./colours.js";
import { el, hoverLines, layerTitle, probabilityBars, say, shownLayers, tipLines } from "./draw.js";
import { currentDrawing, drawStroke, keepDrawing, PAD, paintStrokes } from "./drawing.js";
import { explainUnit, forward, net } from "./lenet.js";
import { mnistStyle, rgbaToGray } from "./preprocess.js";

const MAX_LINES = 400; // hover lines drawn at most (the strongest contributions)
const LINEAR_LINES = 40; // a fully connected unit reads hundreds of inputs: its strongest ones
// read by tests and benchmarks: pointer event -> maps repainted, -> the next frame (ms); frames painted;
// pen lifts (and undo, clear) kept; drawings sent to the server (only while the inspector is open)
const PERF = (globalThis.__netview ??= { latencies: [], shown: [], work: [], frames: 0, lifts: 0, sent: 0, sentAt: 0 });

// ---- the view -----------------------------------------------------------------------------------
function createView(parent) {
  const root = el("div", "nv");
  parent.appendChild(root);
  const view = {
    root, data: null, model: null, net: null, strokes: structuredClone(currentDrawing().strokes),
    tool: /** @type {"pen" | "eraser"} */ ("pen"), perMap: false, pending: [],
    frame: 0, input: null, result: null, prepared: null, selected: /** @type {any} */ (null), hover: null,
    hooks: /** @type {LiveViewHooks} */ ({}), slot: el("div", "nv-slot"),
  };

  // --- top: pad, steps, prediction
  const top = el("div", "nv-top");
  const padBox = el("div", "nv-pad");
  const tools = el("div", "nv-tools");
  const penButton = el("button", "nv-tool nv-on");
  const eraserButton = el("button", "nv-tool");
  const undoButton = el("button", "nv-tool");
  const clearButton = el("button", "nv-tool");
  for (const b of [penButton, eraserButton, undoButton, clearButton]) b.type = "button";
  penButton.setAttribute("aria-pressed", "true");
  eraserButton.setAttribute("aria-pressed", "false");
  tools.append(penButton, eraserButton, undoButton, clearButton);
  const pad = el("canvas", "nv-pad-canvas");
  pad.width = pad.height = PAD;
  pad.setAttribute("role", "img");
  const padHint = el("div", "nv-hint");
  padBox.append(tools, pad, padHint);

  const steps = el("div", "nv-steps");
  const stepsTitle = el("div", "nv-title");
  const stepRow = el("div", "nv-step-row");
  const cropStep = stepFigure("");
  const scaleStep = stepFigure("");
  const inputStep = stepFigure("");
  stepRow.append(cropStep.box, scaleStep.box, inputStep.box);
  steps.append(stepsTitle, stepRow);

  const predBox = el("div", "nv-pred");
  const predTitle = el("div", "nv-title");
  const predValue = el("div", "nv-pred-value", "–");
  predValue.setAttribute("data-testid", "netview-prediction");
  predValue.setAttribute("role", "status"); // read by screen readers as it changes, and by tests
  const predProb = el("div", "nv-pred-prob", "");
  const bars = el("div", "nv-bars");
  predBox.append(predTitle, predValue, predProb, bars, view.slot);
  const side = el("div", "nv-side");
  side.append(steps, predBox);
  top.append(padBox, side);

  // --- the layers
  const controls = el("div", "nv-controls");
  const scaleLayer = el("button", "nv-tool nv-on");
  const scaleMap = el("button", "nv-tool");
  scaleLayer.type = scaleMap.type = "button";
  const help = el("span", "nv-hint");
  controls.append(scaleLayer, scaleMap, help);
  const board = el("div", "nv-net");
  const layersBox = el("div", "nv-layers");
  const overlay = el("canvas", "nv-overlay");
  const tip = el("div", "nv-tip");
  tip.setAttribute("role", "tooltip");
  board.append(layersBox, overlay, tip);
  root.append(top, controls, board);
  Object.assign(view, { pad, padHint, padBox, steps, cropStep, scaleStep, inputStep, predValue, predProb, bars,
    layersBox, overlay, tip, board, sections: new Map(),
    words: [[penButton, "pen"], [eraserButton, "eraser"], [undoButton, "undo"], [clearButton, "clear"],
      [stepsTitle, "sees"], [cropStep.text, "crop"], [scaleStep.text, "scaled"], [inputStep.text, "input"],
      [predTitle, "live_prediction"], [scaleLayer, "scale_layer"], [scaleMap, "scale_map"], [help, "help"]] });

  // --- pad events: pointer events cover mouse, pen and touch
  const padCtx = pad.getContext("2d", { willReadFrequently: true }); // read back every frame
  /** @type {import("./drawing.js").Stroke | null} */
  let stroke = null;
  const at = (e) => {
    const box = pad.getBoundingClientRect();
    return [Math.round(((e.clientX - box.left) * PAD / box.width) * 10) / 10,
      Math.round(((e.clientY - box.top) * PAD / box.height) * 10) / 10];
  };
  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    stroke = { tool: view.tool, points: [at(e)] };
    view.strokes.push(stroke);
    drawStroke(padCtx, stroke, stroke.points.length - 1);
    schedule(view, e.timeStamp);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!stroke) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    const from = stroke.points.length - 1;
    for (const ev of events.length ? events : [e]) stroke.points.push(at(ev));
    drawStroke(padCtx, stroke, from);
    schedule(view, e.timeStamp);
  });
  const lift = (e) => {
    if (!stroke) return;
    stroke = null;
    if (pad.hasPointerCapture(e.pointerId)) pad.releasePointerCapture(e.pointerId);
    // the stroke painted whole, as every later rerun and drawing.js inputOf paint it: drawn piece by
    // piece its joins antialias a little differently, and the input, the view's values and the
    // server's inspector would then disagree in the third decimal
    redrawPad(view);
    compute(view);
    render(view);
    drawingChanged(view);
  };
  pad.addEventListener("pointerup", lift);
  pad.addEventListener("pointercancel", lift);

  const setTool = (tool) => {
    view.tool = tool;
    penButton.classList.toggle("nv-on", tool === "pen");
    eraserButton.classList.toggle("nv-on", tool === "eraser");
    penButton.setAttribute("aria-pressed", String(tool === "pen"));
    eraserButton.setAttribute("aria-pressed", String(tool === "eraser"));
  };
  penButton.addEventListener("click", () => setTool("pen"));
  eraserButton.addEventListener("click", () => setTool("eraser"));
  undoButton.addEventListener("click", () => {
    if (!view.strokes.length) return;
    view.strokes.pop();
    redrawPad(view);
    compute(view);
    render(view);
    drawingChanged(view);
  });
  clearButton.addEventListener("click", () => {
    if (!view.strokes.length) return;
    view.strokes = [];
    redrawPad(view);
    compute(view);
    render(view);
    drawingChanged(view);
  });
  const setScale = (perMap) => {
    view.perMap = perMap;
    scaleLayer.classList.toggle("nv-on", !perMap);
    scaleMap.classList.toggle("nv-on", perMap);
    render(view);
  };
  scaleLayer.addEventListener("click", () => setScale(false));
  scaleMap.addEventListener("click", () => setScale(true));

  // --- hover and click on units
  layersBox.addEventListener("pointermove", (e) => hoverAt(view, e));
  // a finger cannot hover: a tap shows the tooltip, which stays until the next tap (a touch's
  // pointerleave comes right after it lifts, so it must not hide the tooltip)
  layersBox.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "touch") hoverAt(view, e);
  });
  layersBox.addEventListener("pointerleave", (e) => {
    if (e.pointerType === "touch") return;
    view.hover = null;
    drawHover(view);
  });
  layersBox.addEventListener("click", (e) => {
    const unit = unitAt(view, e);
    if (!unit || unit.flat || !view.hooks.onUnit) return;
    view.selected = unit;
    drawHover(view);
    view.hooks.onUnit({ layer: unit.layer, map: unit.map, row: unit.row, col: unit.col, at: Date.now(),
      drawing: drawingReport(view) });
  });
  new ResizeObserver(() => {
    layout(view);
    drawHover(view);
  }).observe(root);
  return view;
}

function stepFigure(caption) {
  const box = el("figure", "nv-step");
  const canvas = el("canvas", "nv-step-canvas");
  const text = el("figcaption", "", caption);
  box.append(canvas, text);
  return { box, canvas, text };
}

function redrawPad(view) {
  paintStrokes(view.pad.getContext("2d"), view.strokes);
}

// Repaint at most once per animation frame, for every pointer event since the last one.
function schedule(view, eventTime) {
  view.pending.push(eventTime);
  if (view.frame) return;
  view.frame = requestAnimationFrame(() => {
    view.frame = 0;
    const start = performance.now();
    compute(view);
    const computed = performance.now();
    render(view);
    const now = performance.now();
    PERF.work.push([computed - start, now - computed]); // preprocess + forward, paint
    const moves = view.pending;
    for (const t of moves) PERF.latencies.push(now - t);
    requestAnimationFrame(() => { // the next frame starts once the repaint is on screen
      const shown = performance.now();
      for (const t of moves) PERF.shown.push(shown - t);
    });
    PERF.frames += 1;
    view.pending = [];
    performance.mark("netview-painted");
  });
}

// ---- model and input ------------------------------------------------------------------------------
function drawing(view) {
  return view.data?.mode === "draw" && view.strokes.length > 0;
}

// The input on show: the drawing (preprocessed here) or the server's sample/upload; then the forward pass.
function compute(view) {
  const d = view.data;
  view.prepared = null;
  view.input = null;
  view.result = null;
  if (!d || !view.net) return;
  const [channels, size] = [d.channels, d.size];
  let gray = null;
  if (drawing(view)) {
    const rgba = view.pad.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, PAD, PAD).data;
    // mnistStyle is the port of lenet_viz.preprocess.mnist_style, with the model's fill (Fashion: 1)
    view.prepared = mnistStyle(rgbaToGray(rgba, PAD, PAD), PAD, PAD, size, d.fill);
    if (view.prepared) gray = Float32Array.from(view.prepared.image, (v) => v / 255);
  } else if (d.input) {
    gray = Float32Array.from(d.input, (v) => v / 255);
  }
  if (!gray) return;
  const input = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) input.set(gray, c * size * size);
  view.input = input;
  view.result = forward(view.net, input);
  view.hooks.onResult?.(view.result, view);
}

// A pen lift, undo or clear: the drawing is kept in the browser (drawing.js); the server hears of
// it only while its unit inspector is open (data.inspecting), which shows the drawing's arithmetic.
function drawingChanged(view) {
  keepDrawing(view.strokes);
  PERF.lifts += 1;
  if (view.data?.inspecting && view.hooks.onDrawing) {
    PERF.sent += 1;
    PERF.sentAt = performance.now();
    view.hooks.onDrawing(drawingReport(view));
  }
}

// The drawing as the server reads it: its id, the input it makes for this model (0..255, null when
// blank) and the strokes; null when the view shows the server's own input.
function drawingReport(view) {
  if (view.data?.mode !== "draw") return null;
  const input = drawing(view) && view.prepared ? Array.from(view.prepared.image) : null;
  return { id: currentDrawing().id, input, size: view.data.size, model_id: view.data.model_id,
    strokes: currentDrawing().strokes };
}

// The model on show: its last weight set (the final model); a new model rebuilds the layers. None
// yet (null) while a server's first visit loads it: the pad works, the layers say they are coming.
function useModel(view, model) {
  if (view.model === model && view.sections.size) return; // (a first null model: the note below)
  view.model = model;
  view.net = model && net(model);
  view.sections.clear();
  view.layersBox.replaceChildren(...(model ? [] : [el("p", "nv-loading", say(view.data?.texts, "loading"))]));
}

// A rerun's data: the model, the mode and the server's input (shown on an empty pad), the words.
function update(view, d, model) {
  view.data = d;
  words(view);
  view.padBox.hidden = d.mode !== "draw";
  view.steps.hidden = d.mode !== "draw" || !model; // what the network sees needs its input size
  view.padHint.textContent = d.hint ?? "";
  redrawPad(view);
  useModel(view, model);
  if (d.unit) view.selected = { ...d.unit, flat: false };
  compute(view);
  render(view);
}

// The fixed words and the layer titles, in the language of this rerun (it may have just changed).
function words(view) {
  for (const [node, key] of view.words) node.textContent = say(view.data?.texts, key);
  view.pad.setAttribute("aria-label", say(view.data?.texts, "pad"));
  for (const { layer, heading } of view.sections.values()) heading.textContent = layerTitle(layer, view.data?.texts);
}

// ---- layers: build once per model, paint every frame -------------------------------------------
function ensureSections(view) {
  if (view.sections.size) return;
  for (const layer of shownLayers(view.model.layers, view.data.channels, view.data.size)) {
    const section = el("section", "nv-layer");
    section.dataset.layer = layer.name;
    const heading = el("div", "nv-layer-title", layerTitle(layer, view.data.texts));
    const maps = el("div", "nv-maps");
    const spatial = layer.output_shape.length === 3;
    const canvases = [];
    if (spatial) {
      const [c, h, w] = layer.output_shape;
      for (let m = 0; m < c; m++) {
        const fig = el("div", "nv-map");
        const canvas = el("canvas", "nv-map-canvas");
        canvas.width = w;
        canvas.height = h;
        Object.assign(canvas.dataset, { layer: layer.name, map: String(m) });
        fig.append(canvas, el("span", "nv-map-label", String(m)));
        maps.append(fig);
        canvases.push(canvas);
      }
    } else {
      const n = layer.output_shape[0];
      const cols = Math.min(n, 60);
      const canvas = el("canvas", "nv-strip");
      canvas.width = cols;
      canvas.height = Math.ceil(n / cols);
      Object.assign(canvas.dataset, { layer: layer.name, map: "0" });
      maps.append(canvas);
      canvases.push(canvas);
    }
    section.append(heading, maps);
    view.layersBox.append(section);
    view.sections.set(layer.name, { layer, section, heading, canvases, spatial });
  }
  layout(view);
}

// CSS sizes: cells as large as fit, smaller on a phone; canvases keep their native pixels.
function layout(view) {
  const width = view.layersBox.clientWidth || 700;
  for (const { layer, canvases, spatial } of view.sections.values()) {
    if (spatial) {
      const [c, h, w] = layer.output_shape;
      const perRow = Math.min(c, 8);
      const fit = Math.min(12, Math.floor((width - perRow * 10) / perRow / w), Math.floor(150 / w)); // one row
      const cell = Math.max(fit, Math.min(3, Math.floor(150 / w)), 1); // on a phone: larger maps, wrapped
      for (const canvas of canvases) {
        canvas.style.width = `${w * cell}px`;
        canvas.style.height = `${h * cell}px`;
      }
    } else {
      const canvas = canvases[0];
      const cell = Math.max(2, Math.min(14, Math.floor((width - 10) / canvas.width)));
      canvas.style.width = `${canvas.width * cell}px`;
      canvas.style.height = `${canvas.height * Math.max(cell, 10)}px`;
    }
  }
  const box = view.board.getBoundingClientRect();
  view.overlay.width = Math.round(box.width);
  view.overlay.height = Math.round(box.height);
  view.overlay.style.width = `${box.width}px`;
  view.overlay.style.height = `${box.height}px`;
}

function layerValues(view, name) {
  const shown = view.hooks.valuesOf?.(name); // e.g. the Learn panel's gradients instead of the activations
  if (shown) return shown;
  if (name === "input") return view.input;
  return view.result?.outputs[name];
}

function render(view) {
  if (!view.data) return;
  if (!view.model) return renderPrediction(view); // "–" until the network comes
  ensureSections(view);
  renderSteps(view);
  renderPrediction(view);
  for (const { layer, canvases, spatial } of view.sections.values()) {
    const values = layerValues(view, layer.name);
    const hooked = values !== (layer.kind === "input" ? view.input : view.result?.outputs[layer.name]); // signed
    if (!values) {
      for (const canvas of canvases) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      continue;
    }
    if (layer.kind === "input" && !hooked) {
      const [c, h, w] = layer.output_shape;
      for (let m = 0; m < c; m++) paintMap(canvases[m], values, m * h * w, h, w, 0, 1, false, GRAY);
      continue;
    }
    if (spatial) {
      const [c, h, w] = layer.output_shape;
      const [lo, hi] = valueRange(values);
      const signed = lo < 0 || hooked;
      for (let m = 0; m < c; m++) {
        const [a, b] = view.perMap ? valueRange(values, m * h * w, (m + 1) * h * w) : [lo, hi];
        paintMap(canvases[m], values, m * h * w, h, w, signed ? a : Math.min(0, a), b, signed);
      }
    } else {
      const canvas = canvases[0];
      const padded = new Float32Array(canvas.width * canvas.height);
      padded.set(values);
      const [lo, hi] = valueRange(values);
      paintMap(canvas, padded, 0, canvas.height, canvas.width, Math.min(0, lo), hi, lo < 0 || hooked);
    }
  }
  drawHover(view);
}

function renderSteps(view) {
  const p = view.prepared;
  const { cropStep, scaleStep, inputStep } = view;
  const size = view.data.size;
  if (!p) {
    for (const s of [cropStep, scaleStep, inputStep]) s.box.hidden = true;
    return;
  }
  for (const s of [cropStep, scaleStep, inputStep]) s.box.hidden = false;
  // 1. the pad, reduced, with the ink's box
  const crop = cropStep.canvas;
  crop.width = crop.height = 112;
  const ctx = crop.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(view.pad, 0, 0, 112, 112);
  if (p.bbox) {
    const [t, l, b, r] = p.bbox;
    const k = 112 / PAD;
    ctx.strokeStyle = "#ffb000";
    ctx.lineWidth = 2;
    ctx.strokeRect(l * k, t * k, (r - l) * k, (b - t) * k);
  }
  // 2. the crop scaled into its box, centred in a black square (as preprocess.Prepared.boxed)
  const [sh, sw] = p.scaledShape;
  const side = Math.max(sh, sw);
  boxed(scaleStep.canvas, p.scaled, sh, sw, side);
  scaleStep.text.textContent = say(view.data?.texts, "scaled_into", { side, width: sw, height: sh });
  // 3. the network's input
  boxed(inputStep.canvas, p.image, size, size, size);
  inputStep.text.textContent = say(view.data?.texts, "input_centred", { size });
}

// A small gray image drawn large with square pixels in the middle of a 112 px black square.
function boxed(canvas, gray, h, w, side) {
  const small = document.createElement("canvas");
  small.width = w;
  small.height = h;
  paintMap(small, gray, 0, h, w, 0, 255, false, GRAY);
  canvas.width = canvas.height = 112;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, 112, 112);
  ctx.imageSmoothingEnabled = false;
  const k = 100 / side; // a 6 px black margin: white ink at the edge stays visible on a light page
  ctx.drawImage(small, 6 + ((side - w) / 2) * k, 6 + ((side - h) / 2) * k, w * k, h * k);
}

function renderPrediction(view) {
  const texts = view.data.texts;
  view.padHint.hidden = drawing(view); // "a test image is on show until you draw"
  view.predValue.setAttribute("aria-label", say(texts, "prediction"));
  const r = view.result;
  if (!r) {
    view.predValue.textContent = "–";
    view.predProb.textContent = view.data.mode === "draw" ? say(texts, "draw_here") : "";
    view.bars.replaceChildren();
    return;
  }
  const classes = view.data.classes ?? [];
  const top = r.prediction;
  view.predValue.textContent = classes[top] ?? String(top);
  view.predProb.textContent = say(texts, "probability", { percent: (r.probabilities[top] * 100).toFixed(1) });
  probabilityBars(view.bars, r.probabilities, classes, top, (p) => (p >= 0.005 ? `${(p * 100).toFixed(0)}%` : ""));
}

// ---- hover: Harley's lines and the tooltip ---------------------------------------------------------
function unitAt(view, e) {
  const canvas = e.target;
  if (!(canvas instanceof HTMLCanvasElement) || !canvas.dataset.layer) return null;
  const box = canvas.getBoundingClientRect();
  const col = Math.floor(((e.clientX - box.left) / box.width) * canvas.width);
  const row = Math.floor(((e.clientY - box.top) / box.height) * canvas.height);
  if (col < 0 || row < 0 || col >= canvas.width || row >= canvas.height) return null;
  const name = canvas.dataset.layer;
  const { spatial, layer } = view.sections.get(name);
  if (spatial) return { layer: name, map: Number(canvas.dataset.map), row, col, flat: false };
  const index = row * canvas.width + col;
  if (index >= layer.output_shape[0]) return null;
  return { layer: name, map: index, row: 0, col: 0, flat: true };
}

function hoverAt(view, e) {
  const unit = unitAt(view, e);
  const same = unit && view.hover && ["layer", "map", "row", "col"].every((k) => unit[k] === view.hover[k]);
  view.hover = unit;
  view.hoverPoint = [e.clientX, e.clientY];
  if (!same) drawHover(view);
  placeTip(view);
}

// Centre of a unit on screen, relative to the network box; flatten units sit in the last spatial layer.
function unitCentre(view, name, map, row, col, origin) {
  let entry = view.sections.get(name);
  if (!entry && name === "flatten") {
    const spatial = [...view.sections.values()].filter((s) => s.spatial).pop();
    const [, h, w] = spatial.layer.output_shape;
    entry = spatial;
    [map, row, col] = [Math.floor(map / (h * w)), Math.floor((map % (h * w)) / w), map % w];
  }
  if (!entry) return null;
  let canvas, r = row, c = col;
  if (entry.spatial) canvas = entry.canvases[map];
  else {
    canvas = entry.canvases[0];
    r = Math.floor(map / canvas.width);
    c = map % canvas.width;
  }
  if (!canvas) return null;
  const box = canvas.getBoundingClientRect();
  return [box.left - origin.left + ((c + 0.5) * box.width) / canvas.width,
    box.top - origin.top + ((r + 0.5) * box.height) / canvas.height, box.width / canvas.width,
    box.height / canvas.height];
}

function explain(view, unit) {
  if (!view.result || !unit) return null;
  try {
    return explainUnit(view.net, view.result, unit.layer, unit.map, unit.row, unit.col);
  } catch {
    return null;
  }
}

function drawHover(view) {
  const ctx = view.overlay.getContext("2d");
  ctx.clearRect(0, 0, view.overlay.width, view.overlay.height);
  const origin = view.board.getBoundingClientRect();
  const mark = (unit, colour) => {
    const at = unit && unitCentre(view, unit.layer, unit.map, unit.row, unit.col, origin);
    if (!at) return null;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.strokeRect(at[0] - at[2] / 2 - 1, at[1] - at[3] / 2 - 1, at[2] + 2, at[3] + 2);
    return at;
  };
  mark(view.selected, "#ffb000");
  const unit = view.hover;
  const info = explain(view, unit);
  view.hoverInfo = info;
  if (!unit || unit.layer === "input") {
    view.tip.hidden = true;
    return;
  }
  const to = mark(unit, "#ff4b4b");
  if (info && to) {
    const limit = unit.flat && view.sections.get(unit.layer).layer.kind === "linear" ? LINEAR_LINES : MAX_LINES;
    hoverLines(ctx, info.sources ?? [], to, (s) => unitCentre(view, s.layer, s.map, s.row, s.col, origin), limit);
  }
  writeTip(view, unit, info);
}

function writeTip(view, unit, info) {
  const tip = view.tip;
  if (!info) {
    tip.hidden = true;
    return;
  }
  const lines = tipLines(view.data?.texts, unit, info, !unit.flat);
  tip.replaceChildren(...lines.map((line, i) => el("div", i === 0 ? "nv-tip-head" : "", line)));
  for (const line of view.hooks.extraTipLines?.(unit) ?? []) tip.append(el("div", "", line));
  tip.hidden = false;
  placeTip(view);
}

function placeTip(view) {
  if (view.tip.hidden || !view.hoverPoint) return;
  const origin = view.board.getBoundingClientRect();
  const x = view.hoverPoint[0] - origin.left + 14;
  const y = view.hoverPoint[1] - origin.top + 14;
  const maxX = origin.width - view.tip.offsetWidth - 4;
  view.tip.style.left = `${Math.max(0, Math.min(x, maxX))}px`;
  view.tip.style.top = `${y}px`;
}

/**
 * @typedef {{id: string, input: number[] | null, size: number, model_id: string, strokes: any[]}} DrawingReport
 * @typedef {object} LiveViewHooks
 * @property {(result: any, view: any) => void} [onResult] after each forward pass, with its result
 *   (lenet.js forward: input, outputs by layer, probabilities, prediction)
 * @property {(layer: string) => Float32Array | undefined} [valuesOf] values to paint instead of a layer's
 *   (or the input's) outputs, on a signed scale (the Learn panel's gradients)
 * @property {(unit: {layer: string, map: number, row: number, col: number, flat: boolean}) => string[]} [extraTipLines]
 *   more lines for a hovered unit's tooltip
 * @property {(drawing: DrawingReport | null) => void} [onDrawing] at a pen lift, undo or clear while
 *   `data.inspecting` (the server's unit inspector is open)
 * @property {(unit: {layer: string, map: number, row: number, col: number, at: number,
 *   drawing: DrawingReport | null}) => void} [onUnit] on a click on a unit, with the drawing on show
 */

/**
 * Mount the live view in `parent` on an already decoded model (lenet.js decode). `data` holds what
 * the page shows (mode "draw" or "input", size, channels, fill, input, hint, classes, texts, unit,
 * inspecting); the drawing itself is the browser's (drawing.js). Returns the view: `update(data, model)` for a later rerun, `slot` (an empty element
 * under the prediction where another feature may put its controls), `result` (the last forward pass),
 * `drawingReport()` (the drawing as a click reports it).
 * @param {HTMLElement} parent
 * @param {any} model
 * @param {any} data
 * @param {LiveViewHooks} [hooks]
 */
export function mountLiveView(parent, model, data, hooks = {}) {
  const view = createView(parent);
  view.hooks = hooks;
  update(view, data, model);
  return {
    root: view.root,
    slot: view.slot,
    get result() { return view.result; },
    /** @param {any} next @param {any} nextModel */
    update: (next, nextModel) => update(view, next, nextModel),
    /** @param {LiveViewHooks} next */
    setHooks: (next) => { view.hooks = next; },
    /** The drawing on show as a click on a unit reports it (the 3D view's clicks too). */
    drawingReport: () => drawingReport(view),
    /** The forward pass and every layer again, after a change of the weights (the Learn panel's Step). */
    refresh: () => { compute(view); render(view); },
  };
}
