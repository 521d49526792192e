// The Teach page (教它认新符号): the learner names 2–10 classes, draws examples of each on one pad,
// trains a LeNet on them in a Web Worker (teach-worker.js) and then watches the whole live view
// (view.js) run on the taught network while drawing on. Nothing here talks to the server except Save
// (the taught network, once, as a trigger) and the restore of an uploaded zip (which arrives as data).
//
// What the learner made lives in this module (`work`), not in the mounted elements: a page switch
// unmounts the component, and coming back mounts a new one on the same drawings, network and run.
// Class names come from the learner: they go into the page with textContent only.

import { el, say, sayCount } from "./draw.js";
import { createLearn } from "./learn.js";
import { base64Bytes } from "./payload.js";
import { mnistStyle, rgbaToGray } from "./preprocess.js";
import { mountLiveView } from "./view.js";
import { floatsBase64, heldOut, keptExamples, nameKey, packImages, planFor, startingWeights, weightCount } from "./teach-net.js";
import { grayPng, zipFiles } from "./teach-zip.js";

const PAD = 280; // the pad's own pixels, as the live view's
const PEN_WIDTH = 20; // the live view's pen: MNIST-like strokes once scaled to 20 px
const SIZE = 28; // drawings become the network's 28×28 input
const BATCH_SIZE = 8;
const SEED = 1;
const SHARES = [0, 0.1, 0.2, 0.25, 1 / 3, 0.5];
const MOUNTS = new WeakMap(); // parentElement -> ui
// read by tests and benchmarks: pointer event -> the frame that shows it (ms); when Train was pressed
// and each epoch's progress as the page heard it (performance.now() ms)
const PERF = (globalThis.__teach ??= { latencies: [], frames: 0, trainPressedAt: 0, progress: [] });

/**
 * @typedef {{id: number, image: Uint8Array}} Example
 * @typedef {{name: string, examples: Example[]}} TaughtClass
 */
const work = {
  /** @type {TaughtClass[]} */ classes: [],
  nextId: 1,
  /** @type {{points: number[][]}[]} */ strokes: [],
  settings: { start: "bundled", network: "modern", layers: "all", lr: 0.001, epochs: 10, share: 0.25 },
  /** the taught network: plan, flat weights, names, history and snapshots; null until trained */
  taught: null,
  /** the run going on: null when none */
  run: null,
  /** @type {Worker | null} */ worker: null,
  bases: new Map(), // bundled model_id -> its flat weights
  restored: null, // the id of the last zip restored
  /** @type {{key?: string, values?: object, text?: string}} what the Training status says */
  status: { key: "ui.untrained", values: {} },
  message: null, // {key, values}: the last thing the learner did that could not be done
  saving: false,
  models: 0,
};

// ---- the examples -------------------------------------------------------------------------------

function totalExamples() {
  return work.classes.reduce((n, c) => n + c.examples.length, 0);
}

/** Every example with its class index, in class order. */
function labelled() {
  return work.classes.flatMap((c, label) => c.examples.map((e) => ({ ...e, label })));
}

function nameProblem(ui, name) {
  const limits = ui.data.limits;
  const trimmed = name.trim();
  if (!trimmed) return { key: "name_empty" };
  if ([...trimmed].length > limits.max_name) {
    return { key: "name_too_long", values: { name: [...trimmed].slice(0, limits.max_name).join("") + "…", limit: limits.max_name } };
  }
  if (/\p{C}/u.test(trimmed)) return { key: "name_control" };
  if (work.classes.some((c) => nameKey(c.name) === nameKey(trimmed))) return { key: "name_duplicate", values: { name: trimmed } };
  if (work.classes.length >= limits.max_classes) return { key: "ui.too_many_classes", values: { limit: limits.max_classes } };
  return null;
}

function addClass(ui) {
  const name = ui.nameBox.value;
  const problem = nameProblem(ui, name);
  if (problem) return tell(ui, problem);
  work.classes.push({ name: name.trim(), examples: [] });
  ui.nameBox.value = "";
  tell(ui, null);
  renderClasses(ui);
}

/** The pad's drawing as the network's input (0…255, 28×28), or null when the pad is blank. */
function padImage(ui) {
  if (!work.strokes.length) return null;
  const rgba = ui.padCtx.getImageData(0, 0, PAD, PAD).data;
  const prepared = mnistStyle(rgbaToGray(rgba, PAD, PAD), PAD, PAD, SIZE, ui.data.fill);
  return prepared ? prepared.image : null;
}

