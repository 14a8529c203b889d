export { captureStep, CapturedStep, type CaptureStatus } from './captured-step.js';
