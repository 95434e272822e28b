// Bundles tests/browser/harness.tsx with React, @grafana/* and Monaco INTO the
// page (the plugin build marks them external: Grafana provides them). Used by
// scripts/browser-check.sh; not part of `npm run build`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

export default {
  mode: 'development',
  devtool: false,
  context: here,
  entry: { harness: './harness.tsx' },
  output: {
    path: path.join(here, 'dist'),
    filename: '[name].js',
    chunkFilename: '[name].js',
    publicPath: '/',
    clean: true,
  },
  cache: { type: 'filesystem', cacheDirectory: path.join(root, 'node_modules/.cache/lagwatch-browser-harness') },
  resolve: {
    extensions: ['.ts', '.tsx', '.mjs', '.js', '.jsx', '.json'],
    modules: [path.join(root, 'node_modules')],
  },
  module: {
    rules: [
      // ESM packages of @grafana/* import without file extensions in places.
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true, dynamicImport: true },
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(woff2?|eot|ttf|otf|png|svg|gif|jpe?g)$/, type: 'asset/resource' },
    ],
  },
  plugins: [new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('development') })],
  // @grafana/runtime pulls in react-router-dom-v5-compat, built against another react-router; unused here.
  ignoreWarnings: [{ module: /react-router-dom-v5-compat/ }],
  performance: { hints: false },
  infrastructureLogging: { level: 'warn' },
  stats: 'errors-warnings',
};
