// The 3D control of an in-browser view (Feature maps' live view, Training replay): a toggle button
// named "3D" in every language, and the 3D view (view3d.js) in a panel beside the kept 2D maps. The
// view and three.js are imported only when the button is first pressed, so the 2D view loads as
// before; without WebGL the button says so and nothing else changes. The host feeds every forward
// result through show(); while the panel is closed that only keeps the result.

import { el, say } from "./draw.js";
import { explainUnit } from "./lenet.js";

/**
 * @typedef {object} View3DControlOptions
 * @property {HTMLElement} slot where the button and its messages go (the view's slot for controls)
 * @property {(panel: HTMLElement) => void} place puts the 3D panel in the host view's layout
 * @property {Object<string, string>} texts the view's words (v3d.*, the tooltip's, kind.*)
 * @property {(unit: {layer: string, map: number, row: number, col: number}) => void} [onClick]
 *   a click on a map unit (the 2D view's unit selection); no click in a view without an inspector
 * @property {"sign" | "kind"} [colourRule] the colour rule of the 2D view beside it (view3d.layerColours)
 */

let webgl = null;
/** Whether this browser can draw WebGL (asked once: each probe costs a context). */
export function webglAvailable() {
  if (webgl === null) {
    try {
      const canvas = document.createElement("canvas");
      const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
      webgl = Boolean(gl);
      gl?.getExtension("WEBGL_lose_context")?.loseContext();
    } catch {
      webgl = false;
    }
  }
  return webgl;
}

/**
 * Mount the 3D control. Returns `show(result, net, layers)` (the host's forward result, the net it
 * came from and its layer plan; a new plan rebuilds the view), `setTexts(texts)`, `select(unit)` and
 * `destroy()`.
 * @param {View3DControlOptions} options
 */
export function mountView3DControl({ slot, place, texts, onClick, colourRule = "sign" }) {
  let words = texts;
  const box = el("div", "v3d-control");
  const button = el("button", "nv-tool v3d-toggle-button", "3D");
  button.type = "button";
  button.setAttribute("aria-pressed", "false");
  const note = el("div", "nv-hint v3d-note");
  note.setAttribute("role", "status");
  box.append(button, note);
  slot.append(box);
  const panel = el("div", "v3d-panel");
  panel.hidden = true;
  place(panel);

  const state = {
    open: false, view: null, loading: null, result: null, net: null, layers: null, layersKey: "", selected: null,
    message: "",
  };

  function tell(key, values) {
    state.message = key ? [key, values] : "";
    note.textContent = key ? say(words, key, values) : "";
  }

  function explain(result, layer, map, row, col) {
    return explainUnit(state.net, result, layer, map, row, col);
  }

  async function ensureView() {
    if (state.view || !state.layers) return state.view;
    state.loading ??= import("./view3d.js");
    const { createView3D } = await state.loading;
    if (!state.view && state.open) {
      state.view = createView3D(panel, { layers: state.layers, texts: words, explain, onClick, colourRule });
      if (state.selected) state.view.select(state.selected);
    }
    return state.view;
  }

  async function open() {
    if (!webglAvailable()) {
      tell("v3d.unavailable");
      return;
    }
    state.open = true;
    button.setAttribute("aria-pressed", "true");
    button.classList.add("nv-on");
    panel.hidden = false;
    tell("v3d.loading");
    try {
      const view = await ensureView();
      tell("");
      if (view && state.open) view.update(state.result);
    } catch (error) {
      close();
      tell("v3d.failed", { error: error?.message ?? String(error) });
    }
  }

  function close() {
    state.open = false;
    button.setAttribute("aria-pressed", "false");
    button.classList.remove("nv-on");
    panel.hidden = true;
  }

  button.addEventListener("click", () => (state.open ? close() : open()));

  return {
    /**
     * A forward result of the host view (or null: nothing to show), the net it ran and the layer plan.
     * @param {any} result @param {any} net @param {any[]} layers
     */
    show(result, net, layers) {
      state.result = result;
      state.net = net;
      const key = JSON.stringify(layers?.map((l) => [l.name, l.output_shape]));
      if (key !== state.layersKey) {
        state.layersKey = key;
        state.layers = layers;
        state.view?.destroy();
        state.view = null;
        if (state.open) ensureView().then((view) => view?.update(state.result));
        return;
      }
      if (state.open) state.view?.update(result);
    },
    /** @param {Object<string, string>} next the words of a rerun (the language may have changed) */
    setTexts(next) {
      words = next;
      state.view?.setTexts(next);
      if (state.message) tell(...state.message);
    },
    /** @param {{layer: string, map: number, row: number, col: number} | null} unit the inspector's unit */
    select(unit) {
      state.selected = unit;
      state.view?.select(unit);
    },
    destroy() {
      state.view?.destroy();
      box.remove();
      panel.remove();
    },
  };
}
