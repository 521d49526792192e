// Colour maps (256 RGB triples) and the painting of values into canvases, shared by the live view
// (view.js) and the replay (replay.js): one colour scale rule for both.

/**
 * A 256-entry RGB table interpolated between evenly spaced colour stops.
 * @param {number[][]} stops
 * @returns {Uint8ClampedArray}
 */
function lut(stops) {
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f;
  }
  return table;
}

/** Non-negative values (activations after a ReLU, pooling of them): matplotlib's viridis. */
export const VIRIDIS = lut([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37]]);
/** Signed values (weights, pre-activations): blue below zero, red above, white at zero. */
export const RDBU = lut([[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
  [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]]);
/** The input image: black to white. */
export const GRAY = lut([[0, 0, 0], [255, 255, 255]]);

/**
 * Smallest and largest of values[from .. to).
 * @param {ArrayLike<number>} values
 * @param {number} [from]
 * @param {number} [to]
 * @returns {[number, number]}
 */
export function valueRange(values, from = 0, to = values.length) {
  let lo = Infinity, hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * The colour scale of a map or layer: `colour(v)` gives the offset of v's colour in `table`.
 * Signed values are centred on zero (symmetric), others span lo..hi.
 * @param {number} lo
 * @param {number} hi
 * @param {boolean} signed
 * @returns {(v: number) => number}
 */
export function colourScale(lo, hi, signed) {
  const span = signed ? Math.max(Math.abs(lo), Math.abs(hi)) || 1 : hi - lo || 1;
  return (v) => {
    const t = signed ? (v / span + 1) / 2 : (v - lo) / span;
    return Math.max(0, Math.min(255, Math.round(t * 255))) * 3;
  };
}

/**
 * Paint values[offset .. offset + h*w) into a canvas of w×h pixels (CSS scales it, pixelated).
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values
 * @param {number} offset
 * @param {number} h
 * @param {number} w
 * @param {number} lo
 * @param {number} hi
 * @param {boolean} signed
 * @param {Uint8ClampedArray} [table]
 */
export function paintMap(canvas, values, offset, h, w, lo, hi, signed, table = signed ? RDBU : VIRIDIS) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const image = ctx.createImageData(w, h);
  const px = image.data;
  const colour = colourScale(lo, hi, signed);
  for (let i = 0; i < h * w; i++) {
    const k = colour(values[offset + i]);
    px[i * 4] = table[k];
    px[i * 4 + 1] = table[k + 1];
    px[i * 4 + 2] = table[k + 2];
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
