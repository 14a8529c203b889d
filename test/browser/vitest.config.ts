import { defineConfig } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

export default defineConfig(preset({ testTimeout: 120_000, hookTimeout: 180_000 }));
