export { writeFileAtomic, fsyncDir, removeOrphanTemporaries } from './atomic.js';
export { lockFolder, readFolderLock, withFolderLock, OutputFolderLockedError, LOCK_FILE } from './lock.js';
export type { FolderLock, LockHolder } from './lock.js';
export { readNpy, readNpyHeader, writeNpy } from './npy.js';
export type { NpyFileHeader } from './npy.js';
export { readNpyFolder } from './npy-folder.js';
export { readSafetensors, writeSafetensors } from './safetensors.js';
export { readTorchCheckpoint, readTorchTensor, writeTorchSave } from './torch.js';
