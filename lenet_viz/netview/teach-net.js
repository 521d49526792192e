// The Teach page's networks and data, without DOM (the page and its worker share it; node tests it):
// a network plan for any number of classes, the weights it starts from, the held-out split, and
// the weights and drawings as base64 for the one Save to the server.
//
// A plan is {spec, layers, tensors} as lenet_viz/netview_payload.py builds a payload's (layers of
// lenet_viz.models.layer_plan, tensors in tensor_layout order with offsets into one flat array).

import { initParams } from "./backprop.js";

export { random } from "./backprop.js";

/**
 * @typedef {{name: string, shape: number[], offset: number}} Tensor
 * @typedef {{spec: any, layers: any[], tensors: Tensor[]}} Plan
 */

const count = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The plan with its last (fully connected) layer giving `classes` outputs: the one layer a taught
 * network has of its own; every other layer, and the offsets before it, stay as they were.
 * @param {Plan} plan
 * @param {number} classes
 * @returns {Plan}
 */
export function planFor(plan, classes) {
  const last = plan.layers[plan.layers.length - 1];
  if (last.kind !== "linear") throw new Error("a plan ends with a linear layer, not " + last.kind);
  const inputs = last.input_shape[0];
  const layers = plan.layers.slice(0, -1).concat(
    { ...last, output_shape: [classes], params: inputs * classes + classes });
  const tensors = [];
  let offset = 0;
  for (const t of plan.tensors) {
    const shape = t.name === `${last.name}.weight` ? [classes, inputs] : t.name === `${last.name}.bias` ? [classes] : t.shape;
    tensors.push({ name: t.name, shape, offset });
    offset += count(shape);
  }
  return { spec: { ...plan.spec, num_classes: classes }, layers, tensors };
}

/** How many floats a plan's weights take. @param {Plan} plan */
export function weightCount(plan) {
  const last = plan.tensors[plan.tensors.length - 1];
  return last.offset + count(last.shape);
}

/**
 * The plan's tensors as views on one flat array (what backprop.js's buildNet takes as params).
 * @param {Plan} plan
 * @param {Float32Array} flat
 * @returns {Object<string, Float32Array>}
 */
export function paramViews(plan, flat) {
  return Object.fromEntries(plan.tensors.map((t) => [t.name, flat.subarray(t.offset, t.offset + count(t.shape))]));
}

/**
 * The weights a new taught network starts from: PyTorch's default init (seeded) everywhere, or, with
 * `base` (the flat weights of a trained network on `basePlan`), that network's weights in every layer
 * but the last, which gets the fresh init for its new number of classes.
 * @param {Plan} plan  the taught network's plan (planFor)
 * @param {number} seed
 * @param {{plan: Plan, flat: Float32Array} | null} base
 * @returns {Float32Array}
 */
export function startingWeights(plan, seed, base = null) {
  const flat = new Float32Array(weightCount(plan));
  const fresh = initParams(plan.layers, seed);
  const views = paramViews(plan, flat);
  const kept = base ? paramViews(base.plan, base.flat) : {};
  const lastLayer = plan.layers[plan.layers.length - 1].name;
  for (const [name, view] of Object.entries(views)) {
    const keep = kept[name] && !name.startsWith(lastLayer + ".") && kept[name].length === view.length;
    view.set(keep ? kept[name] : fresh[name]);
  }
  return flat;
}

/**
 * The layers that train (backprop.js backwardBatch's `trainable`): undefined for all of them, or the
 * fully connected layers' names (the backward pass then stops below the first of them).
 * @param {Plan} plan
 * @param {"all" | "fc"} which
 * @returns {string[] | undefined}
 */
export function trainedLayers(plan, which) {
  return which === "fc" ? plan.layers.filter((l) => l.kind === "linear").map((l) => l.name) : undefined;
}

/** The items shuffled (Fisher–Yates) with a seeded PRNG. @template T @param {T[]} items */
export function shuffled(items, next) {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Which examples are held out: in each class, the share (rounded down) picked by example id, so an
 * example stays on its side when others are added or deleted (its accuracy stays comparable), and
 * every class keeps at least one to train on.
 * @param {{id: number, label: number}[]} examples
 * @param {number} share  0 … 0.5
 * @returns {Set<number>}  the ids held out
 */
export function heldOut(examples, share) {
  const held = new Set();
  const byClass = new Map();
  for (const e of examples) byClass.set(e.label, [...(byClass.get(e.label) ?? []), e]);
  for (const members of byClass.values()) {
    const n = Math.min(Math.floor(members.length * share), members.length - 1);
    const ranked = members.slice().sort((a, b) => hash(a.id) - hash(b.id) || a.id - b.id);
    for (const e of ranked.slice(0, Math.max(0, n))) held.add(e.id);
  }
  return held;
}

/** A fixed scramble of an id (so the held-out ones are not just the first drawn). */
function hash(id) {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The epochs after which a run keeps its weights (with epoch 0, the start): about `wanted` of them,
 * dense early, where most of the change happens; the last always.
 * @param {number} epochs
 * @param {number} wanted
 */
export function snapshotEpochs(epochs, wanted = 16) {
  const chosen = new Set([0, epochs]);
  for (let i = 1; i < wanted - 1; i++) chosen.add(Math.round(epochs ** (i / (wanted - 1))));
  return [...chosen].filter((e) => e >= 0 && e <= epochs).sort((a, b) => a - b);
}

/**
 * The confusion counts [true][predicted] of some examples.
 * @param {number[]} truth
 * @param {number[]} predicted
 * @param {number} classes
 */
export function confusion(truth, predicted, classes) {
  const counts = Array.from({ length: classes }, () => new Array(classes).fill(0));
  truth.forEach((t, i) => { counts[t][predicted[i]] += 1; });
  return counts;
}

/** Bytes as base64. @param {Uint8Array} bytes */
export function bytesBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Float32 values as base64 of their little-endian bytes (the payload's and the Save's form). */
export function floatsBase64(values) {
  return bytesBase64(new Uint8Array(Float32Array.from(values).buffer));
}

/**
 * Every example's image, one after another (the worker's and the Save's form).
 * @param {{image: Uint8Array}[]} examples
 * @param {number} size  pixels per side
 */
export function packImages(examples, size) {
  const images = new Uint8Array(examples.length * size * size);
  examples.forEach((e, i) => images.set(e.image, i * size * size));
  return images;
}

/**
 * The drawings a network was trained on, as Save sends them to be kept in its checkpoint (so that the
 * Train page can go on training it on them; lenet_viz.teach reads this form): images as base64 of
 * N×size×size bytes, the class index of each, and whether it was held out.
 * @param {{id: number, label: number, image: Uint8Array}[]} examples
 * @param {Set<number>} held  the ids held out
 * @param {number} size
 */
export function keptExamples(examples, held, size) {
  return { images: bytesBase64(packImages(examples, size)), labels: examples.map((e) => e.label),
    held_out: examples.map((e) => held.has(e.id)) };
}

/**
 * Whether two class names are the same class to a reader (as lenet_viz.teach.name_key: NFKC, trimmed,
 * lower case).
 */
export function nameKey(name) {
  return name.normalize("NFKC").trim().toLowerCase();
}
