// The user's drawing, kept in the browser: its strokes on the 280×280 pad, the same for every view
// of the tab. It outlives a rerun, a change of language and a page switch (this module lives as
// long as the tab) and a reload (sessionStorage). The server hears of it only when something there
// needs it: the unit inspector, Training replay's "My drawing".

import { mnistStyle, rgbaToGray } from "./preprocess.js";

/** The pad's own pixels; CSS may show it smaller on a phone. */
export const PAD = 280;
const PEN_WIDTH = 20; // MNIST-like strokes once scaled to 20 px
const ERASER_WIDTH = 36;
const STORE_KEY = "lenet-viz.drawing";

/** @typedef {{tool: "pen" | "eraser", points: number[][]}} Stroke */
/** @typedef {{id: string, strokes: Stroke[]}} Drawing */

/** @type {Drawing} */
let current = restore();

/** @returns {Drawing} */
function restore() {
  try {
    const saved = JSON.parse(globalThis.sessionStorage?.getItem(STORE_KEY) ?? "null");
    if (saved && typeof saved.id === "string" && Array.isArray(saved.strokes)) return saved;
  } catch {
    // no storage (a sandbox) or an unreadable entry: start blank
  }
  return { id: "blank", strokes: [] };
}

/**
 * The drawing now: its id changes whenever its strokes do.
 * @returns {Drawing}
 */
export function currentDrawing() {
  return current;
}

/**
 * Keep `strokes` as the drawing (after a pen lift, an undo or a clear); returns its new id.
 * @param {Stroke[]} strokes
 * @returns {string}
 */
export function keepDrawing(strokes) {
  const id = strokes.length ? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` : "blank";
  current = { id, strokes: strokes.map((s) => ({ tool: s.tool, points: s.points.map((p) => [p[0], p[1]]) })) };
  try {
    globalThis.sessionStorage?.setItem(STORE_KEY, JSON.stringify(current));
  } catch {
    // storage full or refused: the drawing still lives as long as the tab
  }
  return id;
}

/**
 * Draw a stroke's points from index `from` on (a dot for a single point) in the pad's pixels.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Stroke} stroke
 * @param {number} from
 */
export function drawStroke(ctx, stroke, from) {
  const width = stroke.tool === "pen" ? PEN_WIDTH : ERASER_WIDTH;
  ctx.strokeStyle = ctx.fillStyle = stroke.tool === "pen" ? "#ffffff" : "#000000";
  ctx.lineWidth = width;
  ctx.lineCap = ctx.lineJoin = "round";
  const pts = stroke.points;
  if (pts.length === 1 || from >= pts.length - 1) {
    const [x, y] = pts[pts.length - 1];
    ctx.beginPath();
    ctx.arc(x, y, width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(pts[Math.max(0, from)][0], pts[Math.max(0, from)][1]);
  for (let i = Math.max(0, from) + 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
  ctx.stroke();
}

/**
 * Paint every stroke on a black pad.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Stroke[]} strokes
 */
export function paintStrokes(ctx, strokes) {
  ctx.fillStyle = "#000000";
  ctx.fillRect(0, 0, PAD, PAD);
  for (const s of strokes) drawStroke(ctx, s, 0);
}

/**
 * The size×size network input (0..255) the strokes make for a model with this fill, as the pad
 * computes it (preprocess.js, the port of lenet_viz.preprocess); null when nothing is drawn.
 * @param {Stroke[]} strokes
 * @param {number} size
 * @param {number} fill
 * @returns {Uint8Array | null}
 */
export function inputOf(strokes, size, fill) {
  if (!strokes.length) return null;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = PAD;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", { willReadFrequently: true }));
  paintStrokes(ctx, strokes);
  const rgba = ctx.getImageData(0, 0, PAD, PAD).data;
  return mnistStyle(rgbaToGray(rgba, PAD, PAD), PAD, PAD, size, fill)?.image ?? null;
}
