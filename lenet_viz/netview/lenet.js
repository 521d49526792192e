// LeNet in the browser: the forward pass of any network LeNetSpec describes (outputs follow torch's
// layer names and C×H×W order) and unit explanations for hover. The payload comes from
// lenet_viz/netview_payload.py and is checked by payload.js; tested against torch in Chromium
// (tests/browser/test_netview_maths.py) and under node (tests/js/).

import { formulaNumber as fmt } from "./format.js";
import { checkNetworkPayload, decodeWeightSet } from "./payload.js";

// payload → model: the payload checked, every weight set decoded once (scrubbing snapshots never
// decodes again); model.sets holds one Float32Array per set, the last one the final model.
export function decode(payload) {
  const count = checkNetworkPayload(payload);
  return {
    id: payload.model_id,
    spec: payload.spec,
    layers: payload.layers,
    tensors: payload.tensors,
    setInfo: payload.set_info || null,
    sets: payload.weight_sets.map((text) => decodeWeightSet(text, payload.dtype, count)),
    nets: [],
  };
}

// model, set index → net: the layers with views on that set's weights (cached per set).
export function net(model, setIndex) {
  const index = setIndex === undefined ? model.sets.length - 1 : setIndex;
  if (!(index >= 0 && index < model.sets.length)) throw new Error("no weight set " + setIndex);
  if (model.nets[index]) return model.nets[index];
  const flat = model.sets[index];
  const params = /** @type {Record<string, Float32Array>} */ ({});
  for (const t of model.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    params[t.name] = flat.subarray(t.offset, t.offset + size);
  }
  const layers = model.layers.map((layer) => ({
    ...layer,
    weight: params[layer.name + ".weight"] || null,
    bias: params[layer.name + ".bias"] || null,
  }));
  const built = { model, setIndex: index, layers, byName: Object.fromEntries(layers.map((l) => [l.name, l])) };
  model.nets[index] = built;
  return built;
}

// ---- layers ----------------------------------------------------------------------------

function conv(layer, x) {
  const [cin, h, w] = layer.input_shape;
  const [cout, oh, ow] = layer.output_shape;
  const { kernel: k, stride: s, padding: p } = layer.geometry;
  const W = layer.weight, B = layer.bias;
  const out = new Float32Array(cout * oh * ow);
  for (let o = 0; o < cout; o++) {
    const outBase = o * oh * ow;
    for (let r = 0; r < oh; r++) {
      const top = r * s - p;
      const i0 = Math.max(0, -top), i1 = Math.min(k, h - top);
      for (let c = 0; c < ow; c++) {
        const left = c * s - p;
        const j0 = Math.max(0, -left), j1 = Math.min(k, w - left);
        let sum = B[o];
        for (let ci = 0; ci < cin; ci++) {
          const wBase = (o * cin + ci) * k * k;
          const xBase = ci * h * w;
          for (let i = i0; i < i1; i++) {
            const xRow = xBase + (top + i) * w + left;
            const wRow = wBase + i * k;
            for (let j = j0; j < j1; j++) sum += W[wRow + j] * x[xRow + j];
          }
        }
        out[outBase + r * ow + c] = sum;
      }
    }
  }
  return out;
}

function pool(layer, x) {
  const [ch, h, w] = layer.input_shape;
  const [, oh, ow] = layer.output_shape;
  const { kernel: k, stride: s } = layer.geometry;
  const isMax = layer.kind === "maxpool";
  const out = new Float32Array(ch * oh * ow);
  for (let m = 0; m < ch; m++) {
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        let acc = isMax ? -Infinity : 0;
        for (let i = 0; i < k; i++) {
          const row = m * h * w + (r * s + i) * w + c * s;
          for (let j = 0; j < k; j++) {
            const v = x[row + j];
            if (isMax) { if (v > acc || Number.isNaN(v)) acc = v; } else acc += v;
          }
        }
        out[(m * oh + r) * ow + c] = isMax ? acc : acc / (k * k);
      }
    }
  }
  return out;
}

function linear(layer, x) {
  const n = layer.input_shape[0], m = layer.output_shape[0];
  const W = layer.weight, B = layer.bias;
  const out = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    let sum = B[o];
    const base = o * n;
    for (let i = 0; i < n; i++) sum += W[base + i] * x[i];
    out[o] = sum;
  }
  return out;
}

const ACTIVATIONS = {
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  relu: (v) => (v > 0 ? v : 0),
  tanh: Math.tanh,
};

function activate(layer, x) {
  const f = ACTIVATIONS[layer.kind];
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  return out;
}

function runLayer(layer, x) {
  switch (layer.kind) {
    case "conv": return conv(layer, x);
    case "avgpool":
    case "maxpool": return pool(layer, x);
    case "flatten": return x;
    case "linear": return linear(layer, x);
    default:
      if (ACTIVATIONS[layer.kind]) return activate(layer, x);
      throw new Error("unknown layer kind " + layer.kind);
  }
}

