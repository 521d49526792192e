// The 3D network view: every layer a sheet of units in space (net3d.js places them), coloured by
// activation with the 2D view's colour scales, orbit/zoom/pan with mouse, trackpad and touch, per-layer
// show/hide, and on hover or tap a unit's value with node-link lines to the units it reads.
//
// One textured square per map: a forward result only rewrites texels, and the scene is drawn
// on demand (a new result, a camera move, a hover), never in a loop. The page's own forward pass feeds
// update(): nothing here talks to the server; a click is handed to onClick, as the 2D view reports it.
// Text from data goes in with textContent, never as HTML.
import * as THREE from "./vendor/three/three.module.js";
import { OrbitControls } from "./vendor/three/OrbitControls.js";
import { colourScale, GRAY, RDBU, valueRange, VIRIDIS } from "./colours.js";
import { el, layerName, raises, say, strongestSources, tipLines } from "./draw.js";
import { layout3d, locate, unitAt, unitPosition } from "./net3d.js";

const MAX_LINES = 400; // node-link lines drawn at most (the strongest contributions), as in 2D
const LINEAR_LINES = 40; // a fully connected unit reads hundreds of inputs: its strongest ones
const BLOCK = 8; // texels per unit on a sheet whose units have gaps (6 of them the unit's colour)
const CARD = [0x2a, 0x2f, 0x3c, 255]; // a map's background: the gaps between its units
const UNKNOWN = [64, 64, 64]; // a unit before any forward result
const TAP_SLOP = 6; // CSS pixels a press may move and still be a click or tap, not an orbit
// the reset camera, from the centre: left of the input and above; on a tall stage (a phone) more along the
// flow, so the long network fits its width
const DIRECTION = new THREE.Vector3(-0.62, 0.34, 0.7).normalize();
const DIRECTION_TALL = new THREE.Vector3(-0.86, 0.36, 0.36).normalize();
const LABEL_HEIGHT = 30; // CSS pixels of a sheet's two-line label
const HOVER_COLOUR = 0xff4b4b;
const SELECTED_COLOUR = 0xffb000;
const POSITIVE = [0xd6 / 255, 0x60 / 255, 0x4d / 255]; // a contribution that raises the unit (2D: #d6604d)
const NEGATIVE = [0x21 / 255, 0x66 / 255, 0xac / 255]; // one that lowers it (2D: #2166ac)
// read by tests and benchmarks: [start, end] of every draw (performance.now()), the next frame after each
// draw, the forward results coloured, and locate(layer, unit): where the last view shows a unit (client px)
const PERF = (globalThis.__view3d ??= { draws: [], shown: [], updates: 0, locate: null });

// The colours are the colour tables' own sRGB bytes: no colour management between them and the screen.
THREE.ColorManagement.enabled = false;

/**
 * A layer's colours, by the rule of the 2D view it sits beside: the input in gray over [0, 1]; then
 * "sign" (Feature maps): a layer with negative values on the diverging scale, symmetric about 0, else
 * viridis from 0 to its largest value; "kind" (Training replay): convolutions and fully connected layers
 * diverging, the others viridis over their range.
 * @param {ArrayLike<number>} values
 * @param {string} kind the layer's kind ("input" for the input)
 * @param {"sign" | "kind"} rule
 * @returns {{table: Uint8ClampedArray, colour: (v: number) => number}}
 */
export function layerColours(values, kind, rule) {
  if (kind === "input") return { table: GRAY, colour: colourScale(0, 1, false) };
  const [lo, hi] = valueRange(values);
  const signed = rule === "kind" ? kind === "conv" || kind === "linear" : lo < 0;
  const from = signed || rule === "kind" ? lo : Math.min(0, lo);
  return { table: signed ? RDBU : VIRIDIS, colour: colourScale(from, hi, signed) };
}

/**
 * A map's picture: one texel per unit, or for a sheet whose units have gaps, BLOCK×BLOCK texels per unit
 * with a one-texel rim of card colour (so a unit fills 6/8 of its cell, as net3d's FILL says).
 * @param {{cols: number, rows: number, unitSize: number, cell: number}} s
 */
