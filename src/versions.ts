import { coerce, rcompare, valid } from 'semver';

/**
 * Reads a version typed by a user the way the what-if field does: strict
 * semver first (`semver.valid`, which drops a leading `v` or `=` and build
 * metadata: `v1.2.3+b7` → 1.2.3), else coerced (`v1.2` → 1.2.0, `1` → 1.0.0).
 * Returns the normalised version, or null when the input holds no version at
 * all (`latest`, `main`, empty).
 */
export function normalizeVersion(input: string): string | null {
  const v = input.trim();
  if (v === '') {
    return null;
  }
  return valid(v) ?? valid(coerce(v));
}

/**
 * True for a version as the backend reads one (and as normalizeVersion
 * writes it): strict semver after at most one leading `v`.
 */
export function isSemver(v: string): boolean {
  // semver.valid also reads "=1.2.3", "vv1.2.3" and surrounding spaces, the backend does not.
  const plain = v.replace(/^v/, '');
  return /^\d/.test(plain) && plain === plain.trim() && valid(plain) !== null;
}

/** What the what-if field makes of its text. */
export type WhatIfVersion =
  { state: 'empty' } | { state: 'valid'; version: string } | { state: 'invalid'; error: string };

/**
 * Checks the text of the what-if version field: empty (the catalog's deployed
 * version is used), a version (normalised by normalizeVersion, the value to
 * send) or an error naming the typed value, which must not be sent.
 */
export function checkWhatIfVersion(input: string): WhatIfVersion {
  if (input.trim() === '') {
    return { state: 'empty' };
  }
  const version = normalizeVersion(input);
  if (version === null) {
    return {
      state: 'invalid',
      error: `"${input.trim()}" is not a semver version: use MAJOR.MINOR.PATCH such as 0.12.3 (v0.12 reads as 0.12.0)`,
    };
  }
  return { state: 'valid', version };
}

/**
 * Sorts versions newest first by semver precedence (`semver.rcompare`;
 * versions equal in precedence, such as 1.2.3 and 1.2.3+build, by name),
 * then the values that are not semver, by name. Empty values and repeats are
 * dropped.
 */
export function sortVersionsNewestFirst(values: string[]): string[] {
  const unique = [...new Set(values.filter((v) => v.trim() !== ''))];
  const semver = unique.filter((v) => valid(v) !== null);
  const other = unique.filter((v) => valid(v) === null);
  semver.sort((a, b) => rcompare(a, b) || a.localeCompare(b));
  other.sort((a, b) => a.localeCompare(b));
  return [...semver, ...other];
}
