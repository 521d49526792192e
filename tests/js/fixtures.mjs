// Fixtures Python wrote for these tests (tests/unit/test_js_tooling.py: payloads from
// lenet_viz.netview_payload with torch's outputs, drawings with lenet_viz.preprocess's results),
// in the folder $LENET_VIZ_JS_FIXTURES. Without it (a plain `node --test tests/js/`), the tests
// that need them skip and say so; the hand-made tests beside them still run.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = process.env.LENET_VIZ_JS_FIXTURES ?? "";
export const NO_FIXTURES = FIXTURES ? false
  : "no Python fixtures: run through pytest (tests/unit/test_js_tooling.py writes them)";

/**
 * A fixture file as JSON, [] when there are none.
 * @param {string} name
 */
export function fixture(name) {
  return FIXTURES ? JSON.parse(readFileSync(join(FIXTURES, name), "utf-8")) : [];
}
