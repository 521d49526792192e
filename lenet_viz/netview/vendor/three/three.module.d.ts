// Types for the vendored three.js as checkJs sees it: untyped (any). It stops TypeScript from
// type-checking three.js's own code, which is not this project's; the browser loads the .js file.
declare const THREE: any;
export = THREE;
