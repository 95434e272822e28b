// The one function the tests use of js-yaml (a pinned dev dependency, without its @types package):
// parsing a catalog the editor wrote, to check that it is YAML and holds the expected services.
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
