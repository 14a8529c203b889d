/** What the page posts to `/report` for one backend. */
export interface BackendReport {
  backend: string;
  /** The backend tf.getBackend() named while the checks ran. */
  active?: string;
  error?: string;
  rank?: { plain: number; tensor: number };
  rtf?: { loss: number; variables: number; finiteGradients: boolean; gradientL1: number; changed: number; className: string };
  r3d?: { actionError: number; durationError: number; predictions: Array<{ actions: number[]; durations: number[]; frames: number }>; fuserLayer?: string | undefined };
  datasets?: { featureDim: number; frames: number; csvChannels: number };
  seconds?: number;
}
