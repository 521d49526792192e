// Learn from this's suggested learning rate, measured under node (benchmarks/learn_rate.py writes the
// cases and runs this): for each bundled model, each input it reads confidently (the samples of
// class 7 and three drawn sevens) re-labelled as every other class, the rate suggested, the Steps
// (as learn.js takes them) until the network says the new label, and the bundled samples' accuracy
// after each step. The rule before 2026-12-06 (tests/js/learn_steps.mjs previousSuggestion) beside
// the current one (backprop.js suggestLearningRate).
//
//   node benchmarks/learn_rate.mjs <cases folder> <results.json>
import { writeFileSync } from "node:fs";

import * as bp from "../lenet_viz/netview/backprop.js";
import { correct, loadCases, previousSuggestion, stepUntilSaid } from "../tests/js/learn_steps.mjs";

const [folder, out] = process.argv.slice(2);
const MOST = 30; // steps tried before giving up
const CONFIDENT = 0.9; // inputs the network reads with at least this probability are re-labelled
const RULES = {
  before: (net, input, label) => previousSuggestion(bp, net, input, label),
  after: (net, input, label) => bp.suggestLearningRate(net, input, label).rate,
};

const median = (values) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : NaN;
};

const results = [];
for (const model of loadCases(bp, folder)) {
  const { net, trained, samples, labels } = model;
  const base = correct(bp, net, samples, labels);
  const rows = [];
  for (const { name, input } of model.inputs) {
    bp.restoreParams(net, trained);
    const trace = bp.forwardTrace(net, input);
    if (trace.probabilities[trace.prediction] < CONFIDENT) continue;
    for (let label = 0; label < trace.probabilities.length; label++) {
      if (label === trace.prediction) continue;
      const row = { input: name, predicted: trace.prediction, p: trace.probabilities[trace.prediction], label };
      for (const [rule, suggest] of Object.entries(RULES)) {
        bp.restoreParams(net, trained);
        const started = performance.now();
        const rate = suggest(net, input, label);
        const ms = performance.now() - started;
        const run = stepUntilSaid(bp, net, input, label, rate, MOST, samples, labels);
        row[rule] = { rate, ms, flipped: run.flipped, losses: run.losses, accuracy: run.accuracy };
      }
      rows.push(row);
    }
  }
  bp.restoreParams(net, trained);
  const summary = {};
  for (const rule of Object.keys(RULES)) {
    const runs = rows.map((r) => r[rule]);
    const flips = runs.map((r) => r.flipped ?? Infinity);
    const within = (n) => flips.filter((f) => f <= n).length;
    const after = runs.filter((r) => r.flipped).map((r) => r.accuracy.at(-1));
    summary[rule] = {
      cases: runs.length, median_steps: median(flips), max_steps: Math.max(...flips), within_1: within(1), within_3: within(3),
      within_4: within(4), not_within_most: runs.length - within(MOST),
      accuracy_after_first_step: { min: Math.min(...runs.map((r) => r.accuracy[0])), median: median(runs.map((r) => r.accuracy[0])) },
      accuracy_when_flipped: { min: Math.min(...after), median: median(after) },
      rates: [...new Set(runs.map((r) => r.rate))].sort((a, b) => a - b),
      suggest_ms_median: median(runs.map((r) => r.ms)),
    };
  }
  results.push({ model: model.key, samples: samples.length, base_correct: base, summary, rows });

  console.log(`\n${model.key}: ${samples.length} bundled samples, ${base} right before any step; ${rows.length} cases`);
  console.log("input              read→label | before: rate  steps  acc@1  acc@flip | after: rate  steps  acc@1  acc@flip");
  for (const r of rows) {
    const cell = (x) => `${String(x.rate).padStart(7)} ${String(x.flipped ?? `>${MOST}`).padStart(6)} ${String(x.accuracy[0]).padStart(6)} ${String(x.flipped ? x.accuracy.at(-1) : "-").padStart(9)}`;
    console.log(`${r.input.padEnd(22)} ${String(r.predicted).padStart(4)}→${r.label} | ${cell(r.before)}  | ${cell(r.after)}`);
  }
  for (const [rule, s] of Object.entries(summary)) {
    console.log(`${rule.padEnd(6)}: steps to flip median ${s.median_steps}, max ${s.max_steps}; within 3: ${s.within_3}/${s.cases}, within 4: ${s.within_4}/${s.cases}, ` +
      `not within ${MOST}: ${s.not_within_most}; accuracy after step 1 min ${s.accuracy_after_first_step.min} median ${s.accuracy_after_first_step.median}, ` +
      `when flipped min ${s.accuracy_when_flipped.min} median ${s.accuracy_when_flipped.median} (of ${samples.length}); rates ${s.rates.join(" ")}; suggestion ${s.suggest_ms_median.toFixed(1)} ms median`);
  }
}
if (out) writeFileSync(out, JSON.stringify({ node: process.version, most: MOST, confident: CONFIDENT, results }, null, 1));
