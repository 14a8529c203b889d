/** Raised when a backend that was asked for by name (option or `R3D_BACKEND`) cannot start. */
export class BackendUnavailableError extends Error {
  readonly code = 'BACKEND_UNAVAILABLE';
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`TensorFlow.js backend '${backend}' is unavailable: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}
