// payload.js and lenet.js decode: float16/float32 weight sets, the version and shape checks, and
// every payload Python wrote (good ones decode, bad ones raise the PayloadError the view shows).
import assert from "node:assert/strict";
import { test } from "node:test";

import { decode } from "../../lenet_viz/netview/lenet.js";
import {
  checkNetworkPayload, checkViewData, decodeWeightSet, encodeWeightSet, halfToFloat, PAYLOAD_VERSION, PayloadError,
} from "../../lenet_viz/netview/payload.js";
import { fixture, NO_FIXTURES } from "./fixtures.mjs";

const base64 = (bytes) => Buffer.from(bytes).toString("base64");

/** A one-layer network (linear 2 → 2) with its weights as float32. */
function tinyPayload(overrides = {}) {
  const weights = new Float32Array([1, 2, 3, 4, 0.5, -0.5]);
  return {
    version: PAYLOAD_VERSION, model_id: "tiny", spec: {},
    layers: [{ name: "fc", kind: "linear", label: "", input_shape: [2], output_shape: [2] }],
    tensors: [{ name: "fc.weight", shape: [2, 2], offset: 0 }, { name: "fc.bias", shape: [2], offset: 4 }],
    dtype: "float32", weight_sets: [base64(new Uint8Array(weights.buffer))], set_info: null, ...overrides,
  };
}

/** @param {() => unknown} run @param {string} key */
function raisesKey(run, key) {
  assert.throws(run, (error) => error instanceof PayloadError && error.key === key);
}

test("float16 special values decode exactly", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Object.is(halfToFloat(0x8000), -0));
});

test("a float32 weight set decodes to its floats", () => {
  const model = decode(tinyPayload());
  assert.deepEqual(Array.from(model.sets[0]), [1, 2, 3, 4, 0.5, -0.5]);
});

test("a float16 weight set decodes through the half table", () => {
  const halves = new Uint16Array([0x3c00, 0xc000, 0x3800]);
  assert.deepEqual(Array.from(decodeWeightSet(base64(new Uint8Array(halves.buffer)), "float16", 3)), [1, -2, 0.5]);
});

test("a truncated weight blob is refused, with the numbers it has and needs", () => {
  const payload = tinyPayload();
  payload.weight_sets = [base64(Buffer.from(payload.weight_sets[0], "base64").subarray(0, 12))];
  assert.throws(() => decode(payload), (error) => error instanceof PayloadError && error.key === "payload_truncated" &&
    error.values.got === 3 && error.values.expected === 6);
});

test("a newer version, an unknown one and broken shapes are refused", () => {
  raisesKey(() => checkNetworkPayload(tinyPayload({ version: PAYLOAD_VERSION + 1 })), "payload_newer");
  raisesKey(() => checkNetworkPayload(tinyPayload({ version: "1" })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(tinyPayload({ version: undefined })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(tinyPayload({ layers: [] })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(tinyPayload({ dtype: "int8" })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(tinyPayload({ weight_sets: [] })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(tinyPayload({ set_info: [{}, {}] })), "payload_malformed");
  raisesKey(() => checkNetworkPayload(null), "payload_malformed");
  raisesKey(() => checkNetworkPayload("garbage"), "payload_malformed");
  const gap = tinyPayload();
  gap.tensors[1].offset = 5; // tensors must follow each other in the blob
  raisesKey(() => checkNetworkPayload(gap), "payload_malformed");
});

test("every payload Python wrote decodes, or raises the error it should", { skip: NO_FIXTURES }, () => {
  const cases = fixture("payloads.json");
  assert.ok(cases.length >= 5, "the fixtures hold good and bad payloads");
  for (const { name, payload, expect } of cases) {
    if (expect === "ok") {
      const model = decode(payload);
      assert.equal(model.sets.length, payload.weight_sets.length, name);
    } else {
      assert.throws(() => decode(payload), (error) => error instanceof PayloadError && error.key === expect, name);
    }
  }
});

test("a stepped weight set encodes to little-endian float32 base64 and decodes back exactly", () => {
  const values = Float32Array.from({ length: 70_001 }, (_, i) => Math.fround(Math.sin(i) * 10 ** ((i % 9) - 4)));
  values[3] = -0;
  const text = encodeWeightSet(values); // more bytes than one String.fromCharCode chunk
  const bytes = Buffer.from(text, "base64");
  assert.equal(bytes.length, 4 * values.length);
  for (const i of [0, 1, 3, 32_768, 70_000]) assert.ok(Object.is(bytes.readFloatLE(4 * i), values[i]), `value ${i}`);
  assert.deepEqual(decodeWeightSet(text, "float32", values.length), values);
  assert.equal(encodeWeightSet(new Float32Array(0)), "");
});

test("a view still loading its network passes with its words and mode; one that says less is refused", () => {
  const loading = { view: "live", loading: true, texts_id: "live-en", texts: null, mode: "draw", hint: "" };
  checkViewData(loading); // no model_id, size or classes yet: the pad only
  raisesKey(() => checkViewData({ ...loading, view: "replay" }), "payload_malformed");
  raisesKey(() => checkViewData({ ...loading, texts_id: undefined }), "payload_malformed");
  raisesKey(() => checkViewData({ ...loading, mode: "paint" }), "payload_malformed");
  raisesKey(() => checkViewData({ ...loading, loading: "yes" }), "payload_malformed"); // then a whole view's checks
});
