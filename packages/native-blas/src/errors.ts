/** Raised when the OpenBLAS addon is not built or cannot load; `reason` says why in one line. */
export class NativeBlasUnavailableError extends Error {
  readonly code = 'NATIVE_BLAS_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(`native-blas is unavailable: ${reason}`);
    this.name = 'NativeBlasUnavailableError';
  }
}
