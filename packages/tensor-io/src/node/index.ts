export { writeFileAtomic, fsyncDir } from './atomic.js';
export { readNpy, writeNpy } from './npy.js';
export { readNpyFolder } from './npy-folder.js';
export { readSafetensors, writeSafetensors } from './safetensors.js';
export { readTorchCheckpoint, readTorchTensor, writeTorchSave } from './torch.js';
