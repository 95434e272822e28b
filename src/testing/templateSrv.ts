import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

/** A dashboard variable as the fake template service knows it. */
export interface FakeVariable {
  /** Selected value(s); ['$__all'] or '$__all' when "All" is selected. */
  current: string | string[];
  /** Every value the variable offers (what "All" expands to without a custom all value). */
  options: string[];
  /** The variable's custom all value, e.g. "*". */
  allValue?: string;
  /** Multi-value, as the variable model reports it to the editors (getVariables). */
  multi?: boolean;
  /** Has an All option, as the variable model reports it to the editors (getVariables). */
  includeAll?: boolean;
}

/**
 * A small stand-in for Grafana's template service, for tests: `$name`,
 * `${name}`, `${name:format}`, `[[name]]` and `[[name:format]]`, scoped variables first, "All" expanded to
 * every option or to the custom all value, and the formats csv, raw, a custom
 * function and the default (glob `{a,b}` for several values).
 */
export function fakeTemplateSrv(variables: Record<string, FakeVariable>): TemplateSrv {
  const resolve = (name: string, scopedVars?: ScopedVars): string | string[] | undefined => {
    const scoped = scopedVars?.[name];
    if (scoped) {
      return scoped.value as string | string[];
    }
    const v = variables[name];
    if (!v) {
      return undefined;
    }
    const cur = Array.isArray(v.current) ? v.current : [v.current];
    if (cur.includes('$__all')) {
      return v.allValue !== undefined ? v.allValue : v.options;
    }
    return Array.isArray(v.current) ? v.current : v.current;
  };
  const format = (value: string | string[], fmt?: string | Function, isCustomAll = false): string => {
    if (typeof fmt === 'function') {
      return fmt(value);
    }
    if (!Array.isArray(value) || isCustomAll) {
      return String(value);
    }
    switch (fmt) {
      case 'csv':
      case 'raw':
        return value.join(',');
      default:
        return value.length === 1 ? value[0] : `{${value.join(',')}}`;
    }
  };
  return {
    getVariables: () =>
      Object.entries(variables).map(
        ([name, v]) =>
          ({
            name,
            type: 'custom',
            multi: v.multi ?? false,
            includeAll: v.includeAll ?? false,
          }) as unknown as TypedVariableModel
      ),
    replace: (target?: string, scopedVars?: ScopedVars, fmt?: string | Function) =>
      (target ?? '').replace(
        /\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+?)(?::(\w+))?\]\]/g,
        (match, a?: string, b?: string, f?: string, c?: string, g?: string) => {
          const name = (a ?? b ?? c)!;
          const value = resolve(name, scopedVars);
          if (value === undefined) {
            return match;
          }
          const custom = variables[name]?.allValue;
          // A format in the template wins over the one the caller passes, as in Grafana.
          return format(value, f ?? g ?? fmt, custom !== undefined && value === custom);
        }
      ),
    containsTemplate: (target?: string) => !!target && /\$\w+|\$\{\w+|\[\[\w+/.test(target),
    updateTimeRange: () => {},
  };
}
