// The component's entry (lenet_viz/netview_component.py registers it): Streamlit calls the default
// export at each rerun with the data the page sent. It keeps each decoded model for the life of the
// page, so a model's weights cross the websocket once; mounts the view the data names (`view`:
// "live", Feature maps; "replay", Training replay) and updates it at later reruns; and reports to
// Streamlit through the component's state. A payload the views cannot read shows a message in both
// languages' words (nv.payload_*), never a blank area.

import { clearProblem, say, showProblem } from "./draw.js";
import { createLearn } from "./learn.js";
import { decode, net } from "./lenet.js";
import { PayloadError } from "./payload.js";
import { mountReplay } from "./replay.js";
import { mountLiveView } from "./view.js";
import { mountView3DControl } from "./view3d_control.js";

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
 * The view's hooks: those that report to Streamlit, the Learn panel's, and the 3D view's (each
 * forward pass goes to the Learn panel and to the 3D view).
 * @param {(key: string, value: unknown) => void} setStateValue
 * @param {{learn: ReturnType<typeof createLearn>, view3d?: any}} mount
 */
function liveHooks(setStateValue, mount) {
  return {
    ...mount.learn.hooks,
    onDrawing: (/** @type {unknown} */ value) => setStateValue("drawing", value),
    onUnit: (/** @type {unknown} */ unit) => setStateValue("unit", unit),
    onResult: (/** @type {any} */ result, /** @type {any} */ view) => {
      mount.learn.hooks.onResult(result, view);
      mount.view3d?.show(result, view.net, view.data.layers);
    },
  };
}

/**
 * The 3D control beside a view's 2D maps: its button in the view's slot, its panel under the view's top
 * row (`top`), fed the result on show; a click on a unit reports it as the 2D view does (`onUnit`).
 * @param {any} view a mounted view: root, slot, result
 * @param {any} data
 * @param {any} model
 * @param {string} top the class of the view's top row
 * @param {((unit: any) => void) | undefined} onUnit
 */
function mount3D(view, data, model, top, onUnit) {
  const control = mountView3DControl({
    slot: view.slot, texts: data.texts, colourRule: data.view === "replay" ? "kind" : "sign",
    place: (panel) => (view.root.querySelector(`:scope > .${top}`) ?? view.root.lastChild).after(panel),
    onClick: onUnit && ((unit) => onUnit({ ...unit, at: Date.now() })),
  });
  if (view.result !== undefined) control.show(view.result, net(model), data.layers); // the replay's comes in a frame
  return control;
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
    mount?.view3d?.destroy();
    mount = { kind: data?.view, view: null, asked: undefined };
    MOUNTS.set(parentElement, mount);
  }
  let model;
  try {
    model = modelFor(data, mount, setStateValue);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    mount.view?.root.remove();
    mount.view3d?.destroy();
    mount.view = mount.view3d = null;
    showProblem(parentElement, say(data?.texts, error.key, error.values));
    return;
  }
  if (!model) {
    showProblem(parentElement, say(data?.texts, "loading"));
    return;
  }
  clearProblem(parentElement);
  if (mount.view) {
    if (mount.kind === "live") {
      mount.view.setHooks(liveHooks(setStateValue, mount));
      mount.learn.update(data);
    }
    mount.view3d.setTexts(data.texts);
    mount.view.update(data, model);
  } else if (mount.kind === "replay") {
    mount.view = mountReplay(parentElement, model, data, {
      onResult: (/** @type {any} */ result, /** @type {any} */ snapshotNet, /** @type {any[]} */ layers) =>
        mount.view3d?.show(result, snapshotNet, layers),
    });
    mount.view3d = mount3D(mount.view, data, model, "rp-top");
  } else {
    mount.learn = createLearn();
    mount.learn.update(data);
    const hooks = liveHooks(setStateValue, mount);
    mount.view = mountLiveView(parentElement, model, data, hooks);
    mount.learn.attach(mount.view);
    mount.view3d = mount3D(mount.view, data, model, "nv-top", hooks.onUnit);
  }
  mount.view3d.select(data.unit ?? null);
  return () => mount.view?.stop?.();
}