function addDrawing(ui, index) {
  const image = padImage(ui);
  if (!image) return tell(ui, { key: "ui.blank" });
  if (totalExamples() >= ui.data.limits.max_examples) {
    return tell(ui, { key: "ui.too_many_examples", values: { limit: ui.data.limits.max_examples } });
  }
  work.classes[index].examples.push({ id: work.nextId++, image: Uint8Array.from(image) });
  clearPad(ui);
  tell(ui, null);
  renderClasses(ui);
}

function restore(ui, data) {
  const images = base64Bytes(data.images);
  const side = data.size * data.size;
  work.classes = data.classes.map((name) => ({ name, examples: [] }));
  data.labels.forEach((label, i) => {
    work.classes[label].examples.push({ id: work.nextId++, image: images.slice(i * side, (i + 1) * side) });
  });
  work.restored = data.id;
  renderClasses(ui);
}

function downloadExamples(ui) {
  if (!totalExamples()) return tell(ui, { key: "ui.need_classes", values: { least: ui.data.limits.min_classes } });
  const files = [], records = [];
  let n = 0;
  for (const c of work.classes) {
    for (const e of c.examples) {
      const name = `images/${String(++n).padStart(4, "0")}.png`;
      files.push({ name, bytes: grayPng(e.image, SIZE, SIZE) });
      records.push({ file: name, class: c.name });
    }
  }
  const labels = { format: ui.data.zip_format, classes: work.classes.map((c) => c.name), examples: records };
  files.push({ name: ui.data.labels_file, bytes: new TextEncoder().encode(JSON.stringify(labels, null, 1)) });
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (zipFiles(files))], { type: "application/zip" }));
  link.download = "teach-examples.zip";
  ui.root.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// ---- training -----------------------------------------------------------------------------------

/** What makes a run train on from the taught network rather than start anew: same start, same classes. */
function startKey(ui) {
  const s = work.settings;
  const from = s.start === "bundled" && ui.data.bundled ? `bundled:${ui.data.bundled.key}` : `fresh:${s.network}`;
  return JSON.stringify([from, work.classes.map((c) => c.name)]);
}

function trainProblem(ui) {
  const limits = ui.data.limits;
  if (work.classes.length < limits.min_classes) return { key: "ui.need_classes", values: { least: limits.min_classes } };
  const few = work.classes.find((c) => c.examples.length < limits.min_examples);
  if (few) return { key: "ui.need_examples", values: { name: few.name, count: few.examples.length, least: limits.min_examples } };
  const lr = work.settings.lr;
  if (!(lr > 0 && lr <= 10)) return { key: "ui.bad_lr" };
  return null;
}

function worker(ui) {
  if (!work.worker) {
    work.worker = new Worker(new URL("./teach-worker.js", import.meta.url), { type: "module" });
  }
  work.worker.onmessage = (event) => heard(MOUNTS.get(ui.parent) ?? ui, event.data);
  work.worker.onerror = (event) => heard(MOUNTS.get(ui.parent) ?? ui, { type: "failed", error: event.message || "worker" });
  return work.worker;
}

