export { load } from './load.js';
export { fileSystem, filePath, MODEL_JSON } from './file-system.js';
export { saveR3DModel, loadR3DModel, readWeights, loadWeights } from './checkpoint.js';
