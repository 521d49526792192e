// The component's entry (lenet_viz/netview_component.py registers it): Streamlit calls the default
// export at each rerun with the data the page sent. It keeps each decoded model and each language's
// words for the life of the page, so they cross the websocket once (the page asks again, state
// `missing`, for what it lost: a reload); mounts the view the data names (`view`:
// "live", Feature maps; "replay", Training replay) and updates it at later reruns; and reports to
// Streamlit through the component's state. A payload the views cannot read shows a message in both
// languages' words (nv.payload_*), never a blank area. A page that needs the user's drawing (kept in
// the browser, drawing.js) says which one it holds (`drawing_id`); a different one is sent, once.
// Once the Learn panel has stepped the network, a click on a unit carries its weights (trigger
// `stepped_unit`, else state `unit`), and while the inspector is open each Step, Undo step and Reset
// weights sends them (trigger `stepped`): the server's inspector shows the network the view shows.
// Triggers, not state: Streamlit would send a state's 330 kB again with every later rerun.

import { clearProblem, say, showProblem } from "./draw.js";
import { currentDrawing, inputOf } from "./drawing.js";
import { createLearn } from "./learn.js";
import { decode, net } from "./lenet.js";
import { checkViewData, PayloadError } from "./payload.js";
import { mountReplay } from "./replay.js";
import { mountLiveView } from "./view.js";
import { mountView3DControl } from "./view3d_control.js";

/** model_id → decoded model, shared by every view of the page. */
const MODELS = new Map();
/** texts_id → the view's words in one language: sent once per language, like the weights. */
const TEXTS = new Map();
/** parentElement → {kind, view, asked, synced}: a rerun updates the view it already built. */
const MOUNTS = new WeakMap();
/** The words of the messages shown before any words arrived (English, as the server's logs). */
const FALLBACK = {
  loading: "Loading the network…",
  payload_newer: "This network was sent in a newer format (version {got}) than this page reads (version {expected}). Reload the page.",
  payload_malformed: "The network could not be shown: its data is damaged ({detail}). Reload the page or choose another model.",
  payload_truncated: "The network could not be shown: its weights are cut short ({got} of {expected} numbers). Reload the page or choose another model.",
};

/**
 * What the data names and the page holds: the decoded model (decoded now if the data carries it)
 * and the words; null for either the page does not hold (after a reload).
 * @param {any} data
 */
function held(data) {
  if (data.texts) TEXTS.set(data.texts_id, data.texts);
  let model = MODELS.get(data.model_id);
  if (!model && data.model) {
    model = decode(data.model);
    MODELS.set(data.model_id, model);
  }
  return { model: model ?? null, texts: TEXTS.get(data.texts_id) ?? null };
}

/**
 * Ask the server, once, for what the page lacks (`ids`: a model's, the words'): the server believes
 * it sent them.
 * @param {string[]} ids
 * @param {{asked?: string}} mount
 * @param {(key: string, value: unknown) => void} setStateValue
 */
function askMissing(ids, mount, setStateValue) {
  const asking = JSON.stringify(ids);
  if (mount.asked === asking) return;
  mount.asked = asking;
  setStateValue("missing", { ids, at: Date.now() });
}

/**
 * Send the browser's drawing when the page holds another one (`data.drawing_id`, absent when the
 * page does not need it): its input for this model's size and fill, its strokes and its id.
 * @param {any} data
 * @param {{synced?: string}} mount
 * @param {(key: string, value: unknown) => void} setStateValue
 */
function syncDrawing(data, mount, setStateValue) {
  const drawing = currentDrawing();
  if (!("drawing_id" in data) || (data.drawing_id ?? "blank") === drawing.id || mount.synced === drawing.id) return;
  mount.synced = drawing.id;
  const input = inputOf(drawing.strokes, data.size, data.fill);
  setStateValue("drawing", { id: drawing.id, input: input && Array.from(input), size: data.size,
    model_id: data.model_id, strokes: drawing.strokes });
}

/**
 * The view's hooks: those that report to Streamlit, the Learn panel's, and the 3D view's (each
 * forward pass goes to the Learn panel and to the 3D view). A click on a unit (2D or 3D) sends the
 * stepped weights with it when there are any.
 * @param {(key: string, value: unknown) => void} setStateValue
 * @param {(key: string, value: unknown) => void} setTriggerValue
 * @param {{learn: ReturnType<typeof createLearn>, view3d?: any}} mount
 */
function liveHooks(setStateValue, setTriggerValue, mount) {
  return {
    ...mount.learn.hooks,
    onDrawing: (/** @type {unknown} */ drawing) => setStateValue("drawing", drawing),
    onUnit: (/** @type {object} */ unit) => {
      const stepped = mount.learn.stepped();
      if (stepped.steps) setTriggerValue("stepped_unit", { ...unit, stepped });
      else setStateValue("unit", unit);
    },
    onResult: (/** @type {any} */ result, /** @type {any} */ view) => {
      mount.learn.hooks.onResult?.(result, view);
      mount.view3d?.show(result, view.net, view.model.layers);
    },
  };
}

