// Types for the vendored OrbitControls as checkJs sees it: untyped (see three.module.d.ts).
export const OrbitControls: any;