function mapTexture(s) {
  const block = s.unitSize < s.cell ? BLOCK : 1;
  const data = new Uint8Array(s.cols * block * s.rows * block * 4);
  for (let i = 0; i < data.length; i += 4) data.set(CARD, i);
  const texture = new THREE.DataTexture(data, s.cols * block, s.rows * block);
  texture.magFilter = THREE.NearestFilter;
  texture.minFilter = THREE.LinearFilter;
  texture.generateMipmaps = false;
  texture.needsUpdate = true;
  return { texture, block };
}

/**
 * Mount the 3D view in ``container``.
 * @param {HTMLElement} container
 * @param {{
 *   layers: object[],
 *   texts: Object<string, string>,
 *   explain: (result: object, layer: string, map: number, row: number, col: number) => object | null,
 *   onHover?: (unit: object | null, info: object | null) => void,
 *   onClick?: (unit: {layer: string, map: number, row: number, col: number}) => void,
 *   colourRule?: "sign" | "kind",
 * }} options ``layers``: the payload's layer plan; ``texts``: the view's words (the ``nv.*`` ones the 2D
 *   tooltip uses, ``v3d.*``, ``kind.*``); ``explain``: what a unit reads (lenet.js explainUnit on the
 *   current net); ``onClick``: a click on a map unit (not the input's, nor a fully connected one);
 *   ``colourRule``: the colour rule of the 2D view beside it (layerColours).
 * @returns {{update(result: object | null): void, setVisible(name: string, visible: boolean): void,
 *   resetView(): void, select(unit: object | null): void, setTexts(texts: object): void,
 *   element: HTMLElement, canvas: HTMLCanvasElement, destroy(): void}}
 */