function train(ui) {
  if (work.run) return;
  readSettings(ui);
  const problem = trainProblem(ui);
  if (problem) return tell(ui, problem);
  tell(ui, null);
  const s = work.settings, key = startKey(ui);
  const examples = labelled();
  const names = work.classes.map((c) => c.name);
  const on = work.taught && work.taught.startKey === key ? work.taught : null;
  let plan, weights;
  if (on) {
    plan = on.plan;
    weights = Float32Array.from(on.flat);
  } else if (s.start === "bundled" && ui.data.bundled) {
    const bundled = ui.data.bundled;
    plan = planFor(bundled.plan, names.length);
    weights = startingWeights(plan, SEED, { plan: bundled.plan, flat: work.bases.get(bundled.model_id) });
  } else {
    plan = planFor(ui.data.networks[s.network].plan, names.length);
    weights = startingWeights(plan, SEED);
  }
  const held = heldOut(examples, s.share);
  const images = packImages(examples, SIZE);
  const split = { train: [], held: [] };
  examples.forEach((e, i) => (held.has(e.id) ? split.held : split.train).push(i));
  const last = on?.history.at(-1);
  work.run = {
    startKey: key, plan, names, held, examples, curves: [],
    offset: { epoch: last?.epoch ?? 0, step: last?.step ?? 0, elapsed: last?.elapsed_s ?? 0 },
    history: on ? on.history.slice() : [], snapshots: on ? on.snapshots.slice() : [],
    batches: Math.ceil(split.train.length / BATCH_SIZE), trainCount: split.train.length,
    config: { start: s.start === "bundled" && ui.data.bundled ? "bundled" : "fresh",
      base_model: s.start === "bundled" && ui.data.bundled ? ui.data.bundled.key : s.network,
      train_layers: s.layers, optimizer: "adam", lr: s.lr, batch_size: BATCH_SIZE,
      epochs: (on?.config.epochs ?? 0) + s.epochs, held_out: s.share, examples: examples.length, seed: SEED },
  };
  work.status = { key: "ui.running", values: { epoch: 0, epochs: s.epochs, loss: "–", train: "–" } };
  PERF.trainPressedAt = performance.now();
  worker(ui).postMessage({ type: "train", run: {
    plan, weights, images, labels: examples.map((e) => e.label), train: split.train, held: split.held,
    layers: s.layers, lr: s.lr, epochs: s.epochs, batchSize: BATCH_SIZE, seed: SEED, size: SIZE,
  } }, [weights.buffer, images.buffer]);
  renderClasses(ui);
  renderTraining(ui);
}

const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(0));

/** A message from the worker. */
function heard(ui, message) {
  const run = work.run;
  if (!run) return;
  const o = run.offset;
  if (message.type === "progress") {
    run.curves.push(message);
    PERF.progress.push({ at: performance.now(), epoch: message.epoch, trainAcc: message.trainAcc,
      heldAcc: message.heldAcc, elapsed: message.elapsed });
    run.history.push({
      epoch: o.epoch + message.epoch, step: o.step + message.step, total_steps: o.step + run.batches * work.settings.epochs,
      train_loss: message.loss, train_acc: message.trainAcc, test_acc: message.heldAcc,
      examples_per_sec: message.elapsed > 0 ? (message.epoch * run.trainCount) / message.elapsed : 0,
      elapsed_s: o.elapsed + message.elapsed,
    });
    work.status = { key: "ui.running", values: { epoch: message.epoch, epochs: work.settings.epochs,
      loss: message.loss.toFixed(3), train: pct(message.trainAcc) } };
  } else if (message.type === "snapshot") {
    const step = o.step + message.step;
    if (!run.snapshots.length || step > run.snapshots.at(-1).step) {
      run.snapshots.push({ step, epoch: o.epoch + message.epoch, loss: message.loss, train_acc: message.trainAcc,
        test_acc: message.heldAcc, weights: message.weights });
    }
  } else if (message.type === "done") {
    finish(ui, run, message);
  } else if (message.type === "failed") {
    work.run = null;
    work.status = { key: "ui.untrained", values: {} };
    tell(ui, { key: "ui.failed", values: { error: message.error.split("\n")[0] } });
  }
  renderTraining(ui);
}

function finish(ui, run, done) {
  work.run = null;
  const learned = done.epoch > 0;
  const history = run.history.filter((p) => p.epoch <= run.offset.epoch + done.epoch);
  if (learned) {
    work.models += 1;
    const plan = run.plan;
    work.taught = {
      startKey: run.startKey, plan, flat: done.weights, names: run.names, history,
      snapshots: run.snapshots.filter((s) => s.epoch <= run.offset.epoch + done.epoch), config: run.config,
      examples: run.examples, held: run.held, // what it learned from: Save keeps them with it
      trainAcc: done.trainAcc, heldAcc: done.heldAcc, heldCount: run.held.size,
      confusion: run.held.size ? done.heldConfusion : done.trainConfusion, confusionOf: run.held.size ? "held" : "train",
      curves: run.curves.filter((c) => c.epoch <= done.epoch),
      // the decoded form view.js takes (lenet.js decode's), on the taught weights
      model: { id: `taught-${work.models}`, spec: plan.spec, layers: plan.layers, tensors: plan.tensors,
        setInfo: null, sets: [done.weights], nets: [] },
    };
  }
  const seconds = done.elapsed.toFixed(1);
  const heldText = run.held.size ? say(texts(ui), "ui.held_out_acc", { held: pct(done.heldAcc), count: run.held.size })
    : say(texts(ui), "ui.no_held_out");
  if (done.reason === "diverged") {
    work.status = { key: "ui.diverged", values: { lr: work.settings.lr, epoch: run.offset.epoch + done.epoch } };
  } else {
    const trained = say(texts(ui), "ui.trained", { seconds, train: pct(done.trainAcc) }) + heldText;
    work.status = { text: done.reason === "stopped" ? `${say(texts(ui), "ui.stopped", { epoch: done.epoch })} ${trained}` : trained };
  }
  renderClasses(ui);
  renderLive(ui);
}

