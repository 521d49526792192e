// The backward pass of any network a LeNetSpec describes, in the browser (page or Web Worker) and
// under node: softmax cross-entropy and its gradient through every layer (conv with any kernel/
// stride/padding, avg/max pooling, sigmoid/tanh/ReLU, flatten, linear), SGD and Adam steps equal to
// torch.optim's, PyTorch's default init, and the explanations the live view's Learn panel shows.
//
// A net is {layers: [...]} as lenet.js's net() builds it: each layer is a layer-plan entry (name,
// kind, input_shape, output_shape, geometry {kernel, stride, padding}) with its weight and bias as
// Float32Arrays in torch's order (conv weight out×in×k×k, linear weight out×in), or null. The
// forward pass is lenet.js's; sums run in doubles, so gradients match torch within float32.
// No DOM: tests/js/backprop.test.mjs checks it against torch autograd, under node and in Chromium.

import { formulaNumber } from "./format.js";
import { argmax, forward } from "./lenet.js";

export { argmax as argmaxOf }; // the prediction of some probabilities (the Teach page's worker reads it here)

/**
 * @typedef {{kernel: number, stride: number, padding: number}} Geometry
 * @typedef {{name: string, kind: string, input_shape: number[], output_shape: number[],
 *   geometry?: Geometry | null, weight?: Float32Array | null, bias?: Float32Array | null}} NetLayer
 * @typedef {{layers: NetLayer[]}} Net
 * @typedef {{input: Float32Array, outputs: Float32Array[], argmax: (Int32Array | null)[],
 *   logits: Float32Array, probabilities: Float32Array, prediction: number}} Trace
 * @typedef {Object<string, Float32Array>} Params  "<layer>.weight" / "<layer>.bias" → values
 * @typedef {{loss: number, gradOutputs: Float32Array[], gradInput: Float32Array, gradParams: Params}} Gradients
 */

// ---- the forward pass, traced ----------------------------------------------------------------

// The input index each max-pooling output took, where its gradient goes: torch's rule (and
// lenet.js's), the first largest value of the window, or a NaN.
function maxChoices(layer, x) {
  const [ch, h, w] = layer.input_shape;
  const [, oh, ow] = layer.output_shape;
  const { kernel: k, stride: s } = layer.geometry;
  const chosen = new Int32Array(ch * oh * ow);
  for (let m = 0; m < ch; m++) {
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        let best = -1, peak = -Infinity;
        for (let i = 0; i < k; i++) {
          const row = (m * h + r * s + i) * w + c * s;
          for (let j = 0; j < k; j++) {
            const v = x[row + j];
            if (v > peak || Number.isNaN(v) || best < 0) { peak = v; best = row + j; }
          }
        }
        chosen[(m * oh + r) * ow + c] = best;
      }
    }
  }
  return chosen;
}

/** The derivative of each activation, written with its output y = f(x) as torch's backward does. */
const SLOPES = {
  sigmoid: (y) => y * (1 - y),
  tanh: (y) => 1 - y * y,
  relu: (y) => (y > 0 ? 1 : 0),
};

/**
 * A forward pass of lenet.js (its result: input, outputs by layer name, probabilities, prediction)
 * as the backward pass reads it: the outputs in layer order and the max-pooling choices.
 * @param {Net} net
 * @param {{input: Float32Array, outputs: Object<string, Float32Array>, probabilities: Float32Array, prediction: number}} result
 * @returns {Trace}
 */
export function traceOf(net, result) {
  const outputs = net.layers.map((layer) => result.outputs[layer.name]);
  const argmax = net.layers.map((layer, l) => (layer.kind === "maxpool"
    ? maxChoices(layer, l === 0 ? result.input : outputs[l - 1]) : null));
  return { input: result.input, outputs, argmax, logits: outputs[outputs.length - 1],
    probabilities: result.probabilities, prediction: result.prediction };
}

/**
 * One input (C×H×W values in [0, 1]) through the net, keeping what the backward pass needs.
 * @param {Net} net
 * @param {ArrayLike<number>} input
 * @returns {Trace}
 */
export function forwardTrace(net, input) {
  return traceOf(net, forward(net, input));
}

// ---- backward -----------------------------------------------------------------------------

