// LeNet in the browser: weights decoding, the forward pass of any network LeNetSpec describes,
// unit explanations for hover, and an exact port of lenet_viz/preprocess.py (MNIST-style input).
// A plain script (no import/export): it defines globalThis.LeNet. The payload is built by
// lenet_viz/netview_payload.py; outputs follow torch's layer names and C×H×W order.
(function () {
  "use strict";

  // ---- weights ---------------------------------------------------------------------------

  function base64Bytes(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // IEEE half → float (exact: every float16 is a float32).
  function halfToFloat(h) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) return sign * frac * 2 ** -24;
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }

  const HALF_TABLE = (() => {
    const table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
    return table;
  })();

  function decodeSet(text, dtype) {
    const bytes = base64Bytes(text);
    const view = new DataView(bytes.buffer);
    if (dtype === "float16") {
      const out = new Float32Array(bytes.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = HALF_TABLE[view.getUint16(2 * i, true)];
      return out;
    }
    if (dtype !== "float32") throw new Error("unknown weight dtype " + dtype);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  // payload → model: every weight set decoded once (scrubbing snapshots never decodes again);
  // model.sets holds one Float32Array per set, the last one the final model (view.js reads it).
  function decode(payload) {
    return {
      id: payload.model_id,
      spec: payload.spec,
      layers: payload.layers,
      tensors: payload.tensors,
      setInfo: payload.set_info || null,
      sets: payload.weight_sets.map((text) => decodeSet(text, payload.dtype)),
      nets: [],
    };
  }

  // model, set index → net: the layers with views on that set's weights (cached per set).
  function net(model, setIndex) {
    const index = setIndex === undefined ? model.sets.length - 1 : setIndex;
    if (!(index >= 0 && index < model.sets.length)) throw new Error("no weight set " + setIndex);
    if (model.nets[index]) return model.nets[index];
    const flat = model.sets[index];
    const params = {};
    for (const t of model.tensors) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      params[t.name] = flat.subarray(t.offset, t.offset + size);
    }
    const layers = model.layers.map((layer) => ({
      ...layer,
      weight: params[layer.name + ".weight"] || null,
      bias: params[layer.name + ".bias"] || null,
    }));
    const built = { model, setIndex: index, layers, byName: Object.fromEntries(layers.map((l) => [l.name, l])) };
    model.nets[index] = built;
    return built;
  }

  // ---- layers ----------------------------------------------------------------------------

  function conv(layer, x) {
    const [cin, h, w] = layer.input_shape;
    const [cout, oh, ow] = layer.output_shape;
    const { kernel: k, stride: s, padding: p } = layer.geometry;
    const W = layer.weight, B = layer.bias;
    const out = new Float32Array(cout * oh * ow);
    for (let o = 0; o < cout; o++) {
      const outBase = o * oh * ow;
      for (let r = 0; r < oh; r++) {
        const top = r * s - p;
        const i0 = Math.max(0, -top), i1 = Math.min(k, h - top);
        for (let c = 0; c < ow; c++) {
          const left = c * s - p;
          const j0 = Math.max(0, -left), j1 = Math.min(k, w - left);
          let sum = B[o];
          for (let ci = 0; ci < cin; ci++) {
            const wBase = (o * cin + ci) * k * k;
            const xBase = ci * h * w;
            for (let i = i0; i < i1; i++) {
              const xRow = xBase + (top + i) * w + left;
              const wRow = wBase + i * k;
              for (let j = j0; j < j1; j++) sum += W[wRow + j] * x[xRow + j];
            }
          }
          out[outBase + r * ow + c] = sum;
        }
      }
    }
    return out;
  }

  function pool(layer, x) {
    const [ch, h, w] = layer.input_shape;
    const [, oh, ow] = layer.output_shape;
    const { kernel: k, stride: s } = layer.geometry;
    const isMax = layer.kind === "maxpool";
    const out = new Float32Array(ch * oh * ow);
    for (let m = 0; m < ch; m++) {
      for (let r = 0; r < oh; r++) {
        for (let c = 0; c < ow; c++) {
          let acc = isMax ? -Infinity : 0;
          for (let i = 0; i < k; i++) {
            const row = m * h * w + (r * s + i) * w + c * s;
            for (let j = 0; j < k; j++) {
              const v = x[row + j];
              if (isMax) { if (v > acc || Number.isNaN(v)) acc = v; } else acc += v;
            }
          }
          out[(m * oh + r) * ow + c] = isMax ? acc : acc / (k * k);
        }
      }
    }
    return out;
  }

  function linear(layer, x) {
    const n = layer.input_shape[0], m = layer.output_shape[0];
    const W = layer.weight, B = layer.bias;
    const out = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      let sum = B[o];
      const base = o * n;
      for (let i = 0; i < n; i++) sum += W[base + i] * x[i];
      out[o] = sum;
    }
    return out;
  }

  const ACTIVATIONS = {
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    relu: (v) => (v > 0 ? v : 0),
    tanh: Math.tanh,
  };

  function activate(layer, x) {
    const f = ACTIVATIONS[layer.kind];
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
    return out;
  }

  function runLayer(layer, x) {
    switch (layer.kind) {
      case "conv": return conv(layer, x);
      case "avgpool":
      case "maxpool": return pool(layer, x);
      case "flatten": return x;
      case "linear": return linear(layer, x);
      default:
        if (ACTIVATIONS[layer.kind]) return activate(layer, x);
        throw new Error("unknown layer kind " + layer.kind);
    }
  }

  function softmax(logits) {
    let peak = -Infinity;
    for (const v of logits) peak = Math.max(peak, v);
    const out = new Float32Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += (out[i] = Math.exp(logits[i] - peak));
    for (let i = 0; i < out.length; i++) out[i] /= total;
    return out;
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  // net, C*H*W input in [0, 1] → every layer's output, the probabilities and the prediction.
  function forward(built, input) {
    const first = built.layers[0].input_shape;
    const size = first.reduce((a, b) => a * b, 1);
    if (!input || input.length !== size) throw new Error(`the input needs ${size} values, got ${input && input.length}`);
    let x = input instanceof Float32Array ? input : Float32Array.from(input);
    const outputs = {}, shapes = {};
    for (const layer of built.layers) {
      x = runLayer(layer, x);
      outputs[layer.name] = x;
      shapes[layer.name] = layer.output_shape.slice();
    }
    const probabilities = softmax(x);
    return { input: Float32Array.from(input), outputs, shapes, probabilities, prediction: argmax(probabilities) };
  }

  // ---- explanations (hover lines, tooltip) ----------------------------------------------

  function previousOf(built, result, layerName) {
    const index = built.layers.findIndex((l) => l.name === layerName);
    if (index < 0) throw new Error("no layer " + layerName);
    const layer = built.layers[index];
    return index === 0
      ? { layer, prevName: "input", prev: result.input, prevLayer: null }
      : { layer, prevName: built.layers[index - 1].name, prev: result.outputs[built.layers[index - 1].name],
          prevLayer: built.layers[index - 1] };
  }

  function fmt(v) {
    return Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3)) : String(v);
  }

  // What one unit reads in the previous layer and how its value follows from it.
  function explainUnit(built, result, layerName, map, row, col) {
    const { layer, prevName, prev } = previousOf(built, result, layerName);
    const out = result.outputs[layerName];
    const spatial = layer.output_shape.length === 3;
    const [, oh, ow] = spatial ? layer.output_shape : [layer.output_shape[0], 1, 1];
    const value = spatial ? out[(map * oh + row) * ow + col] : out[map];
    const sources = [];
    let bias = null, window = null, formula, words;
    if (layer.kind === "conv") {
      const [cin, h, w] = layer.input_shape;
      const { kernel: k, stride: s, padding: p } = layer.geometry;
      const top = row * s - p, left = col * s - p;
      window = { top, left, size: k };
      bias = layer.bias[map];
      let padded = 0;
      for (let ci = 0; ci < cin; ci++) {
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            const r = top + i, c = left + j;
            if (r < 0 || c < 0 || r >= h || c >= w) { padded++; continue; }
            sources.push({ layer: prevName, map: ci, row: r, col: c,
              weight: layer.weight[((map * cin + ci) * k + i) * k + j], value: prev[(ci * h + r) * w + c] });
          }
        }
      }
      formula = `Σ ${sources.length} weights × inputs (${cin} channel${cin > 1 ? "s" : ""}, ${k}×${k} window` +
        (padded ? `, ${padded} padding cells = 0` : "") + `) + bias ${fmt(bias)} = ${fmt(value)}`;
      words = { key: `f_conv${cin > 1 ? "" : "_one"}${padded ? "_padded" : ""}`,
        values: { count: sources.length, channels: cin, k, padded, bias: fmt(bias), value: fmt(value) } };
    } else if (layer.kind === "avgpool" || layer.kind === "maxpool") {
      const [, h, w] = layer.input_shape;
      const { kernel: k, stride: s } = layer.geometry;
      window = { top: row * s, left: col * s, size: k };
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const r = row * s + i, c = col * s + j;
          sources.push({ layer: prevName, map, row: r, col: c, weight: null, value: prev[(map * h + r) * w + c] });
        }
      }
      formula = `${layer.kind === "maxpool" ? "max" : "mean"} of the ${k}×${k} window = ${fmt(value)}`;
      words = { key: layer.kind === "maxpool" ? "f_max" : "f_mean", values: { k, value: fmt(value) } };
    } else if (layer.kind === "linear") {
      const n = layer.input_shape[0];
      bias = layer.bias[map];
      for (let i = 0; i < n; i++) {
        sources.push({ layer: prevName, map: i, row: 0, col: 0, weight: layer.weight[map * n + i], value: prev[i] });
      }
      formula = `Σ ${n} weights × inputs + bias ${fmt(bias)} = ${fmt(value)}`;
      words = { key: "f_linear", values: { count: n, bias: fmt(bias), value: fmt(value) } };
    } else if (layer.kind === "flatten") {
      const [, h, w] = layer.input_shape;
      const m = Math.floor(map / (h * w)), r = Math.floor((map % (h * w)) / w), c = map % w;
      sources.push({ layer: prevName, map: m, row: r, col: c, weight: null, value: prev[map] });
      formula = `map ${m}, row ${r}, column ${c} of ${prevName} = ${fmt(value)}`;
      words = { key: "f_flatten", values: { map: m, row: r, col: c, source: prevName, value: fmt(value) } };
    } else {
      const index = spatial ? (map * oh + row) * ow + col : map;
      const input = prev[index];
      sources.push({ layer: prevName, map, row: spatial ? row : 0, col: spatial ? col : 0, weight: null, value: input });
      formula = `${layer.kind}(${fmt(input)}) = ${fmt(value)}`;
    }
    // formula: the explanation in English; words: its catalogue key and values, for the page's language
    return { value, kind: layer.kind, formula, words, sources, bias, window };
  }

  // ---- preprocessing: an exact port of lenet_viz/preprocess.py ----------------------------

  const INK_LEVEL = 0.2, EMPTY_LEVEL = 16, MNIST_FILL = 20 / 28;
  const F = Math.fround;
  const LUMA = [F(0.299), F(0.587), F(0.114)];

  // Python's round(): halves go to the even neighbour.
  function roundHalfEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  // preprocess.rgba_to_gray: float32 luma × alpha, + 0.5, clipped, truncated.
  function rgbaToGray(rgba, width, height) {
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
  function inkBbox(gray, width, height) {
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
  function pillowResize(src, w, h, newW, newH, filterName) {
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
  function centerOfMass(img, w, h) {
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
  function mnistStyle(gray, width, height, size = 28, fill = MNIST_FILL) {
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
  function preprocess(rgba, width, height, size = 28, fill = MNIST_FILL) {
    const gray = rgbaToGray(rgba, width, height);
    const prepared = mnistStyle(gray, width, height, size, fill);
    if (!prepared) return null;
    const input = new Float32Array(size * size);
    for (let i = 0; i < input.length; i++) input[i] = prepared.image[i] / 255;
    return { gray, width, height, ...prepared, input };
  }

  globalThis.LeNet = {
    decode, net, forward, softmax, explainUnit, preprocess,
    rgbaToGray, inkBbox, mnistStyle, pillowResize, centerOfMass, halfToFloat,
  };
})();