function stop() {
  if (work.run && work.worker) work.worker.postMessage({ type: "stop" });
}

/** The taught network sent to the server: the page's one round trip (a trigger, so it is not kept as state). */
function save(ui) {
  const taught = work.taught;
  if (!taught || work.saving) return;
  work.saving = true;
  ui.setTriggerValue("save", {
    spec: taught.plan.spec, classes: taught.names, weights: floatsBase64(taught.flat), history: taught.history,
    snapshots: taught.snapshots.map((s) => ({ ...s, weights: floatsBase64(s.weights) })), config: taught.config,
    examples: keptExamples(taught.examples, taught.held, SIZE),
    accuracy: taught.heldCount ? taught.heldAcc : taught.trainAcc,
  });
  renderTraining(ui);
}

// ---- the pad ------------------------------------------------------------------------------------

function drawStroke(ctx, points, from) {
  ctx.strokeStyle = ctx.fillStyle = "#ffffff";
  ctx.lineWidth = PEN_WIDTH;
  ctx.lineCap = ctx.lineJoin = "round";
  if (points.length === 1 || from >= points.length - 1) {
    const [x, y] = points[points.length - 1];
    ctx.beginPath();
    ctx.arc(x, y, PEN_WIDTH / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(...points[Math.max(0, from)]);
  for (let i = Math.max(0, from) + 1; i < points.length; i++) ctx.lineTo(...points[i]);
  ctx.stroke();
}

function redrawPad(ui) {
  ui.padCtx.fillStyle = "#000000";
  ui.padCtx.fillRect(0, 0, PAD, PAD);
  for (const s of work.strokes) drawStroke(ui.padCtx, s.points, 0);
}

function clearPad(ui) {
  work.strokes = [];
  redrawPad(ui);
  showOnLiveView(ui);
}

/** At most one repaint of the live view per frame; the pad itself is drawn at once, per event. */
function schedule(ui, eventTime) {
  ui.pending.push(eventTime);
  if (ui.frame) return;
  ui.frame = requestAnimationFrame(() => {
    ui.frame = 0;
    showOnLiveView(ui);
    const now = performance.now();
    for (const t of ui.pending) PERF.latencies.push(now - t);
    PERF.frames += 1;
    ui.pending = [];
  });
}

function padEvents(ui) {
  const pad = ui.pad;
  let stroke = null;
  const at = (e) => {
    const box = pad.getBoundingClientRect();
    return [((e.clientX - box.left) * PAD) / box.width, ((e.clientY - box.top) * PAD) / box.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    stroke = { points: [at(e)] };
    ui.penDown = true;
    work.strokes.push(stroke);
    drawStroke(ui.padCtx, stroke.points, 0);
    schedule(ui, e.timeStamp);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!stroke) return;
    e.preventDefault();
    const from = stroke.points.length - 1;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) stroke.points.push(at(ev));
    drawStroke(ui.padCtx, stroke.points, from);
    schedule(ui, e.timeStamp);
  });
  const lift = (e) => {
    if (!stroke) return;
    stroke = null;
    ui.penDown = false;
    if (pad.hasPointerCapture(e.pointerId)) pad.releasePointerCapture(e.pointerId);
    if (ui.mountWhenLifted) {
      ui.mountWhenLifted = false;
      renderLive(ui);
    }
  };
  pad.addEventListener("pointerup", lift);
  pad.addEventListener("pointercancel", lift);
}

// ---- the live view on the taught network ---------------------------------------------------------

function liveData(ui, image) {
  const taught = work.taught;
  return {
    mode: "input", size: SIZE, channels: 1, fill: ui.data.fill, input: image ? Array.from(image) : null,
    classes: taught.names, texts: ui.data.view_texts, layers: taught.plan.layers, model_id: taught.model.id,
    strokes: [], unit: null,
  };
}

/** The pad's drawing through the taught network, every layer repainted (each frame the pen moves). */
function showOnLiveView(ui) {
  if (!work.taught || !ui.live) return;
  const image = padImage(ui);
  ui.live.update(liveData(ui, image), work.taught.model);
  showReading(ui, image ? ui.live.result : null);
}

