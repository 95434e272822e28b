/*
 * Lagwatch's extension of the scaffolded webpack config (which stays untouched
 * so that `create-plugin update` can replace it).
 *
 * The Go backend is built by mage into dist/ as gpx_lagwatch_<os>_<arch>[.exe]
 * plus go_plugin_build_manifest. When the Go build runs before the frontend
 * build, webpack's output.clean must keep those files: the scaffold keeps
 * names ending in _amd64/_arm/_arm64; this also keeps every gpx_* file (for
 * example a debug build or another architecture).
 */
import type { Configuration } from 'webpack';

import grafanaConfig, { type Env } from './webpack.config.ts';

export const KEEP_BACKEND_FILES = /^(gpx_.*|go_plugin_build_manifest|.*_(amd64|arm(64)?)(\.exe)?)$/;

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return {
    ...base,
    output: {
      ...base.output,
      clean: { keep: KEEP_BACKEND_FILES },
    },
  };
};

export default config;
