// What a unit's tooltip says of the layer it reads: the network's input in the page's language, other
// layers by their names (conv1, pool1), in the catalogue's own words (the view gets them as texts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { layerName, tipLines } from "../../lenet_viz/netview/draw.js";

const catalogue = (lang) => JSON.parse(readFileSync(new URL(`../../lenet_viz/locales/${lang}.json`, import.meta.url)));
const viewTexts = (lang) => Object.fromEntries(Object.entries(catalogue(lang))
  .filter(([key]) => key.startsWith("nv.")).map(([key, text]) => [key.slice(3), text]));

test("the input is named in the page's language, other layers as the network names them", () => {
  assert.equal(layerName("input", viewTexts("zh")), "输入");
  assert.equal(layerName("input", viewTexts("en")), "input");
  assert.equal(layerName("conv1", viewTexts("zh")), "conv1");
  assert.equal(layerName("input", undefined), "input");
});

test("a conv1 unit's tooltip says it reads the input, in Chinese with no English word", () => {
  const unit = { layer: "conv1", map: 0, row: 3, col: 4 };
  const info = { value: 0.5, formula: "relu(0.5) = 0.5", window: { size: 5 },
    sources: Array.from({ length: 25 }, () => ({ layer: "input" })) };
  const lines = tipLines(viewTexts("zh"), unit, info, false);
  assert.ok(lines.some((line) => line.startsWith("读取输入的 25 个单元")), lines.join(" | "));
  assert.ok(!lines.some((line) => line.includes("input")), lines.join(" | "));
});
