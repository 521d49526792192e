// Number formats shared by the views and the unit explanations (lenet.js, view.js, replay.js).

/**
 * A value in a formula: 3 decimals, or exponent notation when very large or very small.
 * @param {number} v
 * @returns {string}
 */
export function formulaNumber(v) {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3);
}

/**
 * A unit's value in the tooltip's first line: 4 decimals, or exponent notation when very large or small.
 * @param {number} v
 * @returns {string}
 */
export function unitValue(v) {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4);
}

/**
 * A share as a percentage with one decimal ("83.4%"); "–" when unknown.
 * @param {number | null | undefined} v
 * @returns {string}
 */
export function percent(v) {
  return v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`;
}

/**
 * A metric or scale end (a loss, a map's range): 3 decimals, 3 significant digits from 1000 on; "–" when unknown.
 * @param {number | null | undefined} v
 * @returns {string}
 */
export function metric(v) {
  return v === null || v === undefined ? "–" : Math.abs(v) < 1000 ? v.toFixed(3) : v.toPrecision(3);
}
