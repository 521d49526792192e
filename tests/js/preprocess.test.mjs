// preprocess.js: the port of lenet_viz/preprocess.py's MNIST-style steps, on drawings checked by
// hand and on Python's own results for the same gray images (tests/unit/test_js_tooling.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { centerOfMass, inkBbox, mnistStyle, pillowResize, preprocess, rgbaToGray }
  from "../../lenet_viz/netview/preprocess.js";
import { fixture, NO_FIXTURES } from "./fixtures.mjs";

/** A w×h gray image, 0 but for a filled rectangle of `value`. */
function rectangle(w, h, [top, left, bottom, right], value = 255) {
  const gray = new Uint8Array(w * h);
  for (let r = top; r < bottom; r++) for (let c = left; c < right; c++) gray[r * w + c] = value;
  return gray;
}

test("gray from RGBA: luma times alpha", () => {
  const rgba = Uint8ClampedArray.from([255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 255, 0]);
  assert.deepEqual(Array.from(rgbaToGray(rgba, 3, 1)), [255, 76, 0]);
});

test("the ink's box, and none on a blank or faint picture", () => {
  assert.deepEqual(inkBbox(rectangle(10, 8, [2, 3, 5, 7]), 10, 8), [2, 3, 5, 7]);
  assert.equal(inkBbox(new Uint8Array(80), 10, 8), null);
  assert.equal(inkBbox(rectangle(10, 8, [2, 3, 5, 7], 10), 10, 8), null); // below the blank level
});

test("centre of mass, and the middle of a blank image", () => {
  assert.deepEqual(centerOfMass(rectangle(4, 4, [0, 0, 2, 2]), 4, 4), [0.5, 0.5]);
  assert.deepEqual(centerOfMass(new Uint8Array(16), 4, 4), [1.5, 1.5]);
});

test("resizing a flat image keeps it flat", () => {
  const flat = new Uint8Array(12 * 9).fill(200);
  assert.ok(pillowResize(flat, 12, 9, 5, 4, "box").every((v) => v === 200));
  assert.ok(pillowResize(flat, 12, 9, 30, 20, "bilinear").every((v) => v === 200));
});

test("a tall bar is scaled to 20 pixels high and centred in 28×28", () => {
  const prepared = mnistStyle(rectangle(280, 280, [40, 130, 240, 150]), 280, 280);
  assert.deepEqual(prepared.scaledShape, [20, 2]);
  assert.deepEqual(prepared.offset, [4, 13]);
  assert.equal(prepared.image.length, 28 * 28);
  assert.equal(preprocess(new Uint8ClampedArray(4 * 16), 4, 4), null); // nothing drawn
});

test("every drawing Python prepared comes out the same", { skip: NO_FIXTURES }, () => {
  const cases = fixture("preprocess.json");
  assert.ok(cases.length >= 3);
  for (const { name, width, height, gray, size, fill, expected } of cases) {
    const got = mnistStyle(Uint8Array.from(gray), width, height, size, fill);
    if (expected === null) {
      assert.equal(got, null, name);
      continue;
    }
    assert.deepEqual(got.bbox, expected.bbox, name);
    assert.deepEqual(got.offset, expected.offset, name);
    assert.deepEqual(Array.from(got.image), expected.image, name);
  }
});
