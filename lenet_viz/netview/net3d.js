// Where every unit of a network sits in the 3D view (view3d.js): pure geometry, no three.js and no DOM, so
// node tests it against the layer plan Python derives (tests/js/net3d.test.mjs).
//
// The network flows along +x: the input first, then every layer of the plan but flatten (it only
// reshapes the last spatial layer; its units are drawn where they come from), each a sheet in the y-z
// plane centred on the x axis. A spatial layer's C maps are tiled in a near-square grid of maps, each
// map H×W cells (row 0 at the top: +y; column 0 on the left: -z); a flat layer's N units fill one
// column (N ≤ FLAT_COLUMN) or a near-square grid. Small maps get larger cells so a 5×5 map stays
// readable beside a 28×28 one.

/** Distance between consecutive sheets along x (world units; a 28×28 map is 28 units wide). */
export const SPACING = 36;
/** World units between two maps of a layer. */
export const MAP_GAP = 3;
/** Share of its cell a large unit's square fills (the gap keeps units apart); units of a cell under
 * GAPLESS are drawn edge to edge: a gap narrower than a pixel only flickers. */
export const FILL = 0.75;
export const GAPLESS = 2;
/** Cell of a fully connected layer's unit. */
export const FLAT_CELL = 2.6;
/** Flat layers up to this many units are one column (the 10 outputs read top to bottom). */
export const FLAT_COLUMN = 16;

/**
 * @typedef {{name: string, kind: string, label?: string, input_shape: number[], output_shape: number[]}} PlanLayer
 * @typedef {{map: number, row: number, col: number}} Unit
 * @typedef {{
 *   name: string, kind: string, label: string, shape: number[], shapeText: string, spatial: boolean,
 *   count: number, maps: number, rows: number, cols: number, mapColumns: number, mapRows: number,
 *   cell: number, unitSize: number, x: number, width: number, height: number, index: number
 * }} Sheet
 * @typedef {{sheets: Sheet[], byName: Object<string, Sheet>, flattenFrom: string | null,
 *   bounds: {min: number[], max: number[]}}} Layout3D
 */

/**
 * The sheets of a network from its layer plan (``lenet_viz.models.layer_plan``, as the payload's ``layers``).
 * @param {PlanLayer[]} layers
 * @returns {Layout3D}
 */
export function layout3d(layers) {
  if (!layers.length) throw new Error("a network needs at least one layer");
  const shown = [{ name: "input", kind: "input", label: "", output_shape: layers[0].input_shape }];
  let flattenFrom = null;
  for (const layer of layers) {
    if (layer.kind === "flatten") flattenFrom = shown[shown.length - 1].name;
    else shown.push(layer);
  }
  const sheets = shown.map((layer, index) => sheet(layer, index));
  const byName = Object.fromEntries(sheets.map((s) => [s.name, s]));
  const halfHeight = Math.max(...sheets.map((s) => s.height)) / 2;
  const halfWidth = Math.max(...sheets.map((s) => s.width)) / 2;
  return {
    sheets, byName, flattenFrom,
    bounds: { min: [0, -halfHeight, -halfWidth], max: [sheets[sheets.length - 1].x, halfHeight, halfWidth] },
  };
}

/** @returns {Sheet} */
function sheet(layer, index) {
  const shape = layer.output_shape.slice();
  const spatial = shape.length === 3;
  const count = shape.reduce((a, b) => a * b, 1);
  let maps, rows, cols, mapColumns, cell;
  if (spatial) {
    [maps, rows, cols] = shape;
    mapColumns = Math.ceil(Math.sqrt(maps));
    cell = Math.min(3, Math.max(1, 14 / Math.max(rows, cols)));
  } else {
    maps = 1;
    cols = count <= FLAT_COLUMN ? 1 : Math.ceil(Math.sqrt(count));
    rows = Math.ceil(count / cols);
    mapColumns = 1;
    cell = FLAT_CELL;
  }
  const mapRows = Math.ceil(maps / mapColumns);
  return {
    name: layer.name, kind: layer.kind, label: layer.label || "", shape, shapeText: shape.join("×"), spatial, count,
    maps, rows, cols, mapColumns, mapRows, cell, unitSize: cell < GAPLESS ? cell : cell * FILL,
    x: index * SPACING, index,
    width: mapColumns * cols * cell + (mapColumns - 1) * MAP_GAP,
    height: mapRows * rows * cell + (mapRows - 1) * MAP_GAP,
  };
}