export function createView3D(container, { layers, texts, explain, onHover, onClick, colourRule = "sign" }) {
  let words = texts;
  const tx = (key, values = {}) => say(words, key, values);
  const layout = layout3d(layers);

  const root = el("div", "v3d");
  const style = el("link");
  style.rel = "stylesheet";
  style.href = new URL("./view3d.css", import.meta.url).href;
  const bar = el("div", "v3d-bar");
  const reset = el("button", "v3d-button");
  reset.type = "button";
  const toggles = el("div", "v3d-layers");
  toggles.setAttribute("role", "group");
  bar.append(reset, toggles);
  const stage = el("div", "v3d-stage");
  const labels = el("div", "v3d-labels");
  const tip = el("div", "v3d-tip");
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  const help = el("div", "v3d-help");
  root.append(style, bar, stage, help);
  container.appendChild(root);

  const renderer = new THREE.WebGLRenderer({ antialias: false, powerPreference: "high-performance" });
  renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
  renderer.setPixelRatio(Math.min(globalThis.devicePixelRatio || 1, 2));
  renderer.setClearColor(0x11141c, 1);
  const canvas = renderer.domElement;
  canvas.className = "v3d-canvas";
  canvas.setAttribute("role", "img");
  canvas.tabIndex = 0;
  stage.append(canvas, labels, tip);

  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(20, 1.6, 1, 20000);
  const controls = new OrbitControls(camera, canvas);
  controls.screenSpacePanning = true;
  controls.zoomToCursor = true;
  controls.keys = { LEFT: "ArrowLeft", UP: "ArrowUp", RIGHT: "ArrowRight", BOTTOM: "ArrowDown" };
  controls.listenToKeyEvents(canvas);

  // --- one square per map, its units the texels of a texture: a forward result only rewrites texels.
  // (Not a mesh of unit squares: Chromium's software WebGL, SwiftShader, spent ~190 ms a frame on a
  // 4704-instance InstancedMesh and ~35 ms on the network's 15k units as quads; textures take a few ms.)
  const mapSquare = new THREE.PlaneGeometry(1, 1).rotateY(-Math.PI / 2); // u along +z, v along +y
  const sheets = new Map(); // name -> {sheet, group, textures, block, label, box, visible}
  for (const s of layout.sheets) {
    const group = new THREE.Group();
    const textures = [];
    let block = 1;
    for (let map = 0; map < s.maps; map++) {
      const picture = mapTexture(s);
      block = picture.block;
      textures.push(picture.texture);
      const square = new THREE.Mesh(mapSquare, new THREE.MeshBasicMaterial({ map: picture.texture,
        side: THREE.DoubleSide }));
      const [x, y, z] = unitPosition(s, s.spatial ? { map, row: 0, col: 0 } : { map: 0, row: 0, col: 0 });
      const w = s.cols * s.cell, h = s.rows * s.cell;
      square.scale.set(1, h, w);
      square.position.set(x, y + s.cell / 2 - h / 2, z - s.cell / 2 + w / 2);
      group.add(square);
    }
    scene.add(group);
    const label = el("div", "v3d-label");
    label.append(el("div", "v3d-label-name"), el("div", "v3d-label-shape", s.shapeText));
    labels.append(label);
    const toggle = el("label", "v3d-toggle");
    const box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.addEventListener("change", () => setVisible(s.name, box.checked));
    toggle.append(box, el("span", "", s.name));
    toggles.append(toggle);
    sheets.set(s.name, { sheet: s, group, textures, block, label, box, visible: true });
  }

  // --- hover lines and unit outlines (redrawn on hover, on a new result, on show/hide)
  const lineGeometry = new THREE.BufferGeometry();
  const linePositions = new Float32Array(MAX_LINES * 6);
  const lineColours = new Float32Array(MAX_LINES * 8);
  lineGeometry.setAttribute("position", new THREE.BufferAttribute(linePositions, 3).setUsage(THREE.DynamicDrawUsage));
  lineGeometry.setAttribute("color", new THREE.BufferAttribute(lineColours, 4).setUsage(THREE.DynamicDrawUsage));
  lineGeometry.setDrawRange(0, 0);
  const lines = new THREE.LineSegments(lineGeometry,
    new THREE.LineBasicMaterial({ vertexColors: true, transparent: true, depthWrite: false }));
  lines.frustumCulled = false;
  scene.add(lines);
  const outline = (colour) => {
    const geometry = new THREE.BufferGeometry().setFromPoints([[1, 1], [1, -1], [-1, -1], [-1, 1]].map(
      ([y, z]) => new THREE.Vector3(0, y / 2, z / 2)));
    const loop = new THREE.LineLoop(geometry, new THREE.LineBasicMaterial({ color: colour, depthTest: false }));
    loop.renderOrder = 2;
    loop.visible = false;
    scene.add(loop);
    return loop;
  };
  const hoverMark = outline(HOVER_COLOUR);
  const selectedMark = outline(SELECTED_COLOUR);

  const state = {
    result: null, hover: null, selected: null, hoverPoint: null, frame: 0, disposed: false,
    moved: false, // the user has turned, zoomed or panned since the last reset
  };

  // --- drawing: on demand, at most once per animation frame unless asked to draw now
  function draw() {
    if (state.disposed) return;
    const start = performance.now();
    if (state.frame) {
      cancelAnimationFrame(state.frame);
      state.frame = 0;
    }
    renderer.render(scene, camera);
    placeLabels();
    PERF.draws.push([start, performance.now()]);
    requestAnimationFrame(() => PERF.shown.push(performance.now()));
  }
  function invalidate() {
    if (!state.frame && !state.disposed) state.frame = requestAnimationFrame(() => {
      state.frame = 0;
      draw();
    });
  }
  controls.addEventListener("start", () => {
    state.moved = true;
  });
  controls.addEventListener("change", () => {
    invalidate();
    placeTip();
  });

  const projected = new THREE.Vector3();
  // each visible sheet's name and shape above it; a label that would overlap one already placed (sheets
  // seen end-on, a narrow stage) is left out, the input's and the first layers' first
  function placeLabels() {
    const width = stage.clientWidth, height = stage.clientHeight;
    const placed = [];
    for (const entry of sheets.values()) {
      const { sheet: s, label, visible } = entry;
      projected.set(s.x, s.height / 2 + 3, 0).project(camera);
      const x = ((projected.x + 1) / 2) * width, y = ((1 - projected.y) / 2) * height;
      if (!entry.labelWidth && !label.hidden) entry.labelWidth = label.offsetWidth; // once shown: its width
      const half = (entry.labelWidth || 80) / 2;
      const box = [x - half, y - LABEL_HEIGHT, x + half, y];
      const show = visible && projected.z < 1 && Math.abs(projected.x) < 1.2 && Math.abs(projected.y) < 1.2 &&
        !placed.some((p) => box[0] < p[2] && p[0] < box[2] && box[1] < p[3] && p[1] < box[3]);
      label.hidden = !show;
      if (show) {
        placed.push(box);
        label.style.transform = `translate(${x}px, ${y}px) translate(-50%, -100%)`;
      }
    }
  }

  // the stage's size (its stylesheet may arrive after the view is built, a phone turns): until the user
  // moves the camera, the reset view is fitted to it again
  function sizeToStage() {
    const width = Math.max(1, stage.clientWidth);
    const height = Math.max(1, stage.clientHeight);
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    if (!state.moved) resetView();
    invalidate();
  }
  const resizing = new ResizeObserver(sizeToStage);
  resizing.observe(stage);

  // --- the camera: the visible sheets fill the view, seen from the left of the input and above
  function resetView() {
    const corners = []; // every visible sheet's corners, with room for its label above
    for (const { sheet: s, visible } of sheets.values()) {
      if (!visible) continue;
      const [bottom, top, left, right] = [-s.height / 2, s.height / 2 + 8, -s.width / 2, s.width / 2];
      for (const [y, z] of [[bottom, left], [bottom, right], [top, left], [top, right]]) {
        corners.push(new THREE.Vector3(s.x, y, z));
      }
    }
    if (!corners.length) corners.push(new THREE.Vector3(-10, -10, -10), new THREE.Vector3(10, 10, 10));
    const box = new THREE.Box3().setFromPoints(corners);
    const centre = box.getCenter(new THREE.Vector3());
    // the distance at which every corner is on screen with a margin: a few steps of scaling it by how far
    // outside (or inside) the view the corners land
    const direction = camera.aspect < 1 ? DIRECTION_TALL : DIRECTION;
    let distance = box.getSize(new THREE.Vector3()).length();
    const target = centre.clone();
    const half = new THREE.Vector2();
    for (let step = 0; step < 5; step++) {
      camera.position.copy(target).addScaledVector(direction, distance);
      camera.lookAt(target);
      camera.updateMatrixWorld();
      const lo = new THREE.Vector2(Infinity, Infinity), hi = new THREE.Vector2(-Infinity, -Infinity);
      for (const corner of corners) {
        const p = corner.clone().project(camera);
        lo.min(p);
        hi.max(p);
      }
      // centre what is seen (the network tapers: its bounding box's centre is not its picture's), then fit
      const tan = Math.tan(THREE.MathUtils.degToRad(camera.fov) / 2);
      half.set(tan * camera.aspect * distance, tan * distance);
      const right = new THREE.Vector3().setFromMatrixColumn(camera.matrixWorld, 0);
      const up = new THREE.Vector3().setFromMatrixColumn(camera.matrixWorld, 1);
      target.addScaledVector(right, ((lo.x + hi.x) / 2) * half.x).addScaledVector(up, ((lo.y + hi.y) / 2) * half.y);
      distance *= Math.max((hi.x - lo.x) / 2, (hi.y - lo.y) / 2) / 0.9;
    }
    controls.target.copy(target);
    camera.position.copy(target).addScaledVector(direction, distance);
    camera.near = Math.max(0.5, distance / 200);
    camera.far = distance * 20;
    camera.updateProjectionMatrix();
    controls.update();
    state.moved = false;
    invalidate();
  }

  // --- colours from a forward result: each unit's texel (or block of texels) in its map's texture
  function paint({ sheet: s, textures, block }, values) {
    const scale = values && layerColours(values, s.kind, colourRule);
    const width = s.cols * block, inset = block === 1 ? 0 : 1, size = block - 2 * inset;
    for (let m = 0; m < s.maps; m++) {
      const data = textures[m].image.data;
      for (let r = 0; r < s.rows; r++) {
        for (let c = 0; c < s.cols; c++) {
          const i = (m * s.rows + r) * s.cols + c;
          if (i >= s.count) break; // a flat layer's last row may be short
          const k = values ? scale.colour(values[i]) : -1;
          const rgb = k >= 0 ? [scale.table[k], scale.table[k + 1], scale.table[k + 2]] : UNKNOWN; // NaN too
          // texture rows run bottom to top: the map's row 0 is its top row
          for (let dy = 0; dy < size; dy++) {
            let at = (((s.rows - 1 - r) * block + inset + dy) * width + c * block + inset) * 4;
            for (let dx = 0; dx < size; dx++, at += 4) {
              data[at] = rgb[0];
              data[at + 1] = rgb[1];
              data[at + 2] = rgb[2];
            }
          }
        }
      }
      textures[m].needsUpdate = true;
    }
  }

  function update(result) {
    state.result = result;
    for (const [name, entry] of sheets) {
      paint(entry, result && (name === "input" ? result.input : result.outputs[name]));
    }
    PERF.updates += 1;
    showHover();
    draw(); // now, in the frame the forward pass ran in: the 3D view keeps pace with the pen
  }

  // --- picking: the ray meets each visible sheet's plane (x = const); the nearest unit under it wins
  const raycaster = new THREE.Raycaster();
  const pointer = new THREE.Vector2();
  function unitUnder(event) {
    const box = canvas.getBoundingClientRect();
    pointer.set(((event.clientX - box.left) / box.width) * 2 - 1, -((event.clientY - box.top) / box.height) * 2 + 1);
    raycaster.setFromCamera(pointer, camera);
    const { origin, direction } = raycaster.ray;
    let best = null, nearest = Infinity;
    for (const { sheet: s, visible } of sheets.values()) {
      if (!visible || Math.abs(direction.x) < 1e-9) continue;
      const t = (s.x - origin.x) / direction.x;
      if (t <= 0 || t >= nearest) continue;
      const unit = unitAt(s, origin.y + t * direction.y, origin.z + t * direction.z);
      if (unit) {
        nearest = t;
        best = { layer: s.name, ...unit, flat: !s.spatial };
      }
    }
    return best;
  }

  function mark(loop, unit) {
    const found = unit && locate(layout, unit.layer, unit);
    loop.visible = Boolean(found && sheets.get(found.sheet.name).visible);
    if (!loop.visible) return;
    const [x, y, z] = unitPosition(found.sheet, found.unit);
    const size = found.sheet.cell * 1.15;
    loop.position.set(x + 0.05, y, z);
    loop.scale.set(1, size, size);
  }

  function explainHover() {
    const unit = state.hover;
    if (!unit || !state.result || unit.layer === "input") return null;
    try {
      return explain(state.result, unit.layer, unit.map, unit.row, unit.col);
    } catch {
      return null;
    }
  }

  // the hovered unit's outline, its lines to the units it reads (the strongest, coloured by sign) and the tip
  function showHover() {
    mark(selectedMark, state.selected);
    mark(hoverMark, state.hover);
    const unit = state.hover;
    const info = explainHover();
    let count = 0;
    if (info && hoverMark.visible) {
      const target = unitPosition(sheets.get(unit.layer).sheet, unit);
      const strongest = strongestSources(info.sources ?? [], info.kind === "linear" ? LINEAR_LINES : MAX_LINES);
      for (const s of strongest.sources) {
        const found = locate(layout, s.layer, s);
        if (!found || !sheets.get(found.sheet.name).visible) continue;
        const from = unitPosition(found.sheet, found.unit);
        const rgb = raises(s) ? POSITIVE : NEGATIVE;
        const alpha = 0.15 + 0.85 * (strongest.strength(s) / strongest.peak);
        linePositions.set(from, count * 6);
        linePositions.set(target, count * 6 + 3);
        lineColours.set([...rgb, alpha, ...rgb, alpha], count * 8);
        count += 1;
      }
    }
    lineGeometry.setDrawRange(0, count * 2);
    lineGeometry.attributes.position.needsUpdate = true;
    lineGeometry.attributes.color.needsUpdate = true;
    writeTip(unit, info);
    onHover?.(unit, info);
  }

  function writeTip(unit, info) {
    if (!unit || !info) {
      tip.hidden = true;
      return;
    }
    const clickable = Boolean(onClick) && !unit.flat;
    const lines = tipLines(words, unit, info, clickable);
    tip.replaceChildren(...lines.map((line, i) => el("div", i ? "" : "v3d-tip-head", line)));
    tip.hidden = false;
    placeTip();
  }

  function placeTip() {
    if (tip.hidden || !state.hoverPoint) return;
    const box = stage.getBoundingClientRect();
    const x = state.hoverPoint[0] - box.left + 14, y = state.hoverPoint[1] - box.top + 14;
    tip.style.left = `${Math.max(0, Math.min(x, box.width - tip.offsetWidth - 4))}px`;
    tip.style.top = `${Math.max(0, Math.min(y, box.height - tip.offsetHeight - 4))}px`;
  }

  function hoverAt(event) {
    const unit = unitUnder(event);
    const same = unit && state.hover && ["layer", "map", "row", "col"].every((k) => unit[k] === state.hover[k]);
    state.hoverPoint = [event.clientX, event.clientY];
    if (same || (!unit && !state.hover)) {
      placeTip();
      return;
    }
    state.hover = unit;
    showHover();
    invalidate();
  }

  // --- pointer: OrbitControls turns, zooms and pans; a press that barely moves is a click or a tap
  let press = null, dragging = 0;
  canvas.addEventListener("pointerdown", (e) => {
    press = { x: e.clientX, y: e.clientY, id: e.pointerId };
    dragging += 1;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > TAP_SLOP) press = null;
    if (e.pointerType === "mouse" && !(e.buttons & 7)) hoverAt(e);
  });
  const release = (e) => {
    dragging = Math.max(0, dragging - 1);
    const tapped = press && press.id === e.pointerId && e.type === "pointerup";
    press = null;
    if (!tapped) return;
    hoverAt(e); // a finger cannot hover: a tap shows the tooltip, which stays until the next tap
    const unit = state.hover;
    if (unit && !unit.flat && unit.layer !== "input" && onClick) {
      state.selected = { ...unit };
      showHover();
      invalidate();
      onClick({ layer: unit.layer, map: unit.map, row: unit.row, col: unit.col });
    }
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("pointerleave", (e) => {
    if (e.pointerType !== "mouse" || dragging) return;
    state.hover = null;
    showHover();
    invalidate();
  });

  function setVisible(name, visible) {
    const entry = sheets.get(name);
    if (!entry) return;
    entry.visible = visible;
    entry.group.visible = visible;
    entry.box.checked = visible;
    if (!visible && state.hover?.layer === name) state.hover = null;
    showHover();
    invalidate();
  }

  function select(unit) {
    state.selected = unit ? { ...unit } : null;
    showHover();
    invalidate();
  }

  function setTexts(next) {
    words = next;
    reset.textContent = tx("v3d.reset");
    help.textContent = tx(onClick ? "v3d.help" : "v3d.help_no_click");
    canvas.setAttribute("aria-label", tx("v3d.canvas"));
    toggles.setAttribute("aria-label", tx("v3d.layers"));
    for (const entry of sheets.values()) {
      const { sheet: s, label, box } = entry;
      label.firstChild.textContent = `${layerName(s.name, words)}${s.label ? ` (${s.label})` : ""}`;
      label.title = s.kind === "input" ? tx("v3d.input") : tx(`kind.${s.kind}`);
      entry.labelWidth = 0; // measured again when next shown
      box.setAttribute("aria-label", tx("v3d.show_layer", { name: layerName(s.name, words) }));
    }
    if (state.hover) showHover();
  }

  function destroy() {
    state.disposed = true;
    if (state.frame) cancelAnimationFrame(state.frame);
    resizing.disconnect();
    controls.dispose();
    for (const { group, textures } of sheets.values()) {
      for (const square of group.children) square.material.dispose();
      for (const texture of textures) texture.dispose();
    }
    mapSquare.dispose();
    lineGeometry.dispose();
    renderer.dispose();
    renderer.forceContextLoss();
    if (PERF.locate === locateOnScreen) PERF.locate = null;
    root.remove();
  }

  // a unit's centre on screen (client pixels), or null where it is hidden or behind the camera
  function locateOnScreen(layer, unit) {
    const found = locate(layout, layer, unit);
    if (!found || !sheets.get(found.sheet.name).visible) return null;
    const p = new THREE.Vector3(...unitPosition(found.sheet, found.unit)).project(camera);
    if (p.z >= 1) return null;
    const box = canvas.getBoundingClientRect();
    return { x: box.left + ((p.x + 1) / 2) * box.width, y: box.top + ((1 - p.y) / 2) * box.height };
  }
  PERF.locate = locateOnScreen;

  reset.addEventListener("click", resetView);
  setTexts(texts);
  sizeToStage(); // and the reset view
  return { update, setVisible, resetView, select, setTexts, element: root, canvas, destroy };
}