/** The taught network's reading of the pad, said under the pad: the live view with its prediction
 * is below the classes, out of sight on most screens while one draws. */
function showReading(ui, result) {
  ui.reads.hidden = !result;
  if (!result) return;
  const best = result.prediction;
  ui.reads.textContent = say(texts(ui), "ui.reads_now",
    { name: work.taught.names[best], share: (100 * result.probabilities[best]).toFixed(1) });
}

function renderLive(ui) {
  ui.liveBox.hidden = !work.taught;
  if (!work.taught) return;
  if (!ui.live && ui.penDown) {
    ui.mountWhenLifted = true; // building every layer's canvases takes a while: not in the middle of a stroke
    return;
  }
  if (!ui.live) { // the live view with its Learn panel (gradients, True label, Step), as on Feature maps
    const data = liveData(ui, padImage(ui));
    ui.learn = createLearn();
    ui.learn.update(data);
    ui.live = mountLiveView(ui.liveBody, work.taught.model, data, ui.learn.hooks);
    ui.learn.attach(ui.live);
    showReading(ui, data.input ? ui.live.result : null);
  } else { // a rerun (the page's language) or a newly taught network: the panel's words and classes too
    ui.learn.update(liveData(ui, null));
    showOnLiveView(ui);
  }
}

// ---- building and rendering the page ------------------------------------------------------------

function texts(ui) {
  return ui.data.texts;
}

function tell(ui, message) {
  work.message = message;
  const text = message ? sayCount(texts(ui), message.key, message.values ?? {}) : ""; // "1 drawing", not "1 drawings"
  ui.message.textContent = text;
  ui.message.hidden = !text;
}