/**
 * Softmax cross-entropy of one example's logits: log Σ exp(logits) − logits[label], computed stably.
 * @param {ArrayLike<number>} logits
 * @param {number} label
 * @returns {number}
 */
export function crossEntropyLoss(logits, label) {
  const n = logits.length;
  if (!(Number.isInteger(label) && label >= 0 && label < n)) throw new Error(`the label must be 0…${n - 1}, got ${label}`);
  let peak = -Infinity;
  for (let i = 0; i < n; i++) peak = Math.max(peak, logits[i]);
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.exp(logits[i] - peak);
  return Math.log(total) + peak - logits[label];
}

/** The loss of one traced example and ∂loss/∂logits = p − onehot(label). */
function crossEntropy(trace, label) {
  const loss = crossEntropyLoss(trace.logits, label);
  const grad = Float32Array.from(trace.probabilities);
  grad[label] -= 1;
  return { loss, grad };
}

/** Gradient buffers of zeros, one per parameter tensor of the net's layers (those named, if given). @returns {Params} */
function zeroParams(net, names = null) {
  const params = /** @type {Record<string, Float32Array>} */ ({});
  for (const layer of net.layers) {
    if (names && !names.includes(layer.name)) continue;
    if (layer.weight) params[layer.name + ".weight"] = new Float32Array(layer.weight.length);
    if (layer.bias) params[layer.name + ".bias"] = new Float32Array(layer.bias.length);
  }
  return params;
}

// For kernel offset i (or j): the output rows (columns) whose window reads an input row inside the
// image, as [first, last + 1): r·stride − padding + i must lie in 0 … size − 1.
function validRange(i, stride, padding, size, outSize) {
  const first = Math.max(0, Math.ceil((padding - i) / stride));
  const last = Math.min(outSize - 1, Math.floor((size - 1 + padding - i) / stride));
  return [first, last + 1];
}

// conv: ∂x[ci, r·s−p+i, c·s−p+j] += W[o, ci, i, j]·g[o, r, c]; ∂W[o, ci, i, j] = Σ x[…]·g[o, r, c];
// ∂b[o] = Σ g[o, ·, ·]. ∂W and ∂b are added, times scale, to gW and gB. One weight at a time along
// whole rows of the output: long inner loops (1.5× faster here than a k×k window per output unit).
// Without wantInput, ∂x is not computed (null): the lowest layer trained needs only its parameters'.
function convBackward(layer, x, g, gW, gB, scale, wantInput = true) {
  const [cin, h, w] = layer.input_shape;
  const [cout, oh, ow] = layer.output_shape;
  const { kernel: k, stride: s, padding: p } = layer.geometry;
  const W = layer.weight;
  const gx = wantInput ? new Float64Array(x.length) : null;
  for (let o = 0; o < cout; o++) {
    const gBase = o * oh * ow;
    if (gB) {
      let db = 0;
      for (let n = 0; n < oh * ow; n++) db += g[gBase + n];
      gB[o] += scale * db;
    }
    for (let ci = 0; ci < cin; ci++) {
      for (let i = 0; i < k; i++) {
        const [r0, r1] = validRange(i, s, p, h, oh);
        for (let j = 0; j < k; j++) {
          const [c0, c1] = validRange(j, s, p, w, ow);
          const at = ((o * cin + ci) * k + i) * k + j, weight = W[at];
          let dw = 0;
          for (let r = r0; r < r1; r++) {
            const xRow = (ci * h + r * s - p + i) * w - p + j, gRow = gBase + r * ow;
            for (let c = c0; c < c1; c++) {
              const go = g[gRow + c];
              dw += x[xRow + c * s] * go;
              if (gx) gx[xRow + c * s] += weight * go;
            }
          }
          if (gW) gW[at] += scale * dw;
        }
      }
    }
  }
  return gx && Float32Array.from(gx);
}

function poolBackward(layer, argmax, g) {
  const [ch, h, w] = layer.input_shape;
  const [, oh, ow] = layer.output_shape;
  const { kernel: k, stride: s } = layer.geometry;
  const gx = new Float64Array(ch * h * w);
  if (argmax) {
    for (let o = 0; o < g.length; o++) gx[argmax[o]] += g[o];
  } else {
    const share = 1 / (k * k);
    for (let m = 0; m < ch; m++) {
      for (let r = 0; r < oh; r++) {
        for (let c = 0; c < ow; c++) {
          const go = g[(m * oh + r) * ow + c] * share;
          for (let i = 0; i < k; i++) {
            const row = (m * h + r * s + i) * w + c * s;
            for (let j = 0; j < k; j++) gx[row + j] += go;
          }
        }
      }
    }
  }
  return Float32Array.from(gx);
}

