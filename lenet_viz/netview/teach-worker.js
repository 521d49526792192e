// The Teach page's training, in a module Web Worker so that the pad stays smooth while it runs
// (teach.js starts it: new Worker(new URL("./teach-worker.js", import.meta.url), {type: "module"})).
//
// One message starts a run: {type: "train", run}; {type: "stop"} ends it after the current batch.
// The worker answers with {type: "progress"} after each epoch (loss, accuracies: small), {type:
// "snapshot"} at the epochs teach-net.js's snapshotEpochs picks (the weights, for Training replay),
// and one {type: "done"} with the final weights, the confusion counts and why it ended: "finished",
// "stopped", or "diverged" (the epoch's loss went past ten times a guess's, or stopped being a number:
// the weights are those of the last good epoch).

import { argmaxOf, backwardBatch, buildNet, createAdam, forwardTrace } from "./backprop.js";
import { confusion, paramViews, random, shuffled, snapshotEpochs, trainedLayers } from "./teach-net.js";

/**
 * @typedef {object} Run
 * @property {import("./teach-net.js").Plan} plan
 * @property {Float32Array} weights  the flat weights to start from (trained in place, then sent back)
 * @property {Uint8Array} images  N×size×size, 0…255
 * @property {number[]} labels
 * @property {number[]} train  indices of the training examples
 * @property {number[]} held  indices of the held-out examples
 * @property {"all" | "fc"} layers
 * @property {number} lr
 * @property {number} epochs
 * @property {number} batchSize
 * @property {number} seed
 * @property {number} size  the input's side
 */

const DIVERGED_TIMES = 10;
let stopAsked = false;

/** Let the stop message in: a worker reads its messages only between tasks. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

function input(run, index) {
  const side = run.size * run.size;
  const out = new Float32Array(side);
  for (let i = 0; i < side; i++) out[i] = run.images[index * side + i] / 255;
  return out;
}

/** Predictions of the net for some examples. */
function predict(net, inputs) {
  return inputs.map((x) => argmaxOf(forwardTrace(net, x).probabilities));
}

function accuracy(predicted, truth) {
  if (!truth.length) return null;
  let right = 0;
  predicted.forEach((p, i) => { right += p === truth[i] ? 1 : 0; });
  return right / truth.length;
}

/** @param {Run} run */
async function train(run) {
  const started = performance.now();
  const flat = run.weights;
  const net = buildNet(run.plan.layers, paramViews(run.plan, flat));
  const optimiser = createAdam(net, { lr: run.lr });
  const trainable = trainedLayers(run.plan, run.layers);
  const inputs = run.labels.map((_, i) => input(run, i));
  const trainInputs = run.train.map((i) => inputs[i]), trainLabels = run.train.map((i) => run.labels[i]);
  const heldInputs = run.held.map((i) => inputs[i]), heldLabels = run.held.map((i) => run.labels[i]);
  const keep = new Set(snapshotEpochs(run.epochs));
  const next = random(run.seed);
  const batches = Math.ceil(run.train.length / run.batchSize);
  // a mean loss this high means the net is confidently wrong on nearly everything: the learning rate
  // threw it off (guessing gives ln(classes))
  const divergedLoss = DIVERGED_TIMES * Math.log(run.plan.spec.num_classes);
  let lastGood = Float32Array.from(flat), lastGoodEpoch = 0, reason = "finished", epoch = 0;
  const measure = (loss) => {
    const trainAcc = accuracy(predict(net, trainInputs), trainLabels);
    const heldAcc = accuracy(predict(net, heldInputs), heldLabels);
    return { epoch, step: epoch * batches, loss, trainAcc, heldAcc, elapsed: (performance.now() - started) / 1000 };
  };
  if (keep.has(0)) postMessage({ type: "snapshot", ...measure(null), weights: Float32Array.from(flat) });
  for (epoch = 1; epoch <= run.epochs; epoch++) {
    const order = shuffled(run.train.map((_, i) => i), next);
    let lossSum = 0, breathed = performance.now();
    for (let b = 0; b < batches && !stopAsked; b++) {
      const picked = order.slice(b * run.batchSize, (b + 1) * run.batchSize);
      const { loss, gradParams } = backwardBatch(net, picked.map((i) => trainInputs[i]), picked.map((i) => trainLabels[i]),
        { trainable });
      optimiser.step(gradParams);
      lossSum += loss * picked.length;
      if (performance.now() - breathed > 100) { // a long epoch (many drawings) still hears Stop
        await breathe();
        breathed = performance.now();
      }
    }
    if (stopAsked) { // a cut epoch: keep the weights of the last whole one
      flat.set(lastGood);
      reason = "stopped";
      break;
    }
    const loss = lossSum / run.train.length;
    if (!(loss <= divergedLoss) || !flat.every(Number.isFinite)) {
      flat.set(lastGood);
      reason = "diverged";
      break;
    }
    lastGood = Float32Array.from(flat);
    lastGoodEpoch = epoch;
    const progress = measure(loss);
    postMessage({ type: "progress", ...progress });
    if (keep.has(epoch)) postMessage({ type: "snapshot", ...progress, weights: Float32Array.from(flat) });
    await breathe();
    if (stopAsked) {
      reason = "stopped";
      break;
    }
  }
  const trainPredicted = predict(net, trainInputs), heldPredicted = predict(net, heldInputs);
  const classes = run.plan.spec.num_classes;
  postMessage({
    type: "done", reason, epoch: lastGoodEpoch, weights: flat, elapsed: (performance.now() - started) / 1000,
    trainAcc: accuracy(trainPredicted, trainLabels), heldAcc: accuracy(heldPredicted, heldLabels),
    trainConfusion: confusion(trainLabels, trainPredicted, classes),
    heldConfusion: confusion(heldLabels, heldPredicted, classes),
  }, { transfer: [flat.buffer] });
}

onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") stopAsked = true;
  if (message.type === "train") {
    stopAsked = false;
    train(message.run).catch((error) => postMessage({ type: "failed", error: String(error?.stack || error) }));
  }
};
