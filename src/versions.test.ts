import { checkWhatIfVersion, isSemver, normalizeVersion, sortVersionsNewestFirst } from './versions';

describe('normalizeVersion', () => {
  it.each([
    ['0.12.3', '0.12.3'],
    ['v0.12.3', '0.12.3'],
    [' 1.30.0 ', '1.30.0'],
    ['1.2.3-rc.1', '1.2.3-rc.1'],
    // semver.valid drops build metadata, which never changes precedence.
    ['1.2.3+build.7', '1.2.3'],
    ['=1.2.3', '1.2.3'],
  ])('reads the strict semver %s as %s (semver.valid)', (input, expected) => {
    expect(normalizeVersion(input)).toBe(expected);
  });

  it.each([
    ['v1.2', '1.2.0'],
    ['1', '1.0.0'],
    ['25.10', '25.10.0'],
    ['release-0.12.3', '0.12.3'],
    ['1.2.3.4', '1.2.3'],
  ])('coerces %s to %s (semver.coerce)', (input, expected) => {
    expect(normalizeVersion(input)).toBe(expected);
  });

  it.each(['', '   ', 'latest', 'main', 'v', 'x.y.z'])('reads %j as no version', (input) => {
    expect(normalizeVersion(input)).toBeNull();
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
    for (const input of ['v1.2', '1', 'release-0.12.3', '=1.2.3', 'v1.2.3+b7', '1.2.3-rc.1']) {
      expect(isSemver(normalizeVersion(input)!)).toBe(true);
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
