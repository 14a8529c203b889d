export { TensorFormatError, NpyFormatError, SafetensorsFormatError, TorchFormatError } from './errors.js';
export type { HostTensor } from './host-tensor.js';
export { parseNpy, encodeNpy } from './npy.js';
export type { NpyArray, NpyData, NpyDtype, NpyInput } from './npy.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { SafetensorsContent, SafetensorsDtype, SafetensorsEntry, SafetensorsInput } from './safetensors.js';
export { decodeTorchCheckpoint, decodeTorchTensor } from './torch.js';
export { encodeTorchSave } from './torch-save.js';