/**
 * The 3D control beside a view's 2D maps: its button in the view's slot, its panel under the view's top
 * row (`top`), fed the result on show; a click on a unit reports it as the 2D view does (`onUnit`),
 * with the drawing on show: without it the inspector would read the server's last input instead.
 * @param {any} view a mounted view: root, slot, result (and the live view's drawingReport)
 * @param {any} data
 * @param {any} model
 * @param {string} top the class of the view's top row
 * @param {((unit: any) => void) | undefined} [onUnit]
 */
function mount3D(view, data, model, top, onUnit) {
  const control = mountView3DControl({
    slot: view.slot, texts: data.texts, colourRule: data.view === "replay" ? "kind" : "sign",
    place: (panel) => (view.root.querySelector(`:scope > .${top}`) ?? view.root.lastChild).after(panel),
    onClick: onUnit && ((unit) => onUnit({ ...unit, at: Date.now(), drawing: view.drawingReport?.() ?? null })),
  });
  if (view.result !== undefined) control.show(view.result, net(model), model.layers); // the replay's comes in a frame
  return control;
}

/**
 * @param {{parentElement: HTMLElement, data: any, setStateValue: (key: string, value: unknown) => void,
 *   setTriggerValue: (key: string, value: unknown) => void}} component
 */
export default function (component) {
  const { parentElement, setStateValue, setTriggerValue } = component;
  let data = component.data;
  if (data?.view === "drawing") { // no view: a page that reads the drawing (Lessons) asks for it here
    syncDrawing(data, MOUNTS.get(parentElement) ?? MOUNTS.set(parentElement, {}).get(parentElement), setStateValue);
    return;
  }
  let mount = MOUNTS.get(parentElement);
  if (!mount || mount.kind !== data?.view || (mount.view && !parentElement.contains(mount.view.root))) {
    mount?.view?.stop?.();
    mount?.view?.root.remove();
    mount?.view3d?.destroy();
    mount = { kind: data?.view, view: null, asked: undefined, synced: undefined };
    MOUNTS.set(parentElement, mount);
  }
  let have;
  try {
    checkViewData(data);
    have = held(data);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    mount.view?.root.remove();
    mount.view3d?.destroy();
    mount.view = mount.view3d = null;
    showProblem(parentElement, say(TEXTS.get(data?.texts_id) ?? FALLBACK, error.key, error.values));
    return;
  }
  const lacking = [...(have.model || data.loading ? [] : [data.model_id]), ...(have.texts ? [] : [data.texts_id])];
  if (lacking.length) {
    askMissing(lacking, mount, setStateValue);
    showProblem(parentElement, say(have.texts ?? FALLBACK, "loading"));
    return;
  }
  if (data.loading) { // a server's first visit: the pad now, the network once torch is imported there
    clearProblem(parentElement);
    data = { ...data, texts: have.texts };
    if (!mount.view) mount.view = mountLiveView(parentElement, null, data);
    else if (!mount.view3d) mount.view.update(data, null); // (a view given its network keeps it)
    return;
  }
  const model = have.model;
  data = { ...data, texts: have.texts };
  clearProblem(parentElement);
  syncDrawing(data, mount, setStateValue);
  if (mount.kind === "live") { // where the Learn panel's steps go while the server's inspector is open
    mount.inspecting = Boolean(data.inspecting);
    mount.sendSteps = () => setTriggerValue("stepped", mount.learn.stepped());
  }
  try {
    if (mount.view3d) { // a view built on a network: this rerun's data
      if (mount.kind === "live") {
        mount.view.setHooks(liveHooks(setStateValue, setTriggerValue, mount));
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
    } else { // a live view: new, or the pad shown while the network loaded, now given it (its strokes kept)
      mount.learn = createLearn({ // the inspector, while open, follows the steps as it follows the drawing
        onWeightsChange: () => { if (mount.inspecting) mount.sendSteps(); },
      });
      mount.learn.update(data);
      const hooks = liveHooks(setStateValue, setTriggerValue, mount);
      if (mount.view) {
        mount.view.setHooks(hooks);
        mount.view.update(data, model);
      } else {
        mount.view = mountLiveView(parentElement, model, data, hooks);
      }
      mount.learn.attach(mount.view);
      mount.view3d = mount3D(mount.view, data, model, "nv-top", hooks.onUnit);
    }
    mount.view3d.select(data.unit ?? null);
  } catch (error) { // a network the checks let through but the maths cannot run: say so, in place
    for (const node of parentElement.querySelectorAll(":scope > .nv, :scope > .rp-root")) node.remove();
    mount.view3d?.destroy();
    mount.view = mount.view3d = null;
    showProblem(parentElement, say(have.texts, "payload_malformed", { detail: String(error?.message ?? error) }));
  }
  return () => mount.view?.stop?.();
}
