// node --test tests/js/backprop.test.mjs: lenet_viz/netview/backprop.js under node.
// The torch parity cases come from tests/backprop_reference.py, written to the folder in
// $BACKPROP_CASES (tests/unit/test_backprop_js.py does both); the other tests need nothing else.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import * as bp from "../../lenet_viz/netview/backprop.js";
import { formulaNumber } from "../../lenet_viz/netview/format.js";
import { checkCase } from "./backprop_parity.mjs";

const CASES = process.env.BACKPROP_CASES;
const caseFiles = CASES ? readdirSync(CASES).filter((f) => f.endsWith(".json")).sort() : [];

test("torch reference cases are there", { skip: !CASES && "BACKPROP_CASES is not set (run tests/unit/test_backprop_js.py)" }, () => {
  assert.ok(caseFiles.length >= 11, `${caseFiles.length} cases in ${CASES}`);
});

for (const file of caseFiles) {
  test(`gradients and optimiser steps equal torch's: ${file}`, () => {
    const { name, failures, worst } = checkCase(bp, JSON.parse(readFileSync(join(CASES, file), "utf8")));
    console.log(`${name}: worst gradient diff ${worst.grad.toExponential(2)}, worst step error ${worst.step.toFixed(3)}× tolerance`);
    assert.deepEqual(failures, []);
  });
}

// A small net of every layer kind, with PyTorch-style initial weights.
const TINY = [
  { name: "conv1", kind: "conv", input_shape: [2, 7, 7], output_shape: [3, 4, 4], geometry: { kernel: 3, stride: 2, padding: 1 } },
  { name: "act1", kind: "tanh", input_shape: [3, 4, 4], output_shape: [3, 4, 4] },
  { name: "pool1", kind: "maxpool", input_shape: [3, 4, 4], output_shape: [3, 3, 3], geometry: { kernel: 2, stride: 1, padding: 0 } },
  { name: "conv2", kind: "conv", input_shape: [3, 3, 3], output_shape: [2, 3, 3], geometry: { kernel: 1, stride: 1, padding: 0 } },
  { name: "act2", kind: "sigmoid", input_shape: [2, 3, 3], output_shape: [2, 3, 3] },
  { name: "pool2", kind: "avgpool", input_shape: [2, 3, 3], output_shape: [2, 2, 2], geometry: { kernel: 2, stride: 1, padding: 0 } },
  { name: "flatten", kind: "flatten", input_shape: [2, 2, 2], output_shape: [8] },
  { name: "fc1", kind: "linear", input_shape: [8], output_shape: [5] },
  { name: "act3", kind: "relu", input_shape: [5], output_shape: [5] },
  { name: "fc2", kind: "linear", input_shape: [5], output_shape: [3] },
];

const tinyInput = () => Float32Array.from({ length: 2 * 7 * 7 }, (_, i) => ((i * 37) % 11) / 10);

test("every gradient agrees with a finite difference of the loss", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 3));
  const x = tinyInput();
  const label = 1;
  const { gradParams, gradInput } = bp.backward(net, bp.forwardTrace(net, x), label);
  const lossAt = () => bp.backward(net, bp.forwardTrace(net, x), label).loss;
  const h = 1e-2;
  const probe = (values, i) => {
    const keep = values[i];
    values[i] = keep + h; const up = lossAt();
    values[i] = keep - h; const down = lossAt();
    values[i] = keep;
    return (up - down) / (2 * h);
  };
  let checked = 0;
  for (const [name, values] of Object.entries(bp.paramsOf(net))) {
    for (let i = 0; i < values.length; i += 5) {
      assert.ok(Math.abs(probe(values, i) - gradParams[name][i]) < 2e-3, `${name}[${i}]`);
      checked++;
    }
  }
  for (let i = 0; i < x.length; i += 7) assert.ok(Math.abs(probe(x, i) - gradInput[i]) < 2e-3, `input[${i}]`);
  assert.ok(checked > 20);
});

test("initParams follows PyTorch's default bounds, seeded", () => {
  const params = bp.initParams(TINY, 7);
  assert.deepEqual(Object.keys(params), ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
    "fc1.bias", "fc2.weight", "fc2.bias"]);
  assert.equal(params["conv1.weight"].length, 3 * 2 * 3 * 3);
  const fanIn = { conv1: 18, conv2: 3, fc1: 8, fc2: 5 };
  for (const [name, values] of Object.entries(params)) {
    const bound = 1 / Math.sqrt(fanIn[name.split(".")[0]]);
    assert.ok(values.every((v) => Math.abs(v) <= bound), name);
  }
  const big = bp.initParams([{ name: "fc", kind: "linear", input_shape: [400], output_shape: [120] }], 1)["fc.weight"];
  const bound = 1 / Math.sqrt(400);
  const mean = big.reduce((a, b) => a + b, 0) / big.length;
  const std = Math.sqrt(big.reduce((a, b) => a + (b - mean) ** 2, 0) / big.length);
  assert.ok(Math.abs(mean) < 0.01 * bound && Math.abs(std - bound / Math.sqrt(3)) < 0.01 * bound, `${mean} ${std}`);
  assert.deepEqual(bp.initParams(TINY, 7), params);
  assert.notDeepEqual(bp.initParams(TINY, 8), params);
});

