// The network payload as it arrives from Python (lenet_viz/netview_payload.py, NetworkPayload): its
// version and shape checked, its base64 weight sets decoded to float32. A payload this code cannot
// read (a newer version, a missing field, a truncated weight blob) raises PayloadError, whose `key`
// names the catalogue message the view shows instead of the network (nv.payload_*).

/** The payload format this code reads; lenet_viz.netview_payload.PAYLOAD_VERSION must be the same. */
export const PAYLOAD_VERSION = 1;

const DTYPE_BYTES = { float32: 4, float16: 2 };

/** A payload the view cannot show; `key` (a catalogue key under nv.) and `values` say why. */
export class PayloadError extends Error {
  /**
   * @param {string} key
   * @param {Record<string, string | number>} [values]
   */
  constructor(key, values = {}) {
    super(`${key} ${JSON.stringify(values)}`);
    this.name = "PayloadError";
    this.key = key;
    this.values = values;
  }
}

/**
 * The bytes of a base64 string.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function base64Bytes(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * IEEE half → float (exact: every float16 is a float32).
 * @param {number} h the 16 bits
 * @returns {number}
 */
export function halfToFloat(h) {
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

/**
 * One weight set: base64 little-endian float32 or float16 → Float32Array of `count` floats.
 * @param {string} text
 * @param {string} dtype "float32" or "float16"
 * @param {number} count the floats the tensor layout needs
 * @returns {Float32Array}
 */
export function decodeWeightSet(text, dtype, count) {
  const width = DTYPE_BYTES[dtype];
  if (!width) throw new PayloadError("payload_malformed", { detail: `weight type ${dtype}` });
  let bytes;
  try {
    bytes = base64Bytes(text);
  } catch {
    throw new PayloadError("payload_truncated", { got: 0, expected: count });
  }
  if (bytes.length !== count * width) {
    throw new PayloadError("payload_truncated", { got: Math.floor(bytes.length / width), expected: count });
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(count);
  if (width === 2) for (let i = 0; i < count; i++) out[i] = HALF_TABLE[view.getUint16(2 * i, true)];
  else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/**
 * float32 values → base64 of their little-endian bytes: a weight set as decodeWeightSet reads it and
 * lenet_viz.netview_payload.parse_stepped checks it (the Learn panel's stepped network, for the inspector).
 * @param {Float32Array} values
 * @returns {string}
 */
export function encodeWeightSet(values) {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  const CHUNK = 0x8000; // String.fromCharCode takes this many arguments safely
  let raw = "";
  for (let i = 0; i < bytes.length; i += CHUNK) raw += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(raw);
}

const isShape = (s) => Array.isArray(s) && s.length > 0 && s.every((n) => Number.isInteger(n) && n > 0);

/**
 * Check a network payload's version and shape before anything reads it.
 * @param {any} payload
 * @returns {number} the floats one weight set holds
 */
export function checkNetworkPayload(payload) {
  const malformed = (detail) => new PayloadError("payload_malformed", { detail });
  if (!payload || typeof payload !== "object") throw malformed("no payload");
  if (payload.version !== PAYLOAD_VERSION) {
    if (Number.isInteger(payload.version) && payload.version > PAYLOAD_VERSION) {
      throw new PayloadError("payload_newer", { got: payload.version, expected: PAYLOAD_VERSION });
    }
    throw malformed(`version ${JSON.stringify(payload.version ?? null)}`);
  }
  if (typeof payload.model_id !== "string" || !payload.model_id) throw malformed("model_id");
  if (!Array.isArray(payload.layers) || !payload.layers.length) throw malformed("layers");
  for (const layer of payload.layers) {
    if (!layer || typeof layer.name !== "string" || typeof layer.kind !== "string" || !isShape(layer.input_shape) ||
        !isShape(layer.output_shape)) throw malformed(`layer ${JSON.stringify(layer?.name ?? null)}`);
  }
  if (!Array.isArray(payload.tensors)) throw malformed("tensors");
  let count = 0;
  for (const t of payload.tensors) {
    if (!t || typeof t.name !== "string" || !isShape(t.shape) || t.offset !== count) {
      throw malformed(`tensor ${JSON.stringify(t?.name ?? null)}`);
    }
    count += t.shape.reduce((a, b) => a * b, 1);
  }
  if (!(payload.dtype in DTYPE_BYTES)) throw malformed(`weight type ${JSON.stringify(payload.dtype ?? null)}`);
  if (!Array.isArray(payload.weight_sets) || !payload.weight_sets.length ||
      !payload.weight_sets.every((s) => typeof s === "string")) throw malformed("weight_sets");
  if (payload.set_info != null &&
      (!Array.isArray(payload.set_info) || payload.set_info.length !== payload.weight_sets.length)) {
    throw malformed("set_info");
  }
  return count;
}

const VIEWS = ["live", "replay"];

/**
 * Check a rerun's view data (lenet_viz.netview_payload.ViewData, or LoadingViewData while a
 * server's first visit imports torch) before a view reads it: the view it names, the ids, the
 * input's shape. The network in it, if any, is checked by decode.
 * @param {any} data
 */
export function checkViewData(data) {
  const malformed = (detail) => new PayloadError("payload_malformed", { detail });
  if (!data || typeof data !== "object") throw malformed("no data");
  if (!VIEWS.includes(data.view)) throw malformed(`view ${JSON.stringify(data.view ?? null)}`);
  if (data.loading === true) { // lenet_viz.netview_payload.LoadingViewData: the pad, the network to come
    if (data.view !== "live" || typeof data.texts_id !== "string") throw malformed("loading");
    if (data.mode !== "draw" && data.mode !== "input") throw malformed("mode");
    return;
  }
  if (typeof data.model_id !== "string" || typeof data.texts_id !== "string") throw malformed("ids");
  if (!Number.isInteger(data.size) || data.size < 1 || !Number.isInteger(data.channels) || data.channels < 1) {
    throw malformed("size");
  }
  if (data.input != null && (!Array.isArray(data.input) || data.input.length !== data.size * data.size)) {
    throw malformed("input");
  }
  if (!Array.isArray(data.classes)) throw malformed("classes");
}
