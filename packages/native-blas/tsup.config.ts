import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// shims: the CJS build needs import.meta.url to find the addon beside the package.
export default defineConfig(packageConfig({ shims: true }));
