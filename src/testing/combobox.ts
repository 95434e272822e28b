/**
 * @grafana/ui's Combobox virtualises its menu and renders only the options
 * that fit its measured height; jsdom measures everything as 0. Call in
 * beforeAll of tests that open a Combobox.
 */
export function giveElementsASize(width = 400, height = 400) {
  for (const prop of ['clientHeight', 'offsetHeight'] as const) {
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => height });
  }
  for (const prop of ['clientWidth', 'offsetWidth'] as const) {
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => width });
  }
}
