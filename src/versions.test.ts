import { coerce, valid } from 'semver';

import { checkWhatIfVersion, isSemver, normalizeVersion, sortVersionsNewestFirst } from './versions';

describe('normalizeVersion', () => {
  it.each([
    ['0.12.3', '0.12.3'],
    ['v0.12.3', '0.12.3'],
    [' 1.30.0 ', '1.30.0'],
    ['1.2.3-rc.1', '1.2.3-rc.1'],
    ['1.2.3-0.3.7', '1.2.3-0.3.7'],
    // semver.valid drops build metadata, which never changes precedence.
    ['1.2.3+build.7', '1.2.3'],
    ['v1.2.3-rc.1+b7', '1.2.3-rc.1'],
    ['9007199254740991.0.0', '9007199254740991.0.0'],
  ])('reads the strict semver %s as %s (semver.valid)', (input, expected) => {
    expect(normalizeVersion(input)).toBe(expected);
  });

  it.each([
    ['v1.2', '1.2.0'],
    ['1', '1.0.0'],
    ['v1', '1.0.0'],
    ['0', '0.0.0'],
    ['25.10', '25.10.0'],
    // The prerelease is kept: 0.12-rc1 is not 0.12.0, a version you do not run.
    ['0.12-rc1', '0.12.0-rc1'],
    ['v0.12-rc.1', '0.12.0-rc.1'],
    ['1-beta.2', '1.0.0-beta.2'],
    ['1.2+b7', '1.2.0'],
    ['1-rc1+b7', '1.0.0-rc1'],
  ])('pads the shortened version %s to %s (semver.coerce with includePrerelease)', (input, expected) => {
    expect(normalizeVersion(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['latest', 'no digits'],
    ['main', 'no digits'],
    ['v', 'no digits'],
    ['x.y.z', 'no digits'],
    ['main2', 'a name with a digit (coerce: 2.0.0)'],
    ['2024-01-15', 'a date (coerce: 2024.0.0)'],
    ['1.2-3', 'a number after a shortened version is no prerelease'],
    ['1.2.3.4', 'four numbers (coerce: 1.2.3)'],
    ['release-0.12.3', 'text around the version (coerce: 0.12.3)'],
    ['=1.2.3', 'a comparator, not a version'],
    ['vv1.2.3', 'two v'],
    ['V1.2.3', 'a capital V'],
    ['01.2.3', 'a leading zero'],
    ['1.02', 'a leading zero'],
    ['1.2-rc.01', 'a leading zero in the prerelease'],
    ['1.2.', 'a trailing dot'],
    ['1..2', 'an empty number'],
    ['1.2.3-', 'an empty prerelease'],
    ['1.2.3+', 'empty build metadata'],
    ['1.2 .3', 'a space inside'],
    ['99999999999999999.0.0', 'a number beyond Number.MAX_SAFE_INTEGER (coerce: 0.0.0)'],
    ['9007199254740992', 'a number beyond Number.MAX_SAFE_INTEGER'],
    ['1.2.3-99999999999999999', 'a prerelease number beyond Number.MAX_SAFE_INTEGER'],
    ['$version', 'a template variable (checkWhatIfVersion keeps it as typed)'],
  ])('reads %j as no version: %s', (input) => {
    expect(normalizeVersion(input)).toBeNull();
  });

  it('refuses =1.2.3: semver.valid does not read it (only its loose mode does), the old coerce fallback did', () => {
    expect(valid('=1.2.3')).toBeNull();
    expect(valid('=1.2.3', { loose: true })).toBe('1.2.3');
    expect(coerce('=1.2.3')?.version).toBe('1.2.3');
    expect(normalizeVersion('=1.2.3')).toBeNull();
  });

  it('relies on semver.coerce with includePrerelease keeping the prerelease (semver 7.8.6)', () => {
    expect(coerce('0.12-rc1', { includePrerelease: true })?.version).toBe('0.12.0-rc1');
    expect(coerce('0.12-rc1')?.version).toBe('0.12.0');
  });
});

describe('isSemver (what the backend reads as a version)', () => {
  it.each(['0.12.3', 'v0.12.3', '1.2.3-rc.1+build.5', '25.10.0'])('accepts %s', (v) => {
    expect(isSemver(v)).toBe(true);
  });

  it.each(['v1.2', '1', '=1.2.3', 'vv1.2.3', ' 1.2.3', 'latest', ''])('rejects %j', (v) => {
    expect(isSemver(v)).toBe(false);
  });

  it('accepts everything normalizeVersion gives', () => {
    for (const input of ['v1.2', '1', '0.12-rc1', '1-rc1+b7', 'v1.2.3+b7', '1.2.3-rc.1', '9007199254740991.0.0']) {
      const version = normalizeVersion(input);
      expect(version).not.toBeNull();
      expect(isSemver(version!)).toBe(true);
    }
  });
});

describe('checkWhatIfVersion', () => {
  it('reads an empty field as "no what-if version"', () => {
    expect(checkWhatIfVersion('')).toEqual({ state: 'empty' });
    expect(checkWhatIfVersion('  ')).toEqual({ state: 'empty' });
  });

  it('gives the normalised version to send', () => {
    expect(checkWhatIfVersion('v1.2')).toEqual({ state: 'valid', version: '1.2.0' });
    expect(checkWhatIfVersion('0.11.10')).toEqual({ state: 'valid', version: '0.11.10' });
  });

  it('keeps the prerelease of a shortened version', () => {
    expect(checkWhatIfVersion('0.12-rc1')).toEqual({ state: 'valid', version: '0.12.0-rc1' });
  });

  it.each(['main2', '2024-01-15', '1.2.3.4', '=1.2.3'])('refuses %s, naming it', (input) => {
    expect(checkWhatIfVersion(input)).toEqual({
      state: 'invalid',
      error: `"${input}" is not a semver version: use MAJOR.MINOR.PATCH such as 0.12.3 (v0.12 reads as 0.12.0)`,
    });
  });

  it.each([
    ['99999999999999999.0.0', '99999999999999999'],
    ['9007199254740992', '9007199254740992'],
    ['1.2.3-rc.99999999999999999', '99999999999999999'],
  ])('refuses %s, naming the number beyond Number.MAX_SAFE_INTEGER', (input, number) => {
    expect(checkWhatIfVersion(input)).toEqual({
      state: 'invalid',
      error: `"${input}" is not a semver version: ${number} is larger than 9007199254740991, the largest number a version can hold here`,
    });
  });

  it.each(['$version', '${version}', '${version:raw}', '[[version]]', ' $deployed_1 '])(
    'keeps the dashboard variable %j as typed (trimmed)',
    (input) => {
      expect(checkWhatIfVersion(input)).toEqual({ state: 'variable', variable: input.trim() });
    }
  );

  it.each(['v$version', '$version.1', '${version', '$1', '$', '[[version]', '$version $other'])(
    'refuses %j: not exactly one variable, and no version',
    (input) => {
      expect(checkWhatIfVersion(input).state).toBe('invalid');
    }
  );

  it('names the typed value in the error', () => {
    const r = checkWhatIfVersion(' latest ');
    expect(r.state).toBe('invalid');
    expect(r.state === 'invalid' && r.error).toBe(
      '"latest" is not a semver version: use MAJOR.MINOR.PATCH such as 0.12.3 (v0.12 reads as 0.12.0)'
    );
  });
});

describe('sortVersionsNewestFirst', () => {
  it('sorts by semver precedence, not as text', () => {
    expect(sortVersionsNewestFirst(['0.9.0', '0.12.3', '0.10.1', '0.12.10', '0.12.3-rc.1'])).toEqual([
      '0.12.10',
      '0.12.3',
      '0.12.3-rc.1',
      '0.10.1',
      '0.9.0',
    ]);
  });

  it('puts values that are not semver last, by name, and drops repeats and empties', () => {
    expect(sortVersionsNewestFirst(['nightly', '1.0.0', '', 'latest', '2.0.0', '1.0.0', 'nightly'])).toEqual([
      '2.0.0',
      '1.0.0',
      'latest',
      'nightly',
    ]);
  });

  it('orders versions of equal precedence by name, so the order does not depend on the input', () => {
    expect(sortVersionsNewestFirst(['1.2.3+b', '1.2.3', '1.2.3+a'])).toEqual(['1.2.3', '1.2.3+a', '1.2.3+b']);
    expect(sortVersionsNewestFirst(['1.2.3+a', '1.2.3+b', '1.2.3'])).toEqual(['1.2.3', '1.2.3+a', '1.2.3+b']);
  });

  it('lists nothing for nothing', () => {
    expect(sortVersionsNewestFirst([])).toEqual([]);
  });
});
