// The component's entry (lenet_viz/netview_component.py registers it): Streamlit calls the default
// export at each rerun with the data the page sent. It keeps each decoded model for the life of the
// page, so a model's weights cross the websocket once; mounts the view the data names (`view`:
// "live", Feature maps; "replay", Training replay) and updates it at later reruns; and reports to
// Streamlit through the component's state. A payload the views cannot read shows a message in both
// languages' words (nv.payload_*), never a blank area.

import { clearProblem, say, showProblem } from "./draw.js";
import { decode } from "./lenet.js";
import { PayloadError } from "./payload.js";
import { mountReplay } from "./replay.js";
import { mountLiveView } from "./view.js";

/** model_id → decoded model, shared by every view of the page. */
const MODELS = new Map();
/** parentElement → {kind, view, asked}: a rerun updates the view it already built. */
const MOUNTS = new WeakMap();

/**
 * The decoded model the data names: decoded now if the data carries it, else from MODELS; null if
 * the page does not hold it (after a reload) — then the server is asked for it, once.
 * @param {any} data
 * @param {{asked?: string}} mount
 * @param {(key: string, value: unknown) => void} setStateValue
 */
function modelFor(data, mount, setStateValue) {
  let model = MODELS.get(data.model_id);
  if (!model && data.model) {
    model = decode(data.model);
    MODELS.set(data.model_id, model);
  }
  if (!model && mount.asked !== data.model_id) {
    mount.asked = data.model_id;
    setStateValue("missing", { model_id: data.model_id, at: Date.now() });
  }
  return model ?? null;
}

/**
 * The view's hooks that report to Streamlit.
 * @param {(key: string, value: unknown) => void} setStateValue
 */
function liveHooks(setStateValue) {
  return {
    onDrawing: (/** @type {unknown} */ value) => setStateValue("drawing", value),
    onUnit: (/** @type {unknown} */ unit) => setStateValue("unit", unit),
  };
}

/**
 * @param {{parentElement: HTMLElement, data: any, setStateValue: (key: string, value: unknown) => void}} component
 */
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let mount = MOUNTS.get(parentElement);
  if (!mount || mount.kind !== data?.view || (mount.view && !parentElement.contains(mount.view.root))) {
    mount?.view?.stop?.();
    mount?.view?.root.remove();
    mount = { kind: data?.view, view: null, asked: undefined };
    MOUNTS.set(parentElement, mount);
  }
  let model;
  try {
    model = modelFor(data, mount, setStateValue);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    mount.view?.root.remove();
    mount.view = null;
    showProblem(parentElement, say(data?.texts, error.key, error.values));
    return;
  }
  if (!model) {
    showProblem(parentElement, say(data?.texts, "loading"));
    return;
  }
  clearProblem(parentElement);
  if (mount.view) {
    if (mount.kind === "live") mount.view.setHooks(liveHooks(setStateValue));
    mount.view.update(data, model);
  } else if (mount.kind === "replay") {
    mount.view = mountReplay(parentElement, model, data);
  } else {
    mount.view = mountLiveView(parentElement, model, data, liveHooks(setStateValue));
  }
  return () => mount.view?.stop?.();
}
