// Drawing helpers shared by the live view (view.js), the replay (replay.js) and the 3D view (view3d.js):
// elements, the views' words, layer headings, the probability bars, Harley's hover lines and the unit
// tooltip. Nothing from the user or a checkpoint (class names, layer names) becomes HTML: text goes in
// with textContent.

import { unitValue } from "./format.js";

/**
 * A new element with a class and, optionally, its text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {any}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The text of catalogue message `key` from `texts` (the view's words in the page's language, sent
 * with each rerun), its {name} placeholders filled from `values`; the key itself when missing.
 * @param {Record<string, string> | undefined} texts
 * @param {string} key
 * @param {Record<string, unknown>} [values]
 * @returns {string}
 */
export function say(texts, key, values = {}) {
  const text = texts?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** `say` for a text about `values.count` things: the `<key>_one` text when the count is 1 ("1 drawing"), if there
 * is one. */
export function sayCount(texts, key, values) {
  return say(texts, values.count === 1 && texts?.[`${key}_one`] !== undefined ? `${key}_one` : key, values);
}

/**
 * A layer's name as the page shows it: the network's input in the page's language ("输入"), the other
 * layers as the network names them (conv1, pool2, …: identifiers, the same in every language).
 * @param {string} name
 * @param {Record<string, string> | undefined} texts
 * @returns {string}
 */
export function layerName(name, texts) {
  return name === "input" ? texts?.input_name ?? name : name;
}

/**
 * @typedef {{name: string, kind: string, label?: string, output_shape: number[], input_shape?: number[],
 *   geometry?: {kernel: number, stride: number, padding: number}}} ShownLayer
 */

/**
 * The layers a view shows: the input first, then every layer but flatten (the last spatial layer, reshaped).
 * @param {ShownLayer[]} layers the layer plan
 * @param {number} channels
 * @param {number} size
 * @returns {ShownLayer[]}
 */
export function shownLayers(layers, channels, size) {
  return [{ name: "input", kind: "input", label: "", output_shape: [channels, size, size] },
    ...layers.filter((layer) => layer.kind !== "flatten")];
}

/**
 * A layer's heading: "conv1 (C1) · 卷积 · 6×28×28", its kind in the page's language; the input's has no kind.
 * @param {ShownLayer} layer
 * @param {Record<string, string> | undefined} texts
 * @returns {string}
 */
export function layerTitle(layer, texts) {
  const shape = layer.output_shape.join("×");
  if (layer.kind === "input") return say(texts, "input_title", { shape });
  const label = layer.label ? ` (${layer.label})` : "";
  return `${layer.name}${label} · ${texts?.[`kind.${layer.kind}`] ?? layer.kind} · ${shape}`;
}

/**
 * The ten (or N) probabilities as labelled bars, the best one marked; rows are built once and
 * updated in place (names too: the language may have changed).
 * @param {HTMLElement} box
 * @param {ArrayLike<number>} probabilities
 * @param {string[]} classes
 * @param {number} best
 * @param {(p: number) => string} label the value shown at the end of a bar
 */
export function probabilityBars(box, probabilities, classes, best, label) {
  if (box.children.length !== probabilities.length) {
    box.replaceChildren();
    for (let i = 0; i < probabilities.length; i++) {
      const row = el("div", "nv-bar-row");
      const track = el("span", "nv-bar-track");
      track.append(el("span", "nv-bar"));
      row.append(el("span", "nv-bar-label"), track, el("span", "nv-bar-value"));
      box.append(row);
    }
  }
  for (let i = 0; i < probabilities.length; i++) {
    const row = /** @type {HTMLElement} */ (box.children[i]);
    const p = probabilities[i];
    row.classList.toggle("nv-best", i === best);
    row.children[0].textContent = classes[i] ?? String(i);
    /** @type {HTMLElement} */ (row.children[1].firstChild).style.width = `${(p * 100).toFixed(1)}%`;
    row.children[2].textContent = label(p);
  }
}

/** @typedef {{layer: string, map: number, row: number, col: number, weight: number | null, value: number}} Source */

/**
 * The sources a unit's hover lines are drawn from: all of them, or the `limit` strongest (|weight × value|,
 * or |value| where no weight applies), each with its strength and sign.
 * @param {Source[]} sources
 * @param {number} limit
 * @returns {{sources: Source[], strength: (s: Source) => number, peak: number}}
 */
export function strongestSources(sources, limit) {
  const strength = (/** @type {Source} */ s) => Math.abs(s.weight == null ? s.value : s.weight * s.value);
  const shown = sources.length > limit ? [...sources].sort((a, b) => strength(b) - strength(a)).slice(0, limit)
    : sources;
  let peak = 1e-9;
  for (const s of shown) peak = Math.max(peak, strength(s));
  return { sources: shown, strength, peak };
}

/** Whether a source raises the unit it feeds (a red line) or lowers it (a blue one). */
export function raises(/** @type {Source} */ s) {
  return s.weight == null || s.weight * s.value >= 0;
}

/**
 * Harley's lines: from each source unit to the unit it feeds, red where the contribution is positive,
 * blue where negative, stronger contributions more opaque; at most `limit`, the strongest.
 */
export function hoverLines(ctx, sources, to, centreOf, limit) {
  const strongest = strongestSources(sources, limit);
  for (const s of strongest.sources) {
    const from = centreOf(s);
    if (!from) continue;
    ctx.strokeStyle = raises(s) ? "#d6604d" : "#2166ac";
    ctx.globalAlpha = 0.15 + 0.85 * (strongest.strength(s) / strongest.peak);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/**
 * The tooltip of a unit (2D and 3D): "conv2[3, 4, 5] = 0.0576", its formula in the page's language,
 * what it reads and, where a click selects it for the inspector, that hint.
 * @param {Object<string, string>} texts the view's words
 * @param {{layer: string, map: number, row: number, col: number, flat: boolean}} unit
 * @param {any} info lenet.js explainUnit of the unit
 * @param {boolean} clickable
 * @returns {string[]}
 */
export function tipLines(texts, unit, info, clickable) {
  const where = unit.flat ? `${unit.layer}[${unit.map}]` : `${unit.layer}[${unit.map}, ${unit.row}, ${unit.col}]`;
  const lines = [`${where} = ${unitValue(info.value)}`];
  if (info.words) lines.push(say(texts, info.words.key, info.words.values));
  else if (info.formula) lines.push(info.formula); // an activation: relu(0.12) = 0.12 reads the same in every language
  const n = info.sources?.length ?? 0;
  if (n) {
    const size = info.window?.size;
    const window = size ? say(texts, "window", { size }) : "";
    lines.push(say(texts, n > 1 ? "reads" : "reads_one", { count: n, source: layerName(info.sources[0].layer, texts), window }));
  }
  if (clickable) lines.push(say(texts, "click"));
  return lines;
}

/**
 * A message in place of a view that cannot be shown (a payload it cannot read): role "alert", so a
 * screen reader says it; the area is never left blank.
 * @param {HTMLElement} box
 * @param {string} text
 */
export function showProblem(box, text) {
  let note = /** @type {HTMLElement | null} */ (box.querySelector(":scope > .nv-problem"));
  if (!note) {
    note = /** @type {HTMLElement} */ (el("div", "nv-problem"));
    note.setAttribute("role", "alert");
    box.prepend(note);
  }
  note.textContent = text;
}

/**
 * Remove the message of showProblem, if any.
 * @param {HTMLElement} box
 */
export function clearProblem(box) {
  box.querySelector(":scope > .nv-problem")?.remove();
}
