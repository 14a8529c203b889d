import { defineConfig } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

export default defineConfig(preset());
