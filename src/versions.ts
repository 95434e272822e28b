import { coerce, rcompare, valid } from 'semver';

import { templateVariable } from './templateVariables';

/** A number of a version: digits, no leading zero except 0 itself. */
const NUMBER = '(?:0|[1-9]\\d*)';
/** A prerelease identifier (semver.org): a number without leading zero, or alphanumerics and hyphens with a non-digit. */
const PRERELEASE_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const BUILD_ID = '[0-9A-Za-z-]+';

/**
 * The only text read as a shortened version: `v?N(.N){0,2}(-prerelease)?(+build)?`,
 * anchored. After fewer than three numbers the prerelease must start with a
 * letter (`0.12-rc1`, `1-beta.2`): `2024-01-15` is a date and `1.2-3` could be
 * 1.2.3, neither is read as a prerelease.
 */
const SHORT_VERSION = new RegExp(
  `^v?(${NUMBER})(?:\\.(${NUMBER}))?(?:\\.(${NUMBER}))?` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?$`
);

/** The numbers of a version and of its prerelease, for the Number.MAX_SAFE_INTEGER check. */
function numbersOf(version: string): string[] {
  const [main, ...rest] = version.replace(/^v/, '').split('+')[0].split('-');
  const prerelease = rest.join('-');
  const ids = [...main.split('.'), ...(prerelease ? prerelease.split('.') : [])];
  return ids.filter((id) => /^\d+$/.test(id));
}

/** The first number of the text larger than Number.MAX_SAFE_INTEGER (semver cannot compare it), or undefined. */
function unsafeNumber(text: string): string | undefined {
  return numbersOf(text).find((n) => Number(n) > Number.MAX_SAFE_INTEGER);
}

/**
 * Reads a version typed by a user the way the what-if field does, without
 * guessing: a full semver version (`semver.valid`, after at most one leading
 * `v`; build metadata is dropped: `v1.2.3+b7` → 1.2.3), or a shortened one,
 * `v?N(.N){0,2}(-prerelease)?(+build)?` (see SHORT_VERSION), padded with
 * `semver.coerce(x, { includePrerelease: true })`, which keeps the prerelease
 * (`v1.2` → 1.2.0, `1` → 1.0.0, `0.12-rc1` → 0.12.0-rc1). Everything else is
 * no version: `latest`, `main2`, `2024-01-15`, `1.2.3.4`, `release-0.12.3`,
 * `=1.2.3`, numbers with leading zeros, and any number larger than
 * Number.MAX_SAFE_INTEGER (`99999999999999999.0.0`). Returns the normalised
 * version, or null.
 */
export function normalizeVersion(input: string): string | null {
  const v = input.trim();
  if (v === '' || unsafeNumber(v) !== undefined) {
    return null;
  }
  const strict = valid(v);
  if (strict !== null) {
    return strict;
  }
  const m = SHORT_VERSION.exec(v);
  if (m === null) {
    return null;
  }
  const [, major, minor, patch, prerelease] = m;
  if ((minor === undefined || patch === undefined) && prerelease !== undefined && !/^[A-Za-z]/.test(prerelease)) {
    return null;
  }
  const padded = coerce(v, { includePrerelease: true })?.version ?? null;
  // semver 7.8.6 pads exactly so; a different answer would be a guess, not this version.
  const expected = `${major}.${minor ?? '0'}.${patch ?? '0'}${prerelease !== undefined ? `-${prerelease}` : ''}`;
  return padded === expected ? valid(padded) : null;
}

/**
 * True for a version as the backend reads one (and as normalizeVersion
 * writes it): strict semver after at most one leading `v`.
 */
export function isSemver(v: string): boolean {
  // semver.valid also reads surrounding spaces, the backend does not.
  const plain = v.replace(/^v/, '');
  return /^\d/.test(plain) && plain === plain.trim() && valid(plain) !== null;
}

/** What the what-if field makes of its text. */
export type WhatIfVersion =
  | { state: 'empty' }
  | { state: 'valid'; version: string }
  /** A dashboard variable, stored as typed and interpolated when the query runs. */
  | { state: 'variable'; variable: string }
  | { state: 'invalid'; error: string };

/**
 * Checks the text of the what-if version field: empty (the catalog's deployed
 * version is used), a version (normalised by normalizeVersion, the value to
 * send), a template variable (`$version`, `${version}`, `${version:raw}`,
 * `[[version]]`: kept as typed, its value is normalised by
 * applyTemplateVariables) or an error naming the typed value, which must not
 * be sent.
 */
export function checkWhatIfVersion(input: string): WhatIfVersion {
  const text = input.trim();
  if (text === '') {
    return { state: 'empty' };
  }
  if (templateVariable(text) !== null) {
    return { state: 'variable', variable: text };
  }
  const version = normalizeVersion(text);
  if (version === null) {
    const big = unsafeNumber(text);
    if (big !== undefined && SHORT_VERSION.test(text)) {
      return {
        state: 'invalid',
        error: `"${text}" is not a semver version: ${big} is larger than ${Number.MAX_SAFE_INTEGER}, the largest number a version can hold here`,
      };
    }
    return {
      state: 'invalid',
      error: `"${text}" is not a semver version: use MAJOR.MINOR.PATCH such as 0.12.3 (v0.12 reads as 0.12.0)`,
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