function linearBackward(layer, x, g, gW, gB, scale) {
  const n = layer.input_shape[0], m = layer.output_shape[0];
  const W = layer.weight;
  const gx = new Float64Array(n);
  for (let o = 0; o < m; o++) {
    const go = g[o];
    if (go === 0) continue;
    const base = o * n, step = scale * go;
    for (let i = 0; i < n; i++) gx[i] += W[base + i] * go;
    if (!gW) continue;
    for (let i = 0; i < n; i++) gW[base + i] += step * x[i];
    gB[o] += step;
  }
  return Float32Array.from(gx);
}

/**
 * ∂loss/∂ each layer's output and the input, given ∂loss/∂logits; the parameter gradients, times
 * scale, are added to gradParams (the layers it has no entry for are skipped). Stops after layer
 * `last` (a frozen network's lower layers need no gradient); ∂loss/∂input only if needInput.
 */
function backpropagate(net, trace, gradLogits, gradParams, scale, last = 0, needInput = true) {
  const layers = net.layers;
  const gradOutputs = new Array(layers.length);
  let g = gradLogits;
  for (let l = layers.length - 1; l >= last; l--) {
    gradOutputs[l] = g;
    const layer = layers[l];
    const x = l === 0 ? trace.input : trace.outputs[l - 1];
    const gW = gradParams[layer.name + ".weight"], gB = gradParams[layer.name + ".bias"];
    if (layer.kind === "conv") g = convBackward(layer, x, g, gW, gB, scale, l > last || needInput);
    else if (layer.kind === "linear") g = linearBackward(layer, x, g, gW, gB, scale);
    else if (layer.kind === "avgpool" || layer.kind === "maxpool") g = poolBackward(layer, trace.argmax[l], g);
    else if (layer.kind === "flatten") g = Float32Array.from(g);
    else {
      const slope = SLOPES[layer.kind], y = trace.outputs[l], gx = new Float32Array(g.length);
      for (let i = 0; i < g.length; i++) gx[i] = g[i] * slope(y[i]);
      g = gx;
    }
  }
  return { gradOutputs, gradInput: g };
}

/**
 * Softmax cross-entropy of one traced example and its gradients (as torch's loss.backward() gives
 * them for a batch of one).
 * @param {Net} net
 * @param {Trace} trace  from forwardTrace(net, input)
 * @param {number} label  the true class
 * @returns {Gradients}
 */
export function backward(net, trace, label) {
  const { loss, grad } = crossEntropy(trace, label);
  const gradParams = zeroParams(net);
  const { gradOutputs, gradInput } = backpropagate(net, trace, grad, gradParams, 1);
  return { loss, gradOutputs, gradInput, gradParams };
}

/**
 * The mean loss over a batch and the parameter gradients averaged over it (torch's
 * CrossEntropyLoss(reduction="mean")), with how many examples the net already gets right.
 * `trainable` (layer names) limits the gradients to those layers' parameters, and the backward
 * pass stops at the lowest of them (training only the fully connected layers skips the convolutions).
 * @param {Net} net
 * @param {ArrayLike<number>[]} inputs
 * @param {number[]} labels
 * @param {{trainable?: string[]}} [options]
 * @returns {{loss: number, gradParams: Params, correct: number}}
 */
export function backwardBatch(net, inputs, labels, { trainable } = {}) {
  if (!inputs.length || inputs.length !== labels.length) {
    throw new Error(`a batch needs as many labels as inputs (at least one), got ${inputs.length} and ${labels.length}`);
  }
  const gradParams = zeroParams(net, trainable ?? null);
  const last = trainable ? net.layers.findIndex((l) => trainable.includes(l.name)) : 0;
  if (last < 0) throw new Error(`no layer named ${trainable}`);
  const scale = 1 / inputs.length;
  let loss = 0, correct = 0;
  inputs.forEach((input, n) => {
    const trace = forwardTrace(net, input);
    const { loss: one, grad } = crossEntropy(trace, labels[n]);
    loss += one;
    correct += trace.prediction === labels[n] ? 1 : 0;
    backpropagate(net, trace, grad, gradParams, scale, last, false);
  });
  return { loss: loss * scale, gradParams, correct };
}

