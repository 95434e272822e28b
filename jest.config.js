// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const swc = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // Editor tests drive @grafana/ui comboboxes in jsdom: seconds each on a busy CI machine.
  testTimeout: 60000,
  transform: {
    ...base.transform,
    // d3-color and other ESM-only dependencies of @grafana/data ship .mjs files
    // (listed in grafanaESModules, but the scaffold only transforms .js/.ts).
    '^.+\\.mjs$': swc,
  },
};