/**
 * The row and column of a flat layer's unit ``map`` in its sheet (spatial layers: the unit's own).
 * @param {Sheet} s
 * @param {Unit} unit
 * @returns {[number, number, number]} map, row, column in the sheet's grid
 */
function gridOf(s, { map, row, col }) {
  return s.spatial ? [map, row, col] : [0, Math.floor(map / s.cols), map % s.cols];
}

/**
 * Centre of a unit (x, y, z). A flat layer's unit is ``{map: index, row: 0, col: 0}``, as
 * ``explainUnit`` names it.
 * @param {Sheet} s
 * @param {Unit} unit
 * @returns {[number, number, number]}
 */
export function unitPosition(s, unit) {
  const [m, r, c] = gridOf(s, unit);
  const gr = Math.floor(m / s.mapColumns), gc = m % s.mapColumns;
  const z = -s.width / 2 + gc * (s.cols * s.cell + MAP_GAP) + (c + 0.5) * s.cell;
  const y = s.height / 2 - gr * (s.rows * s.cell + MAP_GAP) - (r + 0.5) * s.cell;
  return [s.x, y, z];
}

/**
 * A unit's place in its layer's output (C×H×W order, or the flat index): its instance in the view.
 * @param {Sheet} s
 * @param {Unit} unit
 */
export function unitIndex(s, { map, row, col }) {
  return s.spatial ? (map * s.rows + row) * s.cols + col : map;
}

/**
 * The unit at a place in its layer's output: the inverse of :func:`unitIndex`.
 * @param {Sheet} s
 * @param {number} index
 * @returns {Unit}
 */
export function unitOfIndex(s, index) {
  if (!s.spatial) return { map: index, row: 0, col: 0 };
  const area = s.rows * s.cols;
  return { map: Math.floor(index / area), row: Math.floor((index % area) / s.cols), col: index % s.cols };
}

/**
 * The unit at (y, z) on a sheet, or null in a gap or outside it: the inverse of :func:`unitPosition`.
 * @param {Sheet} s
 * @param {number} y
 * @param {number} z
 * @returns {Unit | null}
 */
export function unitAt(s, y, z) {
  const across = z + s.width / 2, down = s.height / 2 - y;
  const mapWidth = s.cols * s.cell, mapHeight = s.rows * s.cell;
  const gc = Math.floor(across / (mapWidth + MAP_GAP)), gr = Math.floor(down / (mapHeight + MAP_GAP));
  if (gc < 0 || gr < 0 || gc >= s.mapColumns || gr >= s.mapRows) return null;
  const c = Math.floor((across - gc * (mapWidth + MAP_GAP)) / s.cell);
  const r = Math.floor((down - gr * (mapHeight + MAP_GAP)) / s.cell);
  if (c < 0 || r < 0 || c >= s.cols || r >= s.rows) return null;
  const map = gr * s.mapColumns + gc;
  if (s.spatial) return map < s.maps ? { map, row: r, col: c } : null;
  const index = r * s.cols + c;
  return index < s.count ? { map: index, row: 0, col: 0 } : null;
}

/**
 * Where a unit ``explainUnit`` names as a source is drawn: its own sheet, or for ``flatten`` the unit
 * of the last spatial layer it reshapes. Null for a layer the layout does not have.
 * @param {Layout3D} layout
 * @param {string} name
 * @param {Unit} unit
 * @returns {{sheet: Sheet, unit: Unit} | null}
 */
export function locate(layout, name, unit) {
  if (name === "flatten" && layout.flattenFrom) {
    const s = layout.byName[layout.flattenFrom];
    return { sheet: s, unit: unitOfIndex(s, unit.map) };
  }
  const s = layout.byName[name];
  return s ? { sheet: s, unit } : null;
}
