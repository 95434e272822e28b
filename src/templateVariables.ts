/**
 * Grafana template-variable syntax, for the fields that accept a variable.
 * Names as the backend's check reads them (pkg/models/query.go, variableRe):
 * a letter or `_`, then word characters.
 */

const NAME = '[A-Za-z_]\\w*';
const FORMAT = '[A-Za-z_]\\w*';

/** A whole text that is one template variable: `$name`, `${name}`, `${name:format}`, `[[name]]`, `[[name:format]]`. */
const WHOLE = new RegExp(`^(?:\\$(${NAME})|\\$\\{(${NAME})(?::${FORMAT})?\\}|\\[\\[(${NAME})(?::${FORMAT})?\\]\\])$`);

/** A template variable Grafana left as it was: $name, ${name}, ${name:csv}, [[name]] (the backend's variableRe). */
export const UNREPLACED = /\$\{[^}]*\}|\$[A-Za-z_]\w*|\[\[[^\]]*\]\]/;

/** Every template variable in a text, by name (for `${name:csv}` and `[[name]]` too). */
const ANY = new RegExp(`\\$(${NAME})|\\$\\{(${NAME})(?::[^}]*)?\\}|\\[\\[(${NAME})(?::[^\\]]*)?\\]\\]`, 'g');

/**
 * The name of the template variable the whole (trimmed) text is, such as
 * `version` for `$version`, `${version}`, `${version:raw}` or `[[version]]`;
 * null when the text is not exactly one variable (`0.12.3`, `v$version`, `$`).
 */
export function templateVariable(text: string): string | null {
  const m = WHOLE.exec(text.trim());
  return m ? (m[1] ?? m[2] ?? m[3]) : null;
}

/** The names of the template variables in a text, each once, in order. */
export function templateVariableNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(ANY)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}
