// "Learn from this" on the live view (Feature maps): the learner says what the drawing really is
// (True label); the panel shows the loss, a saliency map and the first layer's kernels, the layers
// can show their gradients instead of their activations (same canvases, same colour scales), a
// hovered unit's tooltip says how its gradient is computed, and Step applies one SGD step to the
// network in the page (Undo step, Reset weights), at a learning rate suggested for the label and
// the drawing (backprop.js suggestLearningRate: the smallest that makes the network say the label
// within a few Steps, capped) until the learner picks one. All of it runs here: nothing goes to the server.
//
// view.js knows nothing of it beyond its hooks: createLearn() gives the hooks (onResult, valuesOf,
// extraTipLines) and attach(liveView) puts the panel in the view's slot. The server's unit inspector
// must show the network the view shows: stepped() gives the stepped weights for a click on a unit,
// and onWeightsChange (index.js) hears of every Step, Undo step and Reset weights.

import {
  LEARNING_RATES, MAX_STEP_SHARE, SUGGEST_WITHIN, backward, cloneParams, crossEntropyLoss, explainGradient,
  forwardTrace, restoreParams, saliency, sgdStep, suggestLearningRate, traceOf,
} from "./backprop.js";
import { paintMap, valueRange } from "./colours.js";
import { el, say, sayCount } from "./draw.js";
import { formulaNumber, metric } from "./format.js";
import { encodeWeightSet } from "./payload.js";

const UNDO_LIMIT = 200; // steps kept for Undo step (each is a copy of the weights, ~250 kB for LeNet)
const MAX_KERNELS = 16; // kernels of the first convolution shown (its first input channel)
const SALIENCY_PX = 112; // the saliency map's size on screen
const FIGURES_EVERY_MS = 150; // the saliency map and kernels follow the pen at most this often (each needs a backward pass)

/**
 * @typedef {{undo: Record<string, Float32Array>[], trained: Record<string, Float32Array>, steps: number}} History
 */

/**
 * @typedef {{label: number, input: Float32Array, rate: number, steps: number | null}} Suggestion the
 *   learning rate suggested for a True label and an input (a copy of its values), with its Steps
 *   (suggestLearningRate's)
 */

/**
 * net → its steps, for Undo and Reset. Kept for the page's life, as the decoded nets are (index.js):
 * a view mounted again (back from another page) finds the net still stepped, and its history with it.
 * @type {WeakMap<object, History>}
 */
const histories = new WeakMap();

/**
 * @typedef {{model_id: string, steps: number, weights: string | null}} SteppedReport the network as
 *   the view has it, for the server's inspector: `weights` base64 float32 (payload.js encodeWeightSet),
 *   null with `steps` 0 (the served weights)
 */

/**
 * The "Learn from this" panel for one live view.
 * @param {{onWeightsChange?: () => void}} [options] `onWeightsChange`: after each Step, Undo step and
 *   Reset weights (the weights on show changed)
 * @returns {{hooks: import("./view.js").LiveViewHooks, attach: Function, update: Function,
 *   stepped: () => SteppedReport}}
 */