export function softmax(logits) {
  let peak = -Infinity;
  for (const v of logits) peak = Math.max(peak, v);
  const out = new Float32Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += (out[i] = Math.exp(logits[i] - peak));
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** The index of the largest value (the first on ties): the prediction. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// net, C*H*W input in [0, 1] → every layer's output, the probabilities and the prediction.
export function forward(built, input) {
  const first = built.layers[0].input_shape;
  const size = first.reduce((a, b) => a * b, 1);
  if (!input || input.length !== size) throw new Error(`the input needs ${size} values, got ${input && input.length}`);
  let x = input instanceof Float32Array ? input : Float32Array.from(input);
  const outputs = /** @type {Record<string, Float32Array>} */ ({});
  const shapes = /** @type {Record<string, number[]>} */ ({});
  for (const layer of built.layers) {
    x = runLayer(layer, x);
    outputs[layer.name] = x;
    shapes[layer.name] = layer.output_shape.slice();
  }
  const probabilities = softmax(x);
  return { input: Float32Array.from(input), outputs, shapes, probabilities, prediction: argmax(probabilities) };
}

// ---- explanations (hover lines, tooltip) ----------------------------------------------

function previousOf(built, result, layerName) {
  const index = built.layers.findIndex((l) => l.name === layerName);
  if (index < 0) throw new Error("no layer " + layerName);
  const layer = built.layers[index];
  return index === 0
    ? { layer, prevName: "input", prev: result.input, prevLayer: null }
    : { layer, prevName: built.layers[index - 1].name, prev: result.outputs[built.layers[index - 1].name],
        prevLayer: built.layers[index - 1] };
}

/**
 * The weighted sum a conv or linear unit adds its bias to, shown as its own term so that the
 * explanation does not read as if the bias alone gave the value.
 * @param {{weight: number | null, value: number}[]} sources
 * @returns {number}
 */
function weightedSum(sources) {
  let sum = 0;
  for (const s of sources) sum += (s.weight ?? 0) * s.value;
  return sum;
}

// What one unit reads in the previous layer and how its value follows from it.
export function explainUnit(built, result, layerName, map, row, col) {
  const { layer, prevName, prev } = previousOf(built, result, layerName);
  const out = result.outputs[layerName];
  const spatial = layer.output_shape.length === 3;
  const [, oh, ow] = spatial ? layer.output_shape : [layer.output_shape[0], 1, 1];
  const value = spatial ? out[(map * oh + row) * ow + col] : out[map];
  const sources = [];
  let bias = null, window = null, formula, words;
  if (layer.kind === "conv") {
    const [cin, h, w] = layer.input_shape;
    const { kernel: k, stride: s, padding: p } = layer.geometry;
    const top = row * s - p, left = col * s - p;
    window = { top, left, size: k };
    bias = layer.bias[map];
    let padded = 0;
    for (let ci = 0; ci < cin; ci++) {
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const r = top + i, c = left + j;
          if (r < 0 || c < 0 || r >= h || c >= w) { padded++; continue; }
          sources.push({ layer: prevName, map: ci, row: r, col: c,
            weight: layer.weight[((map * cin + ci) * k + i) * k + j], value: prev[(ci * h + r) * w + c] });
        }
      }
    }
    const sum = weightedSum(sources);
    formula = `Σ ${sources.length} weights × inputs (${cin} channel${cin > 1 ? "s" : ""}, ${k}×${k} window` +
      (padded ? `, ${padded} padding cells = 0` : "") + `) = ${fmt(sum)}, plus bias ${fmt(bias)} = ${fmt(value)}`;
    words = { key: `f_conv${cin > 1 ? "" : "_one"}${padded ? "_padded" : ""}`,
      values: { count: sources.length, channels: cin, k, padded, sum: fmt(sum), bias: fmt(bias), value: fmt(value) } };
  } else if (layer.kind === "avgpool" || layer.kind === "maxpool") {
    const [, h, w] = layer.input_shape;
    const { kernel: k, stride: s } = layer.geometry;
    window = { top: row * s, left: col * s, size: k };
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const r = row * s + i, c = col * s + j;
        sources.push({ layer: prevName, map, row: r, col: c, weight: null, value: prev[(map * h + r) * w + c] });
      }
    }
    formula = `${layer.kind === "maxpool" ? "max" : "mean"} of the ${k}×${k} window = ${fmt(value)}`;
    words = { key: layer.kind === "maxpool" ? "f_max" : "f_mean", values: { k, value: fmt(value) } };
  } else if (layer.kind === "linear") {
    const n = layer.input_shape[0];
    bias = layer.bias[map];
    for (let i = 0; i < n; i++) {
      sources.push({ layer: prevName, map: i, row: 0, col: 0, weight: layer.weight[map * n + i], value: prev[i] });
    }
    const sum = weightedSum(sources);
    formula = `Σ ${n} weights × inputs = ${fmt(sum)}, plus bias ${fmt(bias)} = ${fmt(value)}`;
    words = { key: "f_linear", values: { count: n, sum: fmt(sum), bias: fmt(bias), value: fmt(value) } };
  } else if (layer.kind === "flatten") {
    const [, h, w] = layer.input_shape;
    const m = Math.floor(map / (h * w)), r = Math.floor((map % (h * w)) / w), c = map % w;
    sources.push({ layer: prevName, map: m, row: r, col: c, weight: null, value: prev[map] });
    formula = `map ${m}, row ${r}, column ${c} of ${prevName} = ${fmt(value)}`;
    words = { key: "f_flatten", values: { map: m, row: r, col: c, source: prevName, value: fmt(value) } };
  } else {
    const index = spatial ? (map * oh + row) * ow + col : map;
    const input = prev[index];
    sources.push({ layer: prevName, map, row: spatial ? row : 0, col: spatial ? col : 0, weight: null, value: input });
    formula = `${layer.kind}(${fmt(input)}) = ${fmt(value)}`;
  }
  // formula: the explanation in English; words: its catalogue key and values, for the page's language
  return { value, kind: layer.kind, formula, words, sources, bias, window };
}
