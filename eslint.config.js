// ESLint for the in-browser views (lenet_viz/netview, browser ES modules) and their node tests
// (tests/js). Run with `npx eslint .` (tests/unit/test_js_tooling.py does, once `npm ci` has run).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/", "test-output/", "**/*.egg-info/", "lenet_viz/netview/vendor/"] },  // vendor: three.js as released
  js.configs.recommended,
  {
    files: ["lenet_viz/netview/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "prefer-const": "error",
      "no-var": "error",
    },
  },
  {
    files: ["tests/js/**/*.mjs", "tools/**/*.mjs", "benchmarks/**/*.mjs", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