export function createLearn({ onWeightsChange } = {}) {
  const state = {
    live: /** @type {any} */ (null), net: /** @type {any} */ (null), data: /** @type {any} */ (null),
    result: /** @type {any} */ (null), trace: /** @type {any} */ (null), grads: /** @type {any} */ (null),
    label: /** @type {number | null} */ (null), showGradients: false, open: false, message: "",
    // until the learner picks a learning rate, one is suggested for the True label and the input on show
    // (backprop.js suggestLearningRate): when the label is chosen, and at a Step on another input
    suggestRate: true, rateChosen: false, suggestion: /** @type {Suggestion | null} */ (null),
    figuresAt: 0, figuresTimer: 0,
  };
  const ui = buildPanel();

  const texts = () => state.data?.texts;
  const history = () => {
    let h = histories.get(state.net);
    if (!h) {
      h = { undo: [], trained: cloneParams(state.net), steps: 0 };
      histories.set(state.net, h);
    }
    return h;
  };
  // The forward pass traced, and its gradients for the True label: each computed once per forward
  // pass, and only when something needs it (the layers showing gradients, a hover, Step, saliency).
  const traced = () => (state.trace ??= state.result && traceOf(state.net, state.result));
  const gradients = () => (state.grads ??= traced() && state.label !== null ? backward(state.net, traced(), state.label) : null);

  // After each forward pass (view.js's hook): a closed panel costs nothing while the pen moves; an
  // open one computes the gradients now only if the layers show them, and its figures at most
  // every FIGURES_EVERY_MS.
  function onResult(result, view) {
    state.net = view.net;
    state.result = result;
    state.trace = state.grads = null;
    if (result && state.open) {
      const classes = result.probabilities.length;
      if (state.label === null || state.label >= classes) state.label = result.prediction;
      if (state.suggestRate) {
        suggest();
        state.suggestRate = false;
      }
      if (state.showGradients) gradients();
    }
    render();
    scheduleFigures();
  }

  // What the layers show: the gradients (∂loss/∂output) when chosen, else the activations (undefined).
  function valuesOf(name) {
    if (!state.showGradients || !state.grads) return undefined;
    if (name === "input") return state.grads.gradInput;
    const at = state.net.layers.findIndex((/** @type {any} */ l) => l.name === name);
    return at < 0 ? undefined : state.grads.gradOutputs[at];
  }

  // The tooltip's extra lines for a hovered unit: its gradient and how it follows from the next layer.
  function extraTipLines(unit) {
    if (!state.open || !unit || unit.layer === "input" || !gradients()) return [];
    const layer = state.net.layers.find((/** @type {any} */ l) => l.name === unit.layer);
    if (!layer) return [];
    const [, h, w] = layer.output_shape;
    const index = unit.flat ? unit.map : (unit.map * h + unit.row) * w + unit.col;
    const why = explainGradient(state.net, traced(), gradients(), state.label, unit.layer, index);
    const name = unit.flat ? `${unit.layer}[${unit.map}]` : `${unit.layer}[${unit.map}, ${unit.row}, ${unit.col}]`;
    return [say(texts(), "learn.grad_head", { unit: name, value: formulaNumber(why.value) }),
      say(texts(), `learn.why_${why.key}`, why.values)];
  }

  // The forward pass and every layer again after the weights changed, and the figures at once.
  function refresh() {
    state.live?.refresh();
    renderFigures();
  }

  // The weights changed (Step, Undo step, Reset weights): the layers, then whoever listens.
  function weightsChanged() {
    refresh();
    onWeightsChange?.();
  }

  // The network on show for the server's inspector: its weights only once steps have changed them
  // (Undo and Reset restore exact copies, so 0 steps is the served network: nothing to send).
  function stepped() {
    const steps = state.net ? history().steps : 0;
    return { model_id: state.net?.model.id ?? "", steps,
      weights: steps ? encodeWeightSet(state.net.model.sets[state.net.setIndex]) : null };
  }

  // Whether the suggestion on show was made for this True label and this input.
  function suggestionFits() {
    const s = state.suggestion, input = state.result?.input;
    return Boolean(s && input && s.label === state.label && s.input.length === input.length
      && s.input.every((v, i) => v === input[i]));
  }

  // The learning rate for the True label and the input on show, in the rate's select (tried on the
  // net itself, which comes back unchanged: ~20-40 ms for the bundled models).
  function suggest() {
    if (state.rateChosen || !state.result || state.label === null || suggestionFits()) return;
    const { rate, steps } = suggestLearningRate(state.net, state.result.input, state.label);
    ui.rate.value = String(rate);
    state.suggestion = { label: state.label, input: Float32Array.from(state.result.input), rate, steps };
  }

  function step() {
    suggest(); // a new drawing since the suggestion: one for it first (the label's choice made one)
    const grads = gradients();
    if (!grads) return;
    const h = history();
    const before = cloneParams(state.net);
    const rate = Number(ui.rate.value);
    sgdStep(state.net, grads.gradParams, rate);
    const after = crossEntropyLoss(forwardTrace(state.net, state.result.input).logits, state.label);
    if (!Number.isFinite(after)) { // a learning rate that diverges: keep the last good weights
      restoreParams(state.net, before);
      state.message = say(texts(), "learn.diverged", { rate });
      refresh(); // the weights are as they were
      return;
    }
    h.undo.push(before);
    if (h.undo.length > UNDO_LIMIT) h.undo.shift();
    h.steps += 1;
    state.message = after > grads.loss // too large a step jumps past the valley
      ? say(texts(), "learn.overshot", { before: metric(grads.loss), after: metric(after) }) : "";
    weightsChanged();
  }

  function undo() {
    const h = history();
    const last = h.undo.pop();
    if (!last) return;
    restoreParams(state.net, last);
    h.steps -= 1;
    state.message = "";
    weightsChanged();
  }

  function reset() {
    const h = history();
    restoreParams(state.net, h.trained);
    h.undo = [];
    h.steps = 0;
    state.message = "";
    weightsChanged();
  }

  ui.details.addEventListener("toggle", () => {
    state.open = ui.details.open;
    if (!state.open) state.showGradients = false;
    refresh();
  });
  ui.label.addEventListener("change", () => {
    state.label = Number(ui.label.value);
    state.suggestRate = !state.rateChosen;
    refresh();
  });
  ui.rate.addEventListener("change", () => { state.rateChosen = true; render(); });
  ui.showActivations.addEventListener("click", () => { state.showGradients = false; refresh(); });
  ui.showGradients.addEventListener("click", () => { state.showGradients = true; refresh(); });
  ui.step.addEventListener("click", step);
  ui.undo.addEventListener("click", undo);
  ui.reset.addEventListener("click", reset);

  // The panel's words (in the page's language), the loss and the buttons' states.
  function render() {
    const t = texts();
    ui.summary.textContent = say(t, "learn.title");
    ui.intro.textContent = say(t, "learn.intro");
    ui.labelText.textContent = say(t, "learn.true_label");
    ui.rateText.textContent = say(t, "learn.rate");
    ui.showText.textContent = say(t, "learn.show");
    ui.showActivations.textContent = say(t, "learn.activations");
    ui.showGradients.textContent = say(t, "learn.gradients");
    ui.step.textContent = say(t, "learn.step");
    ui.undo.textContent = say(t, "learn.undo");
    ui.reset.textContent = say(t, "learn.reset");
    ui.gradientsHelp.textContent = say(t, "learn.gradients_help");
    ui.gradientsHelp.hidden = !state.showGradients;
    ui.showActivations.setAttribute("aria-pressed", String(!state.showGradients));
    ui.showGradients.setAttribute("aria-pressed", String(state.showGradients));
    ui.showActivations.classList.toggle("nv-on", !state.showGradients);
    ui.showGradients.classList.toggle("nv-on", state.showGradients);
    if (!state.open || !state.net) return;

    const classes = state.data?.classes ?? [];
    const count = state.result?.probabilities.length ?? classes.length;
    if (ui.label.options.length !== count || [...ui.label.options].some((o, i) => o.textContent !== (classes[i] ?? String(i)))) {
      ui.label.replaceChildren(...Array.from({ length: count }, (_, i) => {
        const option = el("option", "", classes[i] ?? String(i));
        option.value = String(i);
        return option;
      }));
    }
    if (state.label !== null) ui.label.value = String(state.label);
    const h = history();
    const ready = Boolean(state.result) && state.label !== null;
    const logits = ready ? state.result.outputs[state.net.layers[state.net.layers.length - 1].name] : null;
    ui.loss.textContent = ready
      ? say(t, "learn.loss", { loss: metric(crossEntropyLoss(logits, state.label)) }) : say(t, "learn.no_input");
    ui.step.disabled = !ready;
    ui.undo.disabled = h.undo.length === 0;
    ui.reset.disabled = h.steps === 0 && h.undo.length === 0;
    renderSuggestion(t, classes);
    ui.status.textContent = state.message || (h.steps ? sayCount(t, "learn.steps", { count: h.steps }) : say(t, "learn.trained"));
  }

  // What the suggested learning rate is, while it is the one in the select and fits the input on show.
  function renderSuggestion(t, classes) {
    const s = state.suggestion;
    ui.rateHint.hidden = state.rateChosen || !suggestionFits() || Number(ui.rate.value) !== s.rate;
    if (ui.rateHint.hidden) return;
    const values = { rate: s.rate, name: classes[s.label] ?? String(s.label), within: SUGGEST_WITHIN,
      share: Math.round(MAX_STEP_SHARE * 100) };
    const key = s.steps === 0 ? "learn.suggested_already" : s.steps === null ? "learn.suggested_capped" : "learn.suggested";
    ui.rateHint.textContent = say(t, key, values);
  }

  // The saliency map and the kernels: at most every FIGURES_EVERY_MS while the pen moves.
  function scheduleFigures() {
    if (!state.open || state.figuresTimer) return;
    const wait = Math.max(0, state.figuresAt + FIGURES_EVERY_MS - performance.now());
    state.figuresTimer = setTimeout(() => {
      state.figuresTimer = 0;
      renderFigures();
    }, wait);
  }

  function renderFigures() {
    state.figuresAt = performance.now();
    if (!state.open || !state.net) return;
    renderSaliency(state.data?.classes ?? []);
    renderKernels();
  }

  function renderSaliency(classes) {
    const trace = traced();
    ui.saliencyBox.hidden = !trace;
    if (!trace) return;
    // for the True label, the class the panel is about (its heading names it: it follows the label's choice)
    const { target, saliency: map } = saliency(state.net, trace, state.label ?? undefined);
    const [channels, size] = [state.net.layers[0].input_shape[0], state.net.layers[0].input_shape[1]];
    const summed = new Float32Array(size * size); // a colour input: its channels added
    for (let c = 0; c < channels; c++) for (let i = 0; i < summed.length; i++) summed[i] += map[c * size * size + i];
    ui.saliency.width = ui.saliency.height = size;
    const [lo, hi] = valueRange(summed);
    paintMap(ui.saliency, summed, 0, size, size, lo, hi, true);
    const name = classes[target] ?? String(target);
    ui.saliencyTitle.textContent = say(texts(), "learn.saliency", { name });
    ui.saliencyHelp.textContent = say(texts(), "learn.saliency_help", { name });
  }

  function renderKernels() {
    const conv = state.net.layers.find((/** @type {any} */ l) => l.kind === "conv");
    ui.kernelsBox.hidden = !conv;
    if (!conv) return;
    const k = conv.geometry.kernel, cin = conv.input_shape[0];
    const shown = Math.min(conv.output_shape[0], MAX_KERNELS);
    if (ui.kernels.children.length !== shown) {
      ui.kernels.replaceChildren(...Array.from({ length: shown }, () => el("canvas", "nv-learn-kernel")));
    }
    const [lo, hi] = valueRange(conv.weight);
    for (let o = 0; o < shown; o++) {
      const canvas = /** @type {HTMLCanvasElement} */ (ui.kernels.children[o]);
      canvas.width = canvas.height = k;
      paintMap(canvas, conv.weight, o * cin * k * k, k, k, lo, hi, true); // one scale: steps show as change
    }
    ui.kernelsTitle.textContent = say(texts(), "learn.kernels", { layer: conv.name });
  }

  return {
    hooks: { onResult, valuesOf, extraTipLines },
    stepped,
    /**
     * Put the panel in the live view's slot (mountLiveView's result).
     * @param {any} live
     */
    attach(live) {
      state.live = live;
      live.slot.append(ui.details);
      render();
    },
    /** A rerun's data: the class names and the words, in the page's language. @param {any} data */
    update(data) {
      state.data = data;
      render();
    },
  };
}