// ---- parameters and optimisers --------------------------------------------------------------

/** Every parameter tensor of the net by its torch name ("conv1.weight", …), as views (no copy). @returns {Params} */
export function paramsOf(net) {
  const params = /** @type {Record<string, Float32Array>} */ ({});
  for (const layer of net.layers) {
    if (layer.weight) params[layer.name + ".weight"] = layer.weight;
    if (layer.bias) params[layer.name + ".bias"] = layer.bias;
  }
  return params;
}

/** A copy of every parameter (for Undo and Reset). @returns {Params} */
export function cloneParams(net) {
  return Object.fromEntries(Object.entries(paramsOf(net)).map(([name, v]) => [name, Float32Array.from(v)]));
}

/** Write saved parameters (from cloneParams) back into the net's own arrays. */
export function restoreParams(net, saved) {
  for (const [name, values] of Object.entries(paramsOf(net))) {
    if (!saved[name] || saved[name].length !== values.length) throw new Error("no saved values for " + name);
    values.set(saved[name]);
  }
}

/**
 * A net on the given layer plan and parameters (each layer gets its weight and bias arrays; no copy).
 * @param {NetLayer[]} layers
 * @param {Params} params
 * @returns {Net & {byName: Object<string, NetLayer>}}
 */
export function buildNet(layers, params) {
  const built = layers.map((layer) => ({
    ...layer, weight: params[layer.name + ".weight"] || null, bias: params[layer.name + ".bias"] || null,
  }));
  return { layers: built, byName: Object.fromEntries(built.map((l) => [l.name, l])) };
}

/**
 * One plain gradient-descent step in place: p ← p − lr·g (torch.optim.SGD without momentum).
 * @param {Net} net
 * @param {Params} gradParams
 * @param {number} lr
 */
export function sgdStep(net, gradParams, lr) {
  for (const [name, values] of Object.entries(paramsOf(net))) {
    const g = gradParams[name];
    if (!g) continue;
    for (let i = 0; i < values.length; i++) values[i] -= Math.fround(lr * g[i]);
  }
}

/** The learning rates Learn from this offers (its select), smallest first. */
export const LEARNING_RATES = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
/** Steps within which the suggested learning rate makes the network say the True label. */
export const SUGGEST_WITHIN = 3;
/** The largest step the suggestion allows: this share of the weights' size (‖lr·∂loss/∂weights‖ ≤ share·‖weights‖). */
export const MAX_STEP_SHARE = 0.02;

/** √(Σ v²) over every array of some parameters. @param {Params} params */
function normOf(params) {
  let sum = 0;
  for (const values of Object.values(params)) for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}

/**
 * The learning rate Learn from this suggests for one input and its True label: the smallest of
 * `rates` with which `within` Steps (each a plain SGD step on that input's loss, as learn.js takes
 * them) make the net predict the label, tried on the net itself (a bisection over the rates, about
 * log₂(rates) tries of up to `within` steps; the weights are put back exactly). Capped: no rate whose
 * first step would move the weights by more than `maxShare` of their size (a larger step turns this
 * input at the cost of many others); when even the cap is not enough, the cap is suggested and
 * `steps` is null (more Steps will be needed). When the net already says the label, the cap too
 * (`steps` 0). The smallest rate that does it is the gentlest on everything else the net knows.
 * @param {Net} net
 * @param {ArrayLike<number>} input
 * @param {number} label
 * @param {{rates?: number[], within?: number, maxShare?: number}} [options]
 * @returns {{rate: number, steps: number | null}} `steps`: after how many Steps at `rate` the net
 *   says the label (0: it does already; null: not within `within`)
 */
