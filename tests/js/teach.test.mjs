// node --test tests/js/teach.test.mjs: the Teach page's pure modules (teach-net.js, teach-zip.js).
// The zip they write is read back by lenet_viz/teach.py in tests/unit/test_teach_js.py.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inflateSync } from "node:zlib";

import { readFileSync } from "node:fs";

import { buildNet, forwardTrace } from "../../lenet_viz/netview/backprop.js";
import { sayCount } from "../../lenet_viz/netview/draw.js";
import {
  confusion, floatsBase64, heldOut, keptExamples, nameKey, packImages, paramViews, planFor, snapshotEpochs,
  startingWeights, trainedLayers, weightCount,
} from "../../lenet_viz/netview/teach-net.js";
import { crc32, grayPng, zipFiles } from "../../lenet_viz/netview/teach-zip.js";

// A small plan as lenet_viz/teach_component.plan writes one (10 classes).
const PLAN = {
  spec: { num_classes: 10 },
  layers: [
    { name: "conv1", kind: "conv", input_shape: [1, 6, 6], output_shape: [2, 4, 4], geometry: { kernel: 3, stride: 1, padding: 0 } },
    { name: "act1", kind: "relu", input_shape: [2, 4, 4], output_shape: [2, 4, 4] },
    { name: "flatten", kind: "flatten", input_shape: [2, 4, 4], output_shape: [32] },
    { name: "fc1", kind: "linear", input_shape: [32], output_shape: [5] },
    { name: "act2", kind: "relu", input_shape: [5], output_shape: [5] },
    { name: "fc2", kind: "linear", input_shape: [5], output_shape: [10] },
  ],
  tensors: [
    { name: "conv1.weight", shape: [2, 1, 3, 3], offset: 0 }, { name: "conv1.bias", shape: [2], offset: 18 },
    { name: "fc1.weight", shape: [5, 32], offset: 20 }, { name: "fc1.bias", shape: [5], offset: 180 },
    { name: "fc2.weight", shape: [10, 5], offset: 185 }, { name: "fc2.bias", shape: [10], offset: 235 },
  ],
};

test("a plan for k classes changes only the last layer and its tensors", () => {
  const plan = planFor(PLAN, 3);
  assert.equal(plan.spec.num_classes, 3);
  assert.deepEqual(plan.layers.at(-1).output_shape, [3]);
  assert.deepEqual(plan.layers.slice(0, -1), PLAN.layers.slice(0, -1));
  assert.deepEqual(plan.tensors.slice(-2), [{ name: "fc2.weight", shape: [3, 5], offset: 185 }, { name: "fc2.bias", shape: [3], offset: 200 }]);
  assert.equal(weightCount(plan), 203);
  assert.equal(weightCount(PLAN), 245);
});

test("starting from a trained network keeps every layer but the last", () => {
  const base = { plan: PLAN, flat: Float32Array.from({ length: 245 }, (_, i) => i / 1000) };
  const plan = planFor(PLAN, 3);
  const flat = startingWeights(plan, 1, base);
  assert.deepEqual(Array.from(flat.subarray(0, 185)), Array.from(base.flat.subarray(0, 185)));
  const last = flat.subarray(185);
  assert.ok(last.every((v) => Math.abs(v) <= 1 / Math.sqrt(5)), "PyTorch's init bound for 5 inputs");
  assert.notDeepEqual(Array.from(last.subarray(0, 15)), Array.from(base.flat.subarray(185, 200)));
  const fresh = startingWeights(plan, 1);
  assert.deepEqual(Array.from(fresh.subarray(185)), Array.from(last), "the same seed, the same new layer");
  const net = buildNet(plan.layers, paramViews(plan, flat));
  assert.equal(forwardTrace(net, new Float32Array(36).fill(0.5)).probabilities.length, 3);
});

test("only the fully connected layers train when asked", () => {
  assert.equal(trainedLayers(PLAN, "all"), undefined);
  assert.deepEqual(trainedLayers(PLAN, "fc"), ["fc1", "fc2"]);
});

test("held-out drawings: the share of each class, at least one left to train on, stable as others come", () => {
  const examples = [];
  for (let label = 0; label < 3; label++) for (let i = 0; i < 8; i++) examples.push({ id: label * 100 + i, label });
  const held = heldOut(examples, 0.25);
  for (let label = 0; label < 3; label++) {
    assert.equal(examples.filter((e) => e.label === label && held.has(e.id)).length, 2);
  }
  assert.equal(heldOut(examples.slice(0, 1), 0.5).size, 0, "a class of one trains on it");
  assert.equal(heldOut(examples, 0).size, 0);
  const more = heldOut([...examples, { id: 999, label: 0 }, { id: 998, label: 0 }, { id: 997, label: 0 }, { id: 996, label: 0 }], 0.25);
  assert.ok([...held].filter((id) => id >= 100).every((id) => more.has(id)), "other classes' held-out drawings stay held out");
});