function button(text, onClick, className = "teach-button") {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function field(text, control) {
  const label = el("label", "teach-field");
  label.append(el("span", "", text), control);
  return label;
}

function radios(name, options, chosen, onChange) {
  const group = el("fieldset", "teach-radios");
  const legend = el("legend");
  group.append(legend);
  for (const [value, text] of options) {
    const input = el("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.checked = value === chosen;
    input.addEventListener("change", () => onChange(value));
    const label = el("label");
    label.append(input, el("span", "", text));
    group.append(label);
  }
  return { group, legend };
}

function build(parent) {
  const root = el("div", "nv teach");
  parent.append(root);
  const ui = { parent, root, data: null, live: null, learn: null, pending: [], frame: 0, setTriggerValue: null,
    asked: null };

  // pad and the class controls
  const top = el("div", "teach-top");
  const padBox = el("div", "teach-pad");
  ui.pad = el("canvas", "nv-pad-canvas");
  ui.pad.width = ui.pad.height = PAD;
  ui.pad.setAttribute("role", "img");
  ui.padCtx = ui.pad.getContext("2d", { willReadFrequently: true });
  ui.clear = button("", () => clearPad(ui));
  ui.padHint = el("div", "nv-hint");
  ui.reads = el("div", "teach-reads"); // what the taught network reads, beside the pad (its live view is far below)
  ui.reads.setAttribute("aria-live", "polite");
  ui.reads.hidden = true;
  padBox.append(ui.pad, ui.clear, ui.reads, ui.padHint);

  const classBox = el("div", "teach-classes");
  ui.classesTitle = el("div", "nv-title");
  const adder = el("div", "teach-adder");
  ui.nameBox = el("input", "teach-input teach-name");
  ui.nameBox.type = "text";
  ui.nameBox.addEventListener("keydown", (e) => { if (e.key === "Enter") addClass(ui); });
  ui.addClass = button("", () => addClass(ui));
  adder.append(ui.nameBox, ui.addClass);
  ui.message = el("div", "teach-message");
  ui.message.setAttribute("role", "alert");
  ui.message.hidden = true;
  ui.classList = el("div", "teach-class-list");
  classBox.append(ui.classesTitle, adder, ui.message, ui.classList);
  top.append(padBox, classBox);

  // training
  const trainBox = el("section", "teach-train");
  ui.trainTitle = el("div", "nv-title");
  ui.settingsBox = el("div", "teach-settings");
  ui.trainButton = button("", () => train(ui), "teach-button teach-primary");
  ui.stopButton = button("", () => stop());
  ui.trainNote = el("div", "nv-hint");
  ui.heldNote = el("div", "nv-hint");
  ui.status = el("div", "teach-status");
  ui.status.setAttribute("role", "status");
  const buttons = el("div", "teach-buttons");
  buttons.append(ui.trainButton, ui.stopButton);
  const charts = el("div", "teach-charts");
  ui.lossChart = el("canvas", "teach-chart");
  ui.accChart = el("canvas", "teach-chart");
  for (const c of [ui.lossChart, ui.accChart]) {
    c.width = 320;
    c.height = 180;
    c.setAttribute("role", "img");
  }
  ui.confusionBox = el("div", "teach-confusion");
  charts.append(ui.lossChart, ui.accChart, ui.confusionBox);
  trainBox.append(ui.trainTitle, ui.settingsBox, buttons, ui.trainNote, ui.heldNote, ui.status, charts);

  // keep it
  const keepBox = el("section", "teach-keep");
  ui.keepTitle = el("div", "nv-title");
  ui.download = button("", () => downloadExamples(ui));
  ui.save = button("", () => save(ui));
  ui.keepNote = el("div", "nv-hint");
  const keepButtons = el("div", "teach-buttons");
  keepButtons.append(ui.download, ui.save);
  keepBox.append(ui.keepTitle, keepButtons, ui.keepNote);

  // the live view
  ui.liveBox = el("section", "teach-live");
  ui.liveTitle = el("div", "nv-title");
  ui.liveNote = el("div", "nv-hint");
  ui.liveBody = el("div");
  ui.liveBox.append(ui.liveTitle, ui.liveNote, ui.liveBody);
  ui.liveBox.hidden = true;

  root.append(top, trainBox, keepBox, ui.liveBox);
  padEvents(ui);
  return ui;
}

function buildSettings(ui) {
  const t = (key, values) => say(texts(ui), key, values);
  const s = work.settings;
  const d = ui.data;
  if (!d.bundled) s.start = "fresh";
  const box = ui.settingsBox;
  box.replaceChildren();
  const start = radios("teach-start", [["fresh", t("ui.fresh")], ...(d.bundled ? [["bundled", t("ui.bundled", { title: d.bundled.title })]] : [])],
    s.start, (v) => { s.start = v; renderTraining(ui); });
  start.legend.textContent = t("ui.start_from");
  const network = el("select", "teach-input");
  for (const [name, net] of Object.entries(d.networks)) {
    const option = el("option", "", net.title);
    option.value = name;
    option.selected = name === s.network;
    network.append(option);
  }
  network.addEventListener("change", () => { s.network = network.value; renderTraining(ui); });
  ui.networkSelect = network;
  const layers = radios("teach-layers", [["all", t("ui.all_layers")], ["fc", t("ui.fc_layers")]], s.layers,
    (v) => { s.layers = v; });
  layers.legend.textContent = t("ui.layers");
  ui.lrBox = el("input", "teach-input");
  ui.lrBox.type = "number";
  ui.lrBox.step = "any";
  ui.lrBox.min = "0";
  ui.lrBox.value = String(s.lr);
  ui.epochsBox = el("input", "teach-input");
  ui.epochsBox.type = "number";
  ui.epochsBox.min = "1";
  ui.epochsBox.max = "200";
  ui.epochsBox.value = String(s.epochs);
  const share = el("select", "teach-input");
  for (const v of SHARES) {
    const option = el("option", "", `${Math.round(v * 100)}%`);
    option.value = String(v);
    option.selected = v === s.share;
    share.append(option);
  }
  share.addEventListener("change", () => { s.share = Number(share.value); renderClasses(ui); renderTraining(ui); });
  box.append(start.group, field(t("ui.network"), network), layers.group, field(t("ui.lr"), ui.lrBox),
    field(t("ui.epochs"), ui.epochsBox), field(t("ui.held_out"), share));
}

function readSettings(ui) {
  work.settings.lr = Number(ui.lrBox.value);
  work.settings.epochs = Math.max(1, Math.min(200, Math.round(Number(ui.epochsBox.value)) || 10));
  ui.epochsBox.value = String(work.settings.epochs);
}

function thumbnail(image) {
  const canvas = el("canvas", "teach-thumb");
  canvas.width = canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(SIZE, SIZE);
  image.forEach((v, i) => pixels.data.set([v, v, v, 255], i * 4));
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

function renderClasses(ui) {
  const t = (key, values) => say(texts(ui), key, values);
  const held = heldOut(labelled(), work.settings.share);
  const busy = Boolean(work.run);
  const rows = work.classes.map((c, index) => {
    const row = el("div", "teach-class");
    const head = el("div", "teach-class-head");
    head.append(el("strong", "teach-class-name", c.name), el("span", "nv-hint", sayCount(texts(ui), "ui.count", { count: c.examples.length })));
    const add = button(t("ui.add_drawing", { name: c.name }), () => addDrawing(ui, index), "teach-button teach-primary");
    const remove = button("×", () => {
      work.classes.splice(index, 1);
      renderClasses(ui);
    });
    remove.setAttribute("aria-label", t("ui.delete_class", { name: c.name }));
    remove.title = t("ui.delete_class", { name: c.name });
    remove.disabled = busy;
    head.append(add, remove);
    const thumbs = el("div", "teach-thumbs");
    c.examples.forEach((e, i) => {
      const cell = el("div", "teach-cell");
      cell.append(thumbnail(e.image));
      if (held.has(e.id)) {
        cell.classList.add("teach-held");
        cell.append(el("span", "teach-badge", t("ui.held_badge")));
      }
      const del = button("×", () => {
        c.examples.splice(c.examples.indexOf(e), 1);
        renderClasses(ui);
      }, "teach-delete");
      del.setAttribute("aria-label", t("ui.delete_example", { index: i + 1, name: c.name }));
      del.title = del.getAttribute("aria-label");
      del.disabled = busy;
      cell.append(del);
      thumbs.append(cell);
    });
    row.append(head, thumbs);
    return row;
  });
  ui.classList.replaceChildren(...(rows.length ? rows : [el("div", "nv-hint", t("ui.no_classes"))]));
  const total = totalExamples();
  ui.heldNote.textContent = say(texts(ui), "ui.held_out_note",
    { count: held.size, total, share: total ? Math.round((100 * held.size) / total) : 0 }); // the share it is, not the setting
}

function renderTraining(ui) {
  const t = (key, values) => say(texts(ui), key, values);
  const busy = Boolean(work.run);
  ui.trainButton.disabled = busy;
  ui.stopButton.disabled = !busy;
  ui.networkSelect.disabled = work.settings.start === "bundled" && Boolean(ui.data.bundled);
  const on = work.taught && work.taught.startKey === startKey(ui);
  ui.trainNote.textContent = t(on ? "ui.train_on" : "ui.train_new");
  ui.status.textContent = work.status.text ?? t(work.status.key, work.status.values);
  ui.save.disabled = !work.taught || busy || work.saving;
  ui.save.textContent = t(work.saving ? "ui.saving" : "ui.save");
  const curves = work.run?.curves ?? work.taught?.curves ?? [];
  chart(ui.lossChart, t("ui.loss"), [[curves.map((c) => [c.epoch, c.loss]), t("ui.train_curve"), "#1f77b4", []]], null);
  chart(ui.accChart, t("ui.accuracy"), [
    [curves.map((c) => [c.epoch, c.trainAcc]), t("ui.train_curve"), "#1f77b4", []],
    [curves.filter((c) => c.heldAcc !== null).map((c) => [c.epoch, c.heldAcc]), t("ui.held_curve"), "#d62728", [5, 4]],
  ], [0, 1]);
  renderConfusion(ui);
}

function renderConfusion(ui) {
  const taught = work.taught;
  if (!taught || work.run) {
    ui.confusionBox.replaceChildren();
    return;
  }
  const table = el("table", "teach-matrix");
  table.append(el("caption", "", say(texts(ui), taught.confusionOf === "held" ? "ui.confusion" : "ui.confusion_train")));
  const head = el("tr");
  head.append(el("th"), ...taught.names.map((n) => el("th", "", n)));
  table.append(head);
  const peak = Math.max(1, ...taught.confusion.flat());
  taught.confusion.forEach((row, i) => {
    const tr = el("tr");
    const th = el("th", "", taught.names[i]);
    th.scope = "row";
    tr.append(th, ...row.map((v, j) => {
      const td = el("td", i === j ? "teach-right" : v ? "teach-wrong" : "", String(v));
      td.style.setProperty("--share", String(v / peak));
      return td;
    }));
    table.append(tr);
  });
  ui.confusionBox.replaceChildren(table);
}

/** A line chart of some series over epochs, on a canvas (title, axes, legend). */
function chart(canvas, title, series, range) {
  canvas.setAttribute("aria-label", title);
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 36, top = 22, right = 10, bottom = 36;
  const styles = getComputedStyle(canvas);
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = ctx.strokeStyle = styles.color || "#31333f";
  ctx.font = "12px sans-serif";
  ctx.fillText(title, left, 14);
  const points = series.flatMap(([p]) => p);
  const xMax = Math.max(1, ...points.map(([x]) => x));
  const [lo, hi] = range ?? [0, Math.max(1e-3, ...points.map(([, y]) => y).filter(Number.isFinite))];
  const X = (x) => left + (x / xMax) * (w - left - right), Y = (y) => top + (1 - (y - lo) / (hi - lo || 1)) * (h - top - bottom);
  ctx.globalAlpha = 0.4;
  ctx.strokeRect(left, top, w - left - right, h - top - bottom);
  ctx.globalAlpha = 1;
  ctx.fillText(hi.toFixed(range ? 0 : 2).replace(/^1$/, "100%"), 2, top + 8);
  ctx.fillText(range ? "0%" : "0", 2, h - bottom);
  ctx.fillText(String(xMax), w - right - 16, h - bottom + 14);
  let legendX = left;
  for (const [p, name, colour, dash] of series) {
    ctx.strokeStyle = colour;
    ctx.setLineDash(dash);
    ctx.lineWidth = 2;
    ctx.beginPath();
    p.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(legendX, h - 8);
    ctx.lineTo(legendX + 18, h - 8);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillText(name, legendX + 22, h - 4);
    legendX += 30 + ctx.measureText(name).width;
  }
}

function words(ui) {
  const t = (key, values) => say(texts(ui), key, values);
  ui.pad.setAttribute("aria-label", t("ui.pad"));
  ui.clear.textContent = t("ui.clear");
  ui.padHint.textContent = t("ui.pad_hint");
  ui.classesTitle.textContent = t("ui.classes");
  ui.nameBox.setAttribute("aria-label", t("ui.new_class"));
  ui.nameBox.placeholder = t("ui.new_class_hint");
  ui.nameBox.maxLength = ui.data.limits.max_name * 2;
  ui.addClass.textContent = t("ui.add_class");
  ui.trainTitle.textContent = t("ui.training");
  ui.trainButton.textContent = t("ui.train");
  ui.stopButton.textContent = t("ui.stop");
  ui.status.setAttribute("aria-label", t("ui.status"));
  ui.keepTitle.textContent = t("ui.keep");
  ui.download.textContent = t("ui.download");
  ui.keepNote.textContent = t("ui.upload_hint");
  ui.liveTitle.textContent = t("ui.live");
  ui.liveNote.textContent = t("ui.live_note");
  if (work.message) tell(ui, work.message);
}

/**
 * The component's entry: Streamlit calls it at each rerun with the page's data (texts, limits, the
 * networks to start from, the bundled model's weights the first time, a zip to restore).
 * @param {{parentElement: HTMLElement, data: any, setStateValue: (key: string, value: unknown) => void,
 *   setTriggerValue: (key: string, value: unknown) => void}} component
 */
export default function (component) {
  const { parentElement, data, setStateValue, setTriggerValue } = component;
  let ui = MOUNTS.get(parentElement);
  if (!ui || !parentElement.contains(ui.root)) {
    ui = build(parentElement);
    MOUNTS.set(parentElement, ui);
    ui.data = data;
    redrawPad(ui);
  }
  ui.data = data;
  ui.setTriggerValue = setTriggerValue;
  if (data.bundled?.weights && !work.bases.has(data.bundled.model_id)) {
    const bytes = base64Bytes(data.bundled.weights);
    work.bases.set(data.bundled.model_id, new Float32Array(bytes.buffer, 0, weightCount(data.bundled.plan)));
  }
  if (data.bundled && !work.bases.has(data.bundled.model_id) && ui.asked !== data.bundled.model_id) {
    ui.asked = data.bundled.model_id; // the server believes this page has the weights (a reload): ask once
    setStateValue("missing", { model_id: data.bundled.model_id, at: Date.now() });
  }
  if (data.restore && data.restore.id !== work.restored) restore(ui, data.restore);
  if (data.saved_at !== ui.savedAt) {
    ui.savedAt = data.saved_at;
    work.saving = false;
  }
  if (work.run) worker(ui); // a run that went on while the page was elsewhere reports to this mount
  words(ui);
  buildSettings(ui);
  renderClasses(ui);
  renderTraining(ui);
  renderLive(ui);
}
