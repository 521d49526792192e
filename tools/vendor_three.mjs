// Copies three.js from node_modules (the version package.json pins) into lenet_viz/netview/vendor/three/,
// where the browser loads it as plain ES modules: no CDN, no bundler.
//
//   npm ci && npm run vendor          # write the vendored copy
//   node tools/vendor_three.mjs --check  # exit 1 if the vendored copy differs from node_modules
//
// three.module.js and three.core.js are copied byte for byte. OrbitControls.js imports 'three' by bare
// name, which a browser cannot resolve without an import map: the copy imports './three.module.js'
// instead (the only change, noted in its first line).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = join(ROOT, "node_modules", "three");
const TARGET = join(ROOT, "lenet_viz", "netview", "vendor", "three");
const BARE_IMPORT = "} from 'three';";
const NOTE = "// lenet-viz: vendored by tools/vendor_three.mjs; the one change: 'three' is imported as " +
  "'./three.module.js'.\n";

/** The files to ship, name -> contents, built from the installed package. */
function vendored() {
  const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies.three;
  const installed = JSON.parse(readFileSync(join(SOURCE, "package.json"), "utf8")).version;
  if (installed !== pinned) {
    throw new Error(`node_modules has three ${installed}, package.json pins ${pinned}: run npm ci`);
  }
  const controls = readFileSync(join(SOURCE, "examples/jsm/controls/OrbitControls.js"), "utf8");
  if (controls.split(BARE_IMPORT).length !== 2) throw new Error("OrbitControls.js: expected one import from 'three'");
  const readme = `# three.js ${installed} (vendored)

Source: the npm package \`three@${installed}\` (https://www.npmjs.com/package/three,
https://github.com/mrdoob/three.js), MIT licence (LICENSE, copied from the package). Written by \`npm run vendor\` (tools/vendor_three.mjs) from
node_modules; \`tests/unit/test_vendored_three.py\` checks it matches the version package.json pins.

- \`three.module.js\`, \`three.core.js\`: \`build/\` of the package, unchanged.
- \`OrbitControls.js\`: \`examples/jsm/controls/OrbitControls.js\`, its \`import … from 'three'\` rewritten to
  \`'./three.module.js'\` (browsers cannot resolve the bare name without an import map).

Loaded only when the 3D view is opened (\`view3d.js\`).
`;
  return {
    "three.module.js": readFileSync(join(SOURCE, "build/three.module.js"), "utf8"),
    "three.core.js": readFileSync(join(SOURCE, "build/three.core.js"), "utf8"),
    "OrbitControls.js": NOTE + controls.replace(BARE_IMPORT, "} from './three.module.js';"),
    LICENSE: readFileSync(join(SOURCE, "LICENSE"), "utf8"),
    "README.md": readme,
  };
}

const files = vendored();
if (process.argv.includes("--check")) {
  const stale = Object.entries(files).filter(
    ([name, text]) => !existsSync(join(TARGET, name)) || readFileSync(join(TARGET, name), "utf8") !== text);
  if (stale.length) {
    const names = stale.map(([name]) => name).join(", ");
    console.error(`vendored three.js differs from node_modules: ${names} (npm run vendor)`);
    process.exit(1);
  }
  console.log(`vendored three.js matches node_modules (${Object.keys(files).length} files)`);
} else {
  mkdirSync(TARGET, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(TARGET, name), text);
  console.log(`wrote ${Object.keys(files).join(", ")} to ${TARGET}`);
}
