// Stands in for Node-only modules (fs, pngjs, jpeg-js) that a shared bundle chunk of
// @r3d-ts/datasets imports for their side effects; nothing in the page calls them.
export {};
export default {};
