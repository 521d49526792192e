// Learn from this's Step under node, on the cases tests/learn_cases.py writes (a bundled model, its
// samples, confident inputs to re-label): shared by tests/js/learn_rate.test.mjs and
// benchmarks/learn_rate.mjs, so that both step the network exactly as lenet_viz/netview/learn.js does.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { decodeArray } from "./backprop_parity.mjs";

/**
 * The cases in a folder: each bundled model's net (built with `bp`), its samples and the inputs.
 * @param {typeof import("../../lenet_viz/netview/backprop.js")} bp
 * @param {string} folder
 */
export function loadCases(bp, folder) {
  return readdirSync(folder).filter((f) => f.endsWith(".json")).sort().map((file) => {
    const raw = JSON.parse(readFileSync(join(folder, file), "utf8"));
    const params = Object.fromEntries(Object.entries(raw.params).map(([k, v]) => [k, decodeArray(v)]));
    const net = bp.buildNet(raw.layers, params);
    return { key: raw.key, classes: raw.classes, net, trained: bp.cloneParams(net),
      samples: raw.samples.map(decodeArray), labels: raw.labels,
      inputs: Object.entries(raw.inputs).map(([name, v]) => ({ name, input: decodeArray(v) })) };
  });
}

/** How many of the samples the net gets right. */
export function correct(bp, net, samples, labels) {
  return samples.filter((x, i) => bp.forwardTrace(net, x).prediction === labels[i]).length;
}

/**
 * Steps as learn.js's Step takes them (the gradient of the loss for `label` on `input`, one plain SGD
 * step at `rate`), until the net predicts `label` or `most` steps are taken. The net is left stepped.
 * @returns {{flipped: number | null, losses: number[], accuracy: number[]}} `flipped`: the step after
 *   which the net first said `label` (null: not within `most`); `losses`: the loss before and after
 *   each step; `accuracy`: samples right after each step (when `samples` are given)
 */
export function stepUntilSaid(bp, net, input, label, rate, most, samples = null, labels = null) {
  let trace = bp.forwardTrace(net, input);
  const losses = [bp.crossEntropyLoss(trace.logits, label)];
  const accuracy = [];
  for (let step = 1; step <= most; step++) {
    bp.sgdStep(net, bp.backward(net, trace, label).gradParams, rate);
    trace = bp.forwardTrace(net, input);
    losses.push(bp.crossEntropyLoss(trace.logits, label));
    if (samples) accuracy.push(correct(bp, net, samples, labels));
    if (trace.prediction === label) return { flipped: step, losses, accuracy };
  }
  return { flipped: null, losses, accuracy };
}

const PREVIOUS_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];

/**
 * The rule learn.js used until 2026-12-06, for comparison: the largest of its rates whose first
 * step, to first order (lr·‖∂loss/∂weights‖²), takes a quarter of the loss.
 */
export function previousSuggestion(bp, net, input, label) {
  const grads = bp.backward(net, bp.forwardTrace(net, input), label);
  let norm = 0;
  for (const g of Object.values(grads.gradParams)) for (const v of g) norm += v * v;
  const target = norm > 0 ? (0.25 * grads.loss) / norm : Infinity;
  return [...PREVIOUS_RATES].reverse().find((rate) => rate <= target) ?? PREVIOUS_RATES[0];
}