export function suggestLearningRate(net, input, label, { rates = LEARNING_RATES, within = SUGGEST_WITHIN,
  maxShare = MAX_STEP_SHARE } = {}) {
  const start = forwardTrace(net, input);
  const first = backward(net, start, label);
  const gradNorm = normOf(first.gradParams);
  const cap = gradNorm > 0 ? (maxShare * normOf(paramsOf(net))) / gradNorm : Infinity;
  const allowed = rates.filter((rate) => rate <= cap);
  if (!allowed.length) allowed.push(rates[0]);
  if (start.prediction === label) return { rate: allowed[allowed.length - 1], steps: 0 };
  const saved = cloneParams(net);
  // after how many steps at this rate the net says the label (0: not within `within`)
  const stepsAt = (rate) => {
    let said = 0, trace = start;
    for (let step = 1; step <= within && !said; step++) {
      sgdStep(net, (step === 1 ? first : backward(net, trace, label)).gradParams, rate);
      trace = forwardTrace(net, input);
      if (trace.prediction === label && Number.isFinite(crossEntropyLoss(trace.logits, label))) said = step;
    }
    restoreParams(net, saved);
    return said;
  };
  // the first rate that does it is in (lo, hi]; allowed.length stands for "none"
  let lo = -1, hi = allowed.length, steps = null;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const said = stepsAt(allowed[mid]);
    if (said) { hi = mid; steps = said; } else lo = mid;
  }
  return hi < allowed.length ? { rate: allowed[hi], steps } : { rate: allowed[allowed.length - 1], steps: null };
}

/**
 * Adam on the net's parameters, with torch.optim.Adam's defaults and update rule (no weight decay,
 * no amsgrad): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
 * @param {Net} net
 * @param {{lr?: number, betas?: [number, number], eps?: number}} [options]
 * @returns {{step: (gradParams: Params) => void}}
 */
export function createAdam(net, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8 } = {}) {
  const [beta1, beta2] = betas;
  const state = Object.entries(paramsOf(net)).map(([name, values]) => ({
    name, values, m: new Float32Array(values.length), v: new Float32Array(values.length),
  }));
  let t = 0;
  return {
    step(gradParams) {
      t += 1;
      const stepSize = lr / (1 - beta1 ** t);
      const correction2 = Math.sqrt(1 - beta2 ** t);
      for (const { name, values, m, v } of state) {
        const g = gradParams[name];
        if (!g) continue;
        for (let i = 0; i < values.length; i++) {
          m[i] += (1 - beta1) * (g[i] - m[i]);
          v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
          values[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / correction2 + eps));
        }
      }
    },
  };
}

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1). @param {number} seed */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fresh parameters with PyTorch's default init, seeded: conv and linear weights kaiming-uniform
 * with a = √5, i.e. U(−1/√fan_in, 1/√fan_in), and biases U(−1/√fan_in, 1/√fan_in).
 * @param {NetLayer[]} layers  a layer plan (weights are not read)
 * @param {number} seed
 * @returns {Params}
 */
export function initParams(layers, seed) {
  const next = random(seed);
  const params = /** @type {Record<string, Float32Array>} */ ({});
  for (const layer of layers) {
    let fanIn, weights;
    if (layer.kind === "conv") {
      const k = layer.geometry.kernel;
      fanIn = layer.input_shape[0] * k * k;
      weights = layer.output_shape[0] * fanIn;
    } else if (layer.kind === "linear") {
      fanIn = layer.input_shape[0];
      weights = layer.output_shape[0] * fanIn;
    } else continue;
    const bound = 1 / Math.sqrt(fanIn);
    const uniform = (n) => Float32Array.from({ length: n }, () => (2 * next() - 1) * bound);
    params[layer.name + ".weight"] = uniform(weights);
    params[layer.name + ".bias"] = uniform(layer.output_shape[0]);
  }
  return params;
}

// ---- explanations: how one unit's gradient follows from the next layer's --------------------

/**
 * How ∂loss/∂(one unit) is computed: from the layer that reads the unit (seen through flatten,
 * which only reshapes). `terms` are the products that add up to the value; `key` names the rule
 * (a catalogue message "learn.why_<key>" says it in words) and `values` fill its placeholders.
 * @param {Net} net
 * @param {Trace} trace
 * @param {Gradients} gradients  backward(net, trace, label)
 * @param {number} label
 * @param {string} layerName  a layer's name, or "input"
 * @param {number} index  the unit's flat index in that layer's output (C×H×W order)
 * @returns {{value: number, key: string, values: Object<string, number|string>,
 *   terms: {layer: string, index: number, factor: number, grad: number}[]}}
 */