test("cloneParams and restoreParams undo a step", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 1));
  const saved = bp.cloneParams(net);
  const before = bp.forwardTrace(net, tinyInput()).probabilities;
  const { gradParams } = bp.backward(net, bp.forwardTrace(net, tinyInput()), 2);
  bp.sgdStep(net, gradParams, 0.5);
  const after = bp.forwardTrace(net, tinyInput()).probabilities;
  assert.ok(after[2] > before[2], "a step raises the true class");
  bp.restoreParams(net, saved);
  assert.deepEqual(bp.forwardTrace(net, tinyInput()).probabilities, before);
  assert.throws(() => bp.restoreParams(net, {}), /no saved values for conv1.weight/);
});

test("bad inputs and labels raise clear errors", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 1));
  assert.throws(() => bp.forwardTrace(net, new Float32Array(3)), /the input needs 98 values, got 3/);
  const trace = bp.forwardTrace(net, tinyInput());
  assert.throws(() => bp.backward(net, trace, 3), /the label must be 0…2, got 3/);
  assert.throws(() => bp.backwardBatch(net, [tinyInput()], []), /as many labels as inputs/);
});

test("explainGradient's terms add up to every unit's gradient, through every kind of layer", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 5));
  const trace = bp.forwardTrace(net, tinyInput());
  const label = 0;
  const grads = bp.backward(net, trace, label);
  const keys = new Set();
  const names = ["input", ...TINY.filter((l) => l.kind !== "flatten").map((l) => l.name)];
  for (const name of names) {
    const values = name === "input" ? grads.gradInput : grads.gradOutputs[TINY.findIndex((l) => l.name === name)];
    for (let i = 0; i < values.length; i++) {
      const why = bp.explainGradient(net, trace, grads, label, name, i);
      const sum = why.terms.reduce((a, t) => a + t.factor * t.grad, 0);
      assert.ok(Math.abs(sum - values[i]) < 1e-6 && why.value === values[i], `${name}[${i}]: ${sum} vs ${values[i]}`);
      keys.add(why.key);
    }
  }
  // the input and pool2 read through conv1 and (via flatten) fc1; act1 → maxpool; conv2 → sigmoid …
  assert.deepEqual([...keys].sort(), ["activation", "avg", "conv", "linear", "logit", "max", "max_none"]);
  const logit = bp.explainGradient(net, trace, grads, label, "fc2", 0);
  assert.deepEqual(logit.values, { p: formulaNumber(trace.probabilities[0]), y: 1, value: formulaNumber(grads.gradOutputs[9][0]) });
  assert.throws(() => bp.explainGradient(net, trace, grads, label, "conv9", 0), /no layer conv9/);
});

test("saliency is input × ∂log p(predicted)/∂input", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 2));
  const x = tinyInput();
  const { predicted, saliency } = bp.saliency(net, bp.forwardTrace(net, x));
  const logP = () => Math.log(bp.forwardTrace(net, x).probabilities[predicted]);
  assert.equal(predicted, bp.forwardTrace(net, x).prediction);
  assert.equal(bp.argmaxOf(bp.forwardTrace(net, x).probabilities), predicted);
  assert.equal(bp.argmaxOf([0.1, 0.7, 0.7, 0.2]), 1); // the first on ties, as torch's argmax
  for (let i = 1; i < x.length; i += 9) {
    const keep = x[i];
    x[i] = keep + 1e-2; const up = logP();
    x[i] = keep - 1e-2; const down = logP();
    x[i] = keep;
    assert.ok(Math.abs(((up - down) / 2e-2) * keep - saliency[i]) < 1e-3, `pixel ${i}`);
  }
});

test("saliency for another class is input × ∂log p(that class)/∂input (Learn from this: the True label)", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 2));
  const x = tinyInput();
  const predicted = bp.forwardTrace(net, x).prediction;
  const target = (predicted + 1) % bp.forwardTrace(net, x).probabilities.length;
  const result = bp.saliency(net, bp.forwardTrace(net, x), target);
  assert.equal(result.target, target);
  assert.equal(result.predicted, predicted);
  const logP = () => Math.log(bp.forwardTrace(net, x).probabilities[target]);
  for (let i = 1; i < x.length; i += 9) {
    const keep = x[i];
    x[i] = keep + 1e-2; const up = logP();
    x[i] = keep - 1e-2; const down = logP();
    x[i] = keep;
    assert.ok(Math.abs(((up - down) / 2e-2) * keep - result.saliency[i]) < 1e-3, `pixel ${i}`);
  }
});

test("backwardBatch with trainable layers gives those layers' gradients alone, the same as in full", () => {
  const net = bp.buildNet(TINY, bp.initParams(TINY, 4));
  const inputs = [tinyInput(), tinyInput().map((v) => 1 - v), tinyInput().map((v, i) => (i % 3 ? v : 0))];
  const labels = [0, 2, 1];
  const full = bp.backwardBatch(net, inputs, labels);
  for (const trainable of [["fc1", "fc2"], ["conv2", "fc2"]]) {
    const part = bp.backwardBatch(net, inputs, labels, { trainable });
    assert.equal(part.loss, full.loss);
    assert.equal(part.correct, full.correct);
    assert.deepEqual(Object.keys(part.gradParams), trainable.flatMap((n) => [`${n}.weight`, `${n}.bias`]));
    for (const [name, values] of Object.entries(part.gradParams)) assert.deepEqual(values, full.gradParams[name], name);
  }
  assert.throws(() => bp.backwardBatch(net, inputs, labels, { trainable: ["fc9"] }), /no layer named fc9/);
});
