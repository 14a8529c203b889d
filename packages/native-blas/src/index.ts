import { registerNativeBlasBackend } from './backend.js';

export { NATIVE_BLAS, NativeBlasBackend, nativeBlasStatus, nativeKernels, registerNativeBlasBackend } from './backend.js';
export { setBlasThreads, getBlasThreads } from './threads.js';
export { NativeBlasUnavailableError } from './errors.js';
export { loadAddon } from './addon.js';
export type { AddonStatus, BlasAddon } from './addon.js';

// Like tfjs's own backend packages, importing registers the backend; without the addon nothing is
// registered and registerNativeBlasBackend() / nativeBlasStatus() say why.
try {
  registerNativeBlasBackend();
} catch {
  // reported on demand
}