// The panel's elements, built once; their words are set by render() in the page's language.
function buildPanel() {
  const details = el("details", "nv-learn");
  const summary = el("summary", "nv-title");
  const intro = el("p", "nv-hint");
  const label = el("select", "nv-learn-select");
  const labelText = el("span");
  const labelRow = el("label", "nv-learn-row");
  labelRow.append(labelText, label); // the label element names the select: "True label"
  const loss = el("div", "nv-learn-loss");

  const showText = el("span", "nv-hint");
  const showActivations = el("button", "nv-tool nv-on");
  const showGradients = el("button", "nv-tool");
  const showRow = el("div", "nv-learn-row");
  showRow.setAttribute("role", "group");
  showRow.append(showText, showActivations, showGradients);
  const gradientsHelp = el("div", "nv-hint");

  const rate = el("select", "nv-learn-select");
  for (const value of LEARNING_RATES) {
    const option = el("option", "", String(value));
    option.value = String(value);
    rate.append(option);
  }
  const rateText = el("span");
  const rateLabel = el("label", "nv-learn-row");
  rateLabel.append(rateText, rate);
  const step = el("button", "nv-tool");
  const undo = el("button", "nv-tool");
  const reset = el("button", "nv-tool");
  const stepRow = el("div", "nv-learn-row");
  stepRow.append(rateLabel, step, undo, reset);
  for (const b of [showActivations, showGradients, step, undo, reset]) b.type = "button";
  const rateHint = el("div", "nv-hint");
  const status = el("div", "nv-hint");
  status.setAttribute("aria-live", "polite");

  const saliencyTitle = el("div", "nv-learn-sub");
  const saliency = el("canvas", "nv-learn-saliency");
  saliency.style.width = saliency.style.height = `${SALIENCY_PX}px`;
  const saliencyHelp = el("div", "nv-hint");
  const saliencyBox = el("div", "nv-learn-figure");
  saliencyBox.append(saliencyTitle, saliency, saliencyHelp);
  const kernelsTitle = el("div", "nv-learn-sub");
  const kernels = el("div", "nv-learn-kernels");
  const kernelsBox = el("div", "nv-learn-figure");
  kernelsBox.append(kernelsTitle, kernels);
  const figures = el("div", "nv-learn-figures");
  figures.append(saliencyBox, kernelsBox);

  details.append(summary, intro, labelRow, loss, stepRow, rateHint, status, showRow, gradientsHelp, figures);
  return { details, summary, intro, label, labelText, loss, showText, showActivations, showGradients, gradientsHelp,
    rate, rateText, rateHint, step, undo, reset, status, saliency, saliencyTitle, saliencyHelp, saliencyBox, kernels,
    kernelsTitle, kernelsBox };
}