test("snapshot epochs: start and end, dense early, rising", () => {
  const epochs = snapshotEpochs(100);
  assert.equal(epochs[0], 0);
  assert.equal(epochs.at(-1), 100);
  assert.ok(epochs.length <= 16 && epochs.length >= 10);
  assert.ok(epochs.every((e, i) => i === 0 || e > epochs[i - 1]));
  assert.deepEqual(snapshotEpochs(2), [0, 1, 2]);
});

test("confusion counts and class names compared as the server does", () => {
  assert.deepEqual(confusion([0, 0, 1, 2], [0, 1, 1, 2], 3), [[1, 1, 0], [0, 1, 0], [0, 0, 1]]);
  assert.equal(nameKey(" Ａ "), nameKey("a"));
  assert.notEqual(nameKey("一"), nameKey("二"));
});

test("floats as base64 are their little-endian bytes", () => {
  const values = [1.5, -2, 0.1];
  const bytes = Buffer.from(floatsBase64(values), "base64");
  assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 3)), Array.from(Float32Array.from(values)));
});

test("the drawings Save keeps: every image's bytes in order, each label, and which were held out", () => {
  const examples = [3, 1, 2].map((id, i) => ({ id, label: i % 2, image: Uint8Array.from({ length: 4 }, (_, k) => 10 * id + k) }));
  assert.deepEqual([...packImages(examples, 2)], [30, 31, 32, 33, 10, 11, 12, 13, 20, 21, 22, 23]);
  const kept = keptExamples(examples, new Set([1]), 2);
  assert.deepEqual([...Buffer.from(kept.images, "base64")], [...packImages(examples, 2)]);
  assert.deepEqual(kept.labels, [0, 1, 0]);
  assert.deepEqual(kept.held_out, [false, true, false]);
});

test("a gray PNG holds the pixels, with valid checksums", () => {
  const pixels = Uint8Array.from({ length: 28 * 28 }, (_, i) => i % 251);
  const png = Buffer.from(grayPng(pixels, 28, 28));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idatLength = png.readUInt32BE(33);
  assert.equal(png.toString("latin1", 37, 41), "IDAT");
  assert.equal(png.readUInt32BE(41 + idatLength), crc32(png.subarray(37, 41 + idatLength)));
  const rows = inflateSync(png.subarray(41, 41 + idatLength)); // zlib checks the Adler-32
  for (let r = 0; r < 28; r++) {
    assert.equal(rows[r * 29], 0);
    assert.deepEqual([...rows.subarray(r * 29 + 1, r * 29 + 29)], [...pixels.subarray(r * 28, r * 28 + 28)]);
  }
});

test("crc32 is zip's", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("a zip lists its files with their sizes and offsets", () => {
  const files = [{ name: "a.txt", bytes: new TextEncoder().encode("hello") }, { name: "一.json", bytes: new Uint8Array(3) }];
  const zip = Buffer.from(zipFiles(files));
  const end = zip.length - 22;
  assert.equal(zip.readUInt32LE(end), 0x06054b50);
  assert.equal(zip.readUInt16LE(end + 10), 2);
  const directory = zip.readUInt32LE(end + 16);
  assert.equal(zip.readUInt32LE(directory), 0x02014b50);
  assert.equal(zip.readUInt32LE(zip.readUInt32LE(directory + 42)), 0x04034b50);
  assert.equal(zip.toString("utf8", 30, 35), "a.txt");
  assert.equal(zip.toString("utf8", 35, 40), "hello");
});

test("counts of drawings are said in the singular or the plural, in the page's own words", () => {
  const catalogue = (lang) => JSON.parse(readFileSync(new URL(`../../lenet_viz/locales/${lang}.json`, import.meta.url), "utf8"));
  // the texts as lenet_viz/teach_component.teach_texts gives them: every teach.* message, without the prefix
  const texts = (lang) => Object.fromEntries(Object.entries(catalogue(lang))
    .filter(([key]) => key.startsWith("teach.")).map(([key, text]) => [key.slice("teach.".length), text]));
  const en = texts("en"), zh = texts("zh");
  assert.equal(sayCount(en, "ui.count", { count: 1 }), "1 drawing");
  assert.equal(sayCount(en, "ui.count", { count: 2 }), "2 drawings");
  assert.equal(sayCount(en, "ui.count", { count: 0 }), "0 drawings");
  assert.equal(sayCount(zh, "ui.count", { count: 1 }), "1 幅图");
  assert.equal(sayCount(zh, "ui.count", { count: 2 }), "2 幅图");
  assert.equal(sayCount({ n: "{count} things" }, "n", { count: 1 }), "1 things"); // no _one text: the one there is
});
