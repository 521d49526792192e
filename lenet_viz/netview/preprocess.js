// Drawings to network inputs: an exact port of lenet_viz/preprocess.py's MNIST-style steps (gray
// from RGBA, crop to the ink, Pillow's resize, centre by mass), checked against Python and Pillow in
// Chromium (tests/browser/test_netview_maths.py) and under node (tests/js/).

const INK_LEVEL = 0.2, EMPTY_LEVEL = 16, MNIST_FILL = 20 / 28;
const F = Math.fround;
const LUMA = [F(0.299), F(0.587), F(0.114)];

// Python's round(): halves go to the even neighbour.
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// preprocess.rgba_to_gray: float32 luma × alpha, + 0.5, clipped, truncated.
export function rgbaToGray(rgba, width, height) {
  const gray = new Uint8Array(width * height);
  const alpha255 = F(255);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) {
    let g = F(F(F(rgba[p] * LUMA[0]) + F(rgba[p + 1] * LUMA[1])) + F(rgba[p + 2] * LUMA[2]));
    g = F(g * F(rgba[p + 3] / alpha255));
    const v = F(g + 0.5);
    gray[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return gray;
}

// preprocess.ink_bbox: [top, left, bottom, right) of pixels above 20% of the peak, or null.
export function inkBbox(gray, width, height) {
  let peak = 0;
  for (const v of gray) if (v > peak) peak = v;
  if (peak < EMPTY_LEVEL) return null;
  const level = peak * INK_LEVEL;
  let top = height, left = width, bottom = -1, right = -1;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (gray[r * width + c] > level) {
        if (r < top) top = r;
        if (r > bottom) bottom = r;
        if (c < left) left = c;
        if (c > right) right = c;
      }
    }
  }
  return [top, left, bottom + 1, right + 1];
}

// Pillow's filters (libImaging/Resample.c) with their support.
const FILTERS = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, f: (x) => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } },
};
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

// Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, first input pixel,
// count, and fixed-point weights.
function coefficients(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    const k = new Float64Array(xmax);
    for (let x = 0; x < xmax; x++) { k[x] = filter.f((x + xmin - center + 0.5) * ss); ww += k[x]; }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v) {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

// One pass of Pillow's 8-bit resampling along rows (horizontal) or columns (vertical), rounded
// to 8 bits; `rows` restricts a horizontal pass to the rows the vertical pass will read.
function resamplePass(img, w, h, coeffs, outSize, horizontal, firstRow = 0, rowCount = h) {
  const outW = horizontal ? outSize : w, outH = horizontal ? rowCount : outSize;
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const min = coeffs.bounds[2 * o], n = coeffs.bounds[2 * o + 1], kb = o * coeffs.ksize;
      let ss = ONE / 2;
      if (horizontal) {
        const row = (y + firstRow) * w + min;
        for (let i = 0; i < n; i++) ss += img[row + i] * coeffs.kk[kb + i];
      } else {
        for (let i = 0; i < n; i++) ss += img[(i + min) * w + x] * coeffs.kk[kb + i];
      }
      out[y * outW + x] = clip8(ss);
    }
  }
  return out;
}

// Image.resize((newW, newH), filter) of an 8-bit gray image, as Pillow's ImagingResampleInner:
// two passes, each rounded to 8 bits; horizontal first (on the rows the vertical pass reads)
// unless the height shrinks by more than twice as many pixels as the width (Pillow >= 13,
// python-pillow/Pillow#9549; the rule was found by comparing both orders with Pillow's output).
export function pillowResize(src, w, h, newW, newH, filterName) {
  const filter = FILTERS[filterName];
  const needH = newW !== w, needV = newH !== h;
  if (!needH && !needV) return src.slice();
  const vert = coefficients(h, newH, filter);
  const hor = coefficients(w, newW, filter);
  if (newH < h && h - newH > 2 * (w - newW)) {
    const tall = resamplePass(src, w, h, vert, newH, false);
    return needH ? resamplePass(tall, w, newH, hor, newW, true) : tall;
  }
  if (!needH) return resamplePass(src, w, h, vert, newH, false);
  const first = vert.bounds[0], last = vert.bounds[newH * 2 - 2] + vert.bounds[newH * 2 - 1];
  const wide = resamplePass(src, w, h, hor, newW, true, first, last - first);
  if (!needV) return wide;
  const shifted = { ...vert, bounds: vert.bounds.map((b, i) => (i % 2 === 0 ? b - first : b)) };
  return resamplePass(wide, newW, last - first, shifted, newH, false);
}

// preprocess.center_of_mass: intensity-weighted mean (row, col), float64.
export function centerOfMass(img, w, h) {
  let total = 0, rows = 0, cols = 0;
  const rowSums = new Float64Array(h), colSums = new Float64Array(w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) { const v = img[r * w + c]; rowSums[r] += v; colSums[c] += v; }
  }
  for (let r = 0; r < h; r++) total += rowSums[r];
  if (total === 0) return [(h - 1) / 2, (w - 1) / 2];
  for (let r = 0; r < h; r++) rows += r * rowSums[r];
  for (let c = 0; c < w; c++) cols += c * colSums[c];
  return [rows / total, cols / total];
}

// preprocess.mnist_style: crop to the ink, scale the longest side to fill·size, centre by mass.
export function mnistStyle(gray, width, height, size = 28, fill = MNIST_FILL) {
  const bbox = inkBbox(gray, width, height);
  if (!bbox) return null;
  const [top, left, bottom, right] = bbox;
  const h = bottom - top, w = right - left;
  const cropped = new Uint8Array(h * w);
  for (let r = 0; r < h; r++) cropped.set(gray.subarray((top + r) * width + left, (top + r) * width + right), r * w);
  const box = Math.max(1, roundHalfEven(size * fill));
  const scale = box / Math.max(h, w);
  const newH = Math.max(1, roundHalfEven(h * scale)), newW = Math.max(1, roundHalfEven(w * scale));
  const scaled = newH === h && newW === w ? cropped.slice()
    : pillowResize(cropped, w, h, newW, newH, scale < 1 ? "box" : "bilinear");
  const [cy, cx] = centerOfMass(scaled, newW, newH);
  const row = Math.min(Math.max(roundHalfEven((size - 1) / 2 - cy), 0), size - newH);
  const col = Math.min(Math.max(roundHalfEven((size - 1) / 2 - cx), 0), size - newW);
  const image = new Uint8Array(size * size);
  for (let r = 0; r < newH; r++) image.set(scaled.subarray(r * newW, (r + 1) * newW), (row + r) * size + col);
  return { bbox, cropped, croppedShape: [h, w], scaled, scaledShape: [newH, newW], offset: [row, col], image };
}

// RGBA canvas pixels → every step and the network input (C=1, size×size in [0, 1]); null if
// blank. `fill`: share of the image the longest side fills (MNIST 20/28, Fashion-MNIST 1).
export function preprocess(rgba, width, height, size = 28, fill = MNIST_FILL) {
  const gray = rgbaToGray(rgba, width, height);
  const prepared = mnistStyle(gray, width, height, size, fill);
  if (!prepared) return null;
  const input = new Float32Array(size * size);
  for (let i = 0; i < input.length; i++) input[i] = prepared.image[i] / 255;
  return { gray, width, height, ...prepared, input };
}
