// node --test tests/js/learn_rate.test.mjs: the learning rate Learn from this suggests
// (lenet_viz/netview/backprop.js suggestLearningRate). The bundled models' cases come from
// tests/learn_cases.py, written to the folder in $LEARN_CASES (tests/unit/test_learn_rate_js.py
// does both); the hand-made tests beside them need nothing else.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as bp from "../../lenet_viz/netview/backprop.js";
import { correct, loadCases, previousSuggestion, stepUntilSaid } from "./learn_steps.mjs";

const CASES = process.env.LEARN_CASES;
const NO_CASES = CASES ? false : "LEARN_CASES is not set (run tests/unit/test_learn_rate_js.py)";
const WITHIN = 3; // Steps a student presses before the network says the True label (the point of Step)

// Confident inputs told they are something else: [model, input, True label, samples right after
// the steps at least]. The model reads each as class 7 (a 7, a sneaker) with p ≥ 0.99; the rule
// before 2026-12-06 needed 6 to 31 Steps for each. The floors leave room below what the
// steps cost on 2026-12-06 (benchmarks/README.md): the bundled samples must not be wrecked.
const CONFIDENTLY_WRONG = [
  ["digits", "drawn seven", 3, 27], // the browser tests' drawing and label
  ["digits", "sample 22", 6, 22],
  ["digits", "sample 21", 0, 25],
  ["digits", "sample 22", 4, 22],
  ["fashion", "sample 21", 9, 18], // a sneaker → ankle boot
  ["fashion", "sample 21", 0, 12], // → T-shirt/top
];

const models = CASES ? Object.fromEntries(loadCases(bp, CASES).map((m) => [m.key, m])) : {};
const sizeOf = (params) => Math.sqrt(Object.values(params).reduce((a, v) => a + v.reduce((b, x) => b + x * x, 0), 0));

for (const [key, name, label, floor] of CONFIDENTLY_WRONG) {
  test(`${key}, ${name} told it is ${label}: Step at the suggested rate turns it within ${WITHIN} presses`, { skip: NO_CASES }, () => {
    const model = models[key];
    assert.ok(model, `no bundled model ${key} in ${CASES}`);
    const { net, trained, samples, labels } = model;
    const { input } = model.inputs.find((i) => i.name === name);
    bp.restoreParams(net, trained);
    const start = bp.forwardTrace(net, input);
    assert.equal(start.prediction, 7);
    assert.ok(start.probabilities[7] >= 0.99, `p(7) = ${start.probabilities[7]}`);

    const previous = previousSuggestion(bp, net, input, label);
    assert.ok(stepUntilSaid(bp, net, input, label, previous, WITHIN).flipped === null,
      `the rule before took ${WITHIN} Steps or fewer at ${previous}: not a case that shows the change`);
    bp.restoreParams(net, trained);

    const suggested = bp.suggestLearningRate(net, input, label);
    assert.deepEqual(bp.cloneParams(net), trained, "trying the rates leaves the weights exactly as they were");
    const gradients = bp.backward(net, start, label).gradParams;
    assert.ok(suggested.rate * sizeOf(gradients) <= bp.MAX_STEP_SHARE * sizeOf(trained) * (1 + 1e-6),
      "the first step moves the weights by at most MAX_STEP_SHARE of their size");
    const run = stepUntilSaid(bp, net, input, label, suggested.rate, WITHIN, samples, labels);
    assert.ok(run.flipped !== null && run.flipped <= WITHIN, `at ${suggested.rate}: ${JSON.stringify(run)}`);
    assert.equal(run.flipped, suggested.steps, "the suggestion says after how many Steps");
    assert.ok(run.losses.every((loss, i) => i === 0 || loss < run.losses[i - 1]), `each Step lowers the loss: ${run.losses}`);
    assert.ok(run.accuracy.every((right) => right >= floor), `samples right after each step: ${run.accuracy}, floor ${floor}`);
    bp.restoreParams(net, trained);
  });
}

// A small net of every kind of layer this suggestion must handle (as backprop.test.mjs's).
const TINY = [
  { name: "conv1", kind: "conv", input_shape: [1, 6, 6], output_shape: [3, 4, 4], geometry: { kernel: 3, stride: 1, padding: 0 } },
  { name: "act1", kind: "relu", input_shape: [3, 4, 4], output_shape: [3, 4, 4] },
  { name: "pool1", kind: "maxpool", input_shape: [3, 4, 4], output_shape: [3, 2, 2], geometry: { kernel: 2, stride: 2, padding: 0 } },
  { name: "flatten", kind: "flatten", input_shape: [3, 2, 2], output_shape: [12] },
  { name: "fc1", kind: "linear", input_shape: [12], output_shape: [4] },
];
const tinyInput = () => Float32Array.from({ length: 36 }, (_, i) => ((i * 17) % 7) / 6);

test("the suggestion is the smallest listed rate that makes the net say the label within 3 Steps", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 11));
  const x = tinyInput();
  const trained = bp.cloneParams(net);
  const label = (bp.forwardTrace(net, x).prediction + 1) % 4;
  const rates = [0.001, 0.01, 0.1, 1, 10, 100];
  const { rate, steps } = bp.suggestLearningRate(net, x, label, { rates, maxShare: Infinity });
  assert.deepEqual(bp.cloneParams(net), trained);
  const at = (r) => { bp.restoreParams(net, trained); return stepUntilSaid(bp, net, x, label, r, 3).flipped; };
  assert.ok(steps >= 1 && steps <= 3 && at(rate) === steps, `${rate}: ${steps}`);
  for (const smaller of rates.filter((r) => r < rate)) assert.equal(at(smaller), null, `${smaller} does it too`);
});

test("the suggestion is capped: no step larger than maxShare of the weights, and it says when that is not enough", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 11));
  const x = tinyInput();
  const label = (bp.forwardTrace(net, x).prediction + 1) % 4;
  const rates = [0.001, 0.01, 0.1, 1, 10, 100];
  const grads = sizeOf(bp.backward(net, bp.forwardTrace(net, x), label).gradParams);
  const maxShare = 0.001; // far too small a step to turn it in 3
  const capped = bp.suggestLearningRate(net, x, label, { rates, maxShare });
  assert.equal(capped.steps, null);
  const cap = (maxShare * sizeOf(bp.paramsOf(net))) / grads;
  assert.equal(capped.rate, Math.max(...rates.filter((r) => r <= cap)), `cap ${cap}`);
  assert.equal(bp.suggestLearningRate(net, x, label, { rates: [10, 100], maxShare }).rate, 10, "the smallest when all are too large");
});

test("when the net already says the label, the suggestion is the largest rate within the cap (0 steps)", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 11));
  const x = tinyInput();
  const predicted = bp.forwardTrace(net, x).prediction;
  const { rate, steps } = bp.suggestLearningRate(net, x, predicted);
  assert.equal(steps, 0);
  const grads = sizeOf(bp.backward(net, bp.forwardTrace(net, x), predicted).gradParams);
  const cap = (bp.MAX_STEP_SHARE * sizeOf(bp.paramsOf(net))) / grads;
  assert.equal(rate, Math.max(...bp.LEARNING_RATES.filter((r) => r <= cap)) || bp.LEARNING_RATES[0]);
});

test("bundled cases are there", { skip: NO_CASES }, () => {
  assert.deepEqual(Object.keys(models).sort(), ["digits", "fashion"]);
  for (const m of Object.values(models)) assert.ok(m.samples.length >= 20 && correct(bp, m.net, m.samples, m.labels) > 0);
});