export function explainGradient(net, trace, gradients, label, layerName, index) {
  const layers = net.layers;
  const at = layerName === "input" ? -1 : layers.findIndex((l) => l.name === layerName);
  if (at < -1 || (at === -1 && layerName !== "input")) throw new Error("no layer " + layerName);
  const value = at === -1 ? gradients.gradInput[index] : gradients.gradOutputs[at][index];
  let next = at + 1;
  while (next < layers.length && layers[next].kind === "flatten") next++;
  if (next >= layers.length) { // a logit: softmax cross-entropy
    const p = trace.probabilities[index], y = index === label ? 1 : 0;
    return { value, key: "logit", values: { p: formulaNumber(p), y, value: formulaNumber(value) },
      terms: [{ layer: "softmax", index, factor: 1, grad: p - y }] };
  }
  const reader = layers[next], g = gradients.gradOutputs[next];
  const terms = [];
  if (SLOPES[reader.kind]) {
    const slope = SLOPES[reader.kind](trace.outputs[next][index]);
    terms.push({ layer: reader.name, index, factor: slope, grad: g[index] });
    return { value, key: "activation", terms,
      values: { next: reader.name, grad: formulaNumber(g[index]), slope: formulaNumber(slope), value: formulaNumber(value) } };
  }
  if (reader.kind === "linear") {
    const n = reader.input_shape[0], m = reader.output_shape[0];
    for (let o = 0; o < m; o++) terms.push({ layer: reader.name, index: o, factor: reader.weight[o * n + index], grad: g[o] });
    return { value, key: "linear", terms, values: { next: reader.name, count: m, value: formulaNumber(value) } };
  }
  const [, h, w] = reader.input_shape;
  const [, oh, ow] = reader.output_shape;
  const { kernel: k, stride: s, padding: p = 0 } = reader.geometry;
  const ci = Math.floor(index / (h * w)), y = Math.floor((index % (h * w)) / w), x = index % w;
  // the output positions r whose window (r·s − p … r·s − p + k − 1) holds row y, and the offset i in it
  const covering = (pos, outSize) => {
    const out = [];
    for (let r = 0; r < outSize; r++) {
      const i = pos - (r * s - p);
      if (i >= 0 && i < k) out.push([r, i]);
    }
    return out;
  };
  const rows = covering(y, oh), cols = covering(x, ow);
  if (reader.kind === "conv") {
    const cin = reader.input_shape[0], cout = reader.output_shape[0];
    for (let o = 0; o < cout; o++) {
      for (const [r, i] of rows) {
        for (const [c, j] of cols) {
          const out = (o * oh + r) * ow + c;
          terms.push({ layer: reader.name, index: out, factor: reader.weight[((o * cin + ci) * k + i) * k + j], grad: g[out] });
        }
      }
    }
    return { value, key: "conv", terms, values: { next: reader.name, count: terms.length, k, value: formulaNumber(value) } };
  }
  const argmax = trace.argmax[next];
  for (const [r] of rows) {
    for (const [c] of cols) {
      const out = (ci * oh + r) * ow + c;
      if (argmax) { if (argmax[out] === index) terms.push({ layer: reader.name, index: out, factor: 1, grad: g[out] }); }
      else terms.push({ layer: reader.name, index: out, factor: 1 / (k * k), grad: g[out] });
    }
  }
  return argmax
    ? { value, key: terms.length ? "max" : "max_none", terms, values: { next: reader.name, count: terms.length, value: formulaNumber(value) } }
    : { value, key: "avg", terms, values: { next: reader.name, count: terms.length, k, value: formulaNumber(value) } };
}

/**
 * Saliency, gradient × input for one class (the predicted one unless ``target`` is given, as Learn
 * from this gives the True label): x · ∂log p(target)/∂x per input value. Positive where the pixel
 * pushes the network towards that class. Also the predicted class and the target.
 * @param {Net} net
 * @param {Trace} trace
 * @param {number} [target]
 * @returns {{predicted: number, target: number, saliency: Float32Array}}
 */
export function saliency(net, trace, target = trace.prediction) {
  const predicted = trace.prediction;
  const { gradInput } = backward(net, trace, target); // ∂(−log p)/∂x
  const out = new Float32Array(gradInput.length);
  for (let i = 0; i < out.length; i++) out[i] = -gradInput[i] * trace.input[i];
  return { predicted, target, saliency: out };
}
