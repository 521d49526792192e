// Checks lenet_viz/netview/backprop.js against one torch autograd reference written by
// tests/backprop_reference.py. Shared by the node test (backprop.test.mjs) and the Chromium test
// (tests/browser/test_backprop_browser.py), so both run the same comparisons.

export const GRAD_TOLERANCE = 1e-4; // absolute, float32 sums in another order than torch's
export const STEP_RTOL = 1e-5; // one optimiser step, relative…
export const STEP_ATOL = 1e-7; // …and absolute for weights that are almost 0 (float32's spacing near 0.5)

/** {shape, data: base64 float32 LE} → Float32Array (node 20 and browsers both have atob). */
export function decodeArray({ data }) {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

const decodeAll = (named) => Object.fromEntries(Object.entries(named).map(([k, v]) => [k, decodeArray(v)]));

function maxAbsDiff(got, want) {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

// The largest |got − want| / (atol + STEP_RTOL·|want|): at most 1 when within tolerance.
function stepError(got, want, atol) {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (atol + STEP_RTOL * Math.abs(want[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/**
 * Every comparison for one case.
 * @param {typeof import("../../lenet_viz/netview/backprop.js")} bp  the module under test
 * @param {object} ref  one reference case (JSON)
 * @returns {{name: string, failures: string[], worst: {grad: number, step: number}}}
 */
export function checkCase(bp, ref) {
  const failures = [];
  const worst = { grad: 0, step: 0 };
  const fresh = () => bp.buildNet(ref.layers, decodeAll(ref.params));
  const grad = (what, got, want) => {
    const d = maxAbsDiff(got, decodeArray(want));
    worst.grad = Math.max(worst.grad, d);
    if (!(d <= GRAD_TOLERANCE)) failures.push(`${what}: max abs diff ${d.toExponential(2)}`);
  };
  const step = (what, params, want, atol = STEP_ATOL) => {
    for (const [name, values] of Object.entries(want)) {
      const e = stepError(params[name], decodeArray(values), atol);
      worst.step = Math.max(worst.step, e);
      if (!(e <= 1)) failures.push(`${what} ${name}: ${e.toFixed(1)}× the tolerance`);
    }
  };

  const net = fresh();
  const trace = bp.forwardTrace(net, decodeArray(ref.input));
  ref.outputs.forEach((want, l) => grad(`output of ${ref.layers[l].name}`, trace.outputs[l], want));
  const result = bp.backward(net, trace, ref.label);
  if (!(Math.abs(result.loss - ref.loss) <= GRAD_TOLERANCE)) failures.push(`loss ${result.loss} vs ${ref.loss}`);
  if (result.gradOutputs.length !== ref.grad_outputs.length) failures.push("one output gradient per layer");
  ref.grad_outputs.forEach((want, l) => grad(`∂L/∂${ref.layers[l].name}`, result.gradOutputs[l], want));
  grad("∂L/∂input", result.gradInput, ref.grad_input);
  for (const [name, want] of Object.entries(ref.grad_params)) grad(`∂L/∂${name}`, result.gradParams[name], want);
  if (Object.keys(result.gradParams).sort().join() !== Object.keys(ref.grad_params).sort().join()) {
    failures.push(`parameter names ${Object.keys(result.gradParams)}`);
  }

  // The optimisers alone, on torch's gradients; then SGD end to end, on the JS gradients (whose
  // differences, times the learning rate, add to the tolerance).
  const torchGrads = decodeAll(ref.grad_params);
  const sgdNet = fresh();
  bp.sgdStep(sgdNet, torchGrads, ref.sgd.lr);
  step("SGD", bp.cloneParams(sgdNet), ref.sgd.params);
  bp.sgdStep(net, result.gradParams, ref.sgd.lr);
  step("SGD on the JS gradients", bp.cloneParams(net), ref.sgd.params, ref.sgd.lr * GRAD_TOLERANCE);

  const adamNet = fresh();
  const adam = bp.createAdam(adamNet, { lr: ref.adam.lr, betas: ref.adam.betas, eps: ref.adam.eps });
  for (let i = 0; i < ref.adam.steps; i++) adam.step(torchGrads);
  step("Adam", bp.cloneParams(adamNet), ref.adam.params);

  const batch = bp.backwardBatch(fresh(), ref.batch.inputs.map(decodeArray), ref.batch.labels);
  if (!(Math.abs(batch.loss - ref.batch.loss) <= GRAD_TOLERANCE)) failures.push(`batch loss ${batch.loss} vs ${ref.batch.loss}`);
  for (const [name, want] of Object.entries(ref.batch.grad_params)) grad(`batch ∂L/∂${name}`, batch.gradParams[name], want);
  return { name: ref.name, failures, worst };
}
