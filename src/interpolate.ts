import { ScopedVars } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';

import { isAllMarker, normalizeNames } from './queryModel';
import { normalizeVersion } from './versions';

/**
 * Expands every entry with the template service: a multi-value variable gives
 * several names, "All" gives the full list or the variable's custom all value.
 * An all-marker (`$__all`, `*`, `All`) makes the result `all` (default [],
 * which the backend reads as "every").
 */
export function expandList(entries: string[], scopedVars: ScopedVars, all: string[] = []): string[] {
  const srv = getTemplateSrv();
  const interpolated = entries.map((e) => srv.replace(e, scopedVars, 'csv'));
  const hasAll = interpolated.some((e) => e.split(',').some((p) => isAllMarker(p)));
  return hasAll ? [...all] : normalizeNames(interpolated);
}

/**
 * Interpolates the single-valued maintainer. An all-marker, or several values
 * (a multi-value variable, or "All" without a custom all value), mean "any
 * maintainer": the backend filters on one maintainer only.
 */
export function interpolateMaintainer(maintainer: string, scopedVars: ScopedVars): string {
  return interpolateSingle(maintainer, scopedVars);
}

/**
 * Interpolates a field that takes one value (the maintainer of a query, the
 * service of a versions variable). Returns '' when the result is not one
 * value: an all-marker, or several values (a multi-value variable, or "All"
 * without a custom all value).
 */
export function interpolateSingle(field: string, scopedVars: ScopedVars): string {
  const value = getTemplateSrv()
    .replace(field, scopedVars, (v: string | string[]) => {
      if (Array.isArray(v)) {
        return v.length === 1 ? v[0] : '$__all';
      }
      return v;
    })
    .trim();
  return isAllMarker(value) ? '' : value;
}

/**
 * The what-if version to send: the stored text (a version, or a variable such
 * as `$version`) interpolated as one value (`interpolateSingle`), then
 * normalised when it is a version (`v0.12` → 0.12.0). Anything else is sent
 * as it is, for the backend to name: an unknown variable stays as typed
 * ("deployedVersion: template variable $x was not replaced"), a value that is
 * no version is refused by its semver check. Undefined (no what-if version,
 * the catalog's deployed version) when the text is empty, or the variable has
 * no single value (several values, All).
 */
export function interpolateDeployedVersion(stored: string, scopedVars: ScopedVars): string | undefined {
  const value = interpolateSingle(stored, scopedVars);
  if (value === '') {
    return undefined;
  }
  return normalizeVersion(value) ?? value;
}
