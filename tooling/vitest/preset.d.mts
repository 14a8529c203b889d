import type { ViteUserConfig } from 'vitest/config';
export declare function preset(overrides?: ViteUserConfig['test']): ViteUserConfig;
