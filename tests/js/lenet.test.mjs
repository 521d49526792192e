// lenet.js: the forward pass and unit explanations, on a network small enough to check by hand, and
// on Python's payloads against torch's outputs (tests/unit/test_js_tooling.py writes them).
import assert from "node:assert/strict";
import { test } from "node:test";

import { formulaNumber } from "../../lenet_viz/netview/format.js";
import { decode, explainUnit, forward, net, softmax } from "../../lenet_viz/netview/lenet.js";
import { PAYLOAD_VERSION } from "../../lenet_viz/netview/payload.js";
import { fixture, NO_FIXTURES } from "./fixtures.mjs";

const TOLERANCE = 1e-4; // float32 sums in another order than torch's

/** conv 1→1 (2×2 kernel, stride 1, no padding) on 3×3, relu, max pool 2 (stride 1 → 1×1), flatten, linear 1 → 2. */
function handPayload() {
  const weights = new Float32Array([1, 0, 0, -1, /* conv bias */ 0.5, /* fc */ 2, -1, /* fc bias */ 0, 1]);
  const conv = { kernel: 2, stride: 1, padding: 0 };
  return {
    version: PAYLOAD_VERSION, model_id: "hand", spec: {}, dtype: "float32", set_info: null,
    layers: [
      { name: "conv1", kind: "conv", label: "", input_shape: [1, 3, 3], output_shape: [1, 2, 2], geometry: conv },
      { name: "act1", kind: "relu", label: "", input_shape: [1, 2, 2], output_shape: [1, 2, 2] },
      { name: "pool1", kind: "maxpool", label: "", input_shape: [1, 2, 2], output_shape: [1, 1, 1],
        geometry: { kernel: 2, stride: 1, padding: 0 } },
      { name: "flatten", kind: "flatten", label: "", input_shape: [1, 1, 1], output_shape: [1] },
      { name: "fc", kind: "linear", label: "", input_shape: [1], output_shape: [2] },
    ],
    tensors: [{ name: "conv1.weight", shape: [1, 1, 2, 2], offset: 0 }, { name: "conv1.bias", shape: [1], offset: 4 },
      { name: "fc.weight", shape: [2, 1], offset: 5 }, { name: "fc.bias", shape: [2], offset: 7 }],
    weight_sets: [Buffer.from(weights.buffer).toString("base64")],
  };
}

test("a hand-checked forward pass: conv, relu, max pool, linear, softmax", () => {
  const built = net(decode(handPayload()));
  const input = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const result = forward(built, input);
  // conv: x[r][c] - x[r+1][c+1] + 0.5 = -4 + 0.5 everywhere
  assert.deepEqual(Array.from(result.outputs.conv1), [-3.5, -3.5, -3.5, -3.5]);
  assert.deepEqual(Array.from(result.outputs.act1), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(result.outputs.pool1), [0]);
  assert.deepEqual(Array.from(result.outputs.fc), [0, 1]);
  assert.deepEqual(result.shapes.conv1, [1, 2, 2]);
  assert.equal(result.prediction, 1);
  const e = Math.exp(1);
  assert.ok(Math.abs(result.probabilities[1] - e / (1 + e)) < 1e-6);
});

test("softmax is stable for large logits and sums to one", () => {
  const p = softmax(Float32Array.from([1000, 1001, 999]));
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(p[1] > p[0] && p[0] > p[2]);
});

test("a unit's explanation adds up to its value", () => {
  const built = net(decode(handPayload()));
  const result = forward(built, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const unit = explainUnit(built, result, "conv1", 0, 1, 0);
  const sum = unit.sources.reduce((total, s) => total + s.weight * s.value, unit.bias);
  assert.equal(unit.value, -3.5);
  assert.ok(Math.abs(sum - unit.value) < 1e-6);
  assert.deepEqual(unit.window, { top: 1, left: 0, size: 2 });
  assert.equal(unit.words.key, "f_conv_one");
  const weighted = formulaNumber(unit.value - unit.bias); // the sum is its own term, not hidden behind the bias
  assert.equal(unit.words.values.sum, weighted);
  assert.ok(unit.formula.includes(`= ${weighted}, plus bias ${formulaNumber(unit.bias)} = `), unit.formula);
  assert.throws(() => explainUnit(built, result, "nope", 0, 0, 0));
});

test("an input of the wrong size is refused", () => {
  assert.throws(() => forward(net(decode(handPayload())), new Float32Array(4)), /needs 9 values/);
});

test("every layer equals torch's on Python's payloads", { skip: NO_FIXTURES }, () => {
  const cases = fixture("payloads.json").filter((c) => c.expect === "ok");
  assert.ok(cases.length >= 2);
  for (const { name, payload, inputs, outputs, set_index: setIndex } of cases) {
    const built = net(decode(payload), setIndex ?? undefined);
    inputs.forEach((x, i) => {
      const result = forward(built, Float32Array.from(x));
      for (const [layer, expected] of Object.entries(outputs[i])) {
        const got = result.outputs[layer];
        assert.equal(got.length, expected.length, `${name} ${layer}`);
        const worst = expected.reduce((w, v, j) => Math.max(w, Math.abs(v - got[j])), 0);
        assert.ok(worst < TOLERANCE, `${name} ${layer}: off by ${worst}`);
      }
    });
  }
});
