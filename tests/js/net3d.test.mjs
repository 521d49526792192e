// The 3D view's geometry (lenet_viz/netview/net3d.js) against the layer plans Python derives.
//
//   LENET_VIZ_PLANS=plans.json node --test tests/js/net3d.test.mjs
//
// tests/unit/test_net3d_geometry.py writes plans.json (the presets and random specs: each network's
// plan layers and the sheets Python expects: name and unit count) and runs this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  layout3d, locate, SPACING, unitAt, unitIndex, unitOfIndex, unitPosition,
} from "../../lenet_viz/netview/net3d.js";

const PLANS = process.env.LENET_VIZ_PLANS;
const networks = PLANS ? JSON.parse(readFileSync(PLANS, "utf8")) : [];

/** Every unit of a sheet, as explainUnit names them. */
function* units(sheet) {
  if (!sheet.spatial) {
    for (let i = 0; i < sheet.count; i++) yield { map: i, row: 0, col: 0 };
    return;
  }
  for (let map = 0; map < sheet.maps; map++)
    for (let row = 0; row < sheet.rows; row++)
      for (let col = 0; col < sheet.cols; col++) yield { map, row, col };
}

const NO_PLANS = "LENET_VIZ_PLANS is not set (run tests/unit/test_net3d_geometry.py)";
test("the plans were written", { skip: PLANS ? false : NO_PLANS },
  () => assert.ok(networks.length > 3));

for (const { name, layers, expected } of networks) {
  test(`${name}: one sheet per shown layer, in order, with the plan's unit counts and shapes`, () => {
    const layout = layout3d(layers);
    assert.deepEqual(layout.sheets.map((s) => [s.name, s.count]), expected.map((e) => [e.name, e.count]));
    for (const s of layout.sheets) {
      const planned = s.name === "input" ? layers[0].input_shape : layers.find((l) => l.name === s.name).output_shape;
      assert.deepEqual(s.shape, planned);
      assert.equal(s.shapeText, planned.join("×"));
      assert.equal(s.spatial, planned.length === 3);
    }
    layout.sheets.forEach((s, i) => assert.equal(s.x, i * SPACING, s.name)); // spaced along the flow
  });

  test(`${name}: every unit has its own place on its sheet, and the place gives the unit back`, () => {
    const layout = layout3d(layers);
    for (const s of layout.sheets) {
      const seen = new Set(), indices = new Set();
      for (const unit of units(s)) {
        const [x, y, z] = unitPosition(s, unit);
        assert.equal(x, s.x);
        assert.ok(Math.abs(y) <= s.height / 2 && Math.abs(z) <= s.width / 2, `${s.name} ${JSON.stringify(unit)}`);
        const key = `${y.toFixed(4)},${z.toFixed(4)}`;
        assert.ok(!seen.has(key), `${s.name}: two units at ${key}`);
        seen.add(key);
        indices.add(unitIndex(s, unit));
        assert.deepEqual(unitOfIndex(s, unitIndex(s, unit)), unit);
        assert.deepEqual(unitAt(s, y, z), unit, `${s.name}: the unit at the centre of ${JSON.stringify(unit)}`);
        // anywhere on the unit's square is still that unit
        const edge = s.unitSize / 2 - 1e-6;
        assert.deepEqual(unitAt(s, y + edge, z - edge), unit);
        assert.deepEqual(unitAt(s, y - edge, z + edge), unit);
      }
      assert.equal(seen.size, s.count);
      assert.deepEqual([...indices].sort((a, b) => a - b), [...Array(s.count).keys()]); // C×H×W order
      assert.equal(unitAt(s, s.height, 0), null); // above the sheet
      assert.equal(unitAt(s, 0, -s.width), null); // left of it
    }
  });

  test(`${name}: a flatten unit is drawn at the unit of the last spatial layer it reshapes`, () => {
    const layout = layout3d(layers);
    const at = layers.findIndex((l) => l.kind === "flatten");
    const before = at === 0 ? "input" : layers[at - 1].name;
    assert.equal(layout.flattenFrom, before);
    const size = layers[at].output_shape[0];
    for (let i = 0; i < size; i++) {
      const found = locate(layout, "flatten", { map: i, row: 0, col: 0 });
      assert.equal(found.sheet.name, before);
      assert.equal(unitIndex(found.sheet, found.unit), i); // torch's flatten: C×H×W order
    }
    assert.equal(locate(layout, "no-such-layer", { map: 0, row: 0, col: 0 }), null);
  });
}
