export { parseSkeleton, readSkeleton, skeletonToFrames, bodyIdBigInt, parseSampleName, JOINT_FIELDS } from './skeleton.js';
export type { Skeleton, SkeletonBody, NtuSampleName } from './skeleton.js';
export { NtuDataset, NTU_CROSS_SUBJECT_TRAIN } from './dataset.js';
export type { NtuOptions } from './dataset.js';
