import { templateVariable, templateVariableNames, UNREPLACED } from './templateVariables';

describe('templateVariable', () => {
  it.each([
    ['$version', 'version'],
    ['${version}', 'version'],
    ['${version:raw}', 'version'],
    ['[[version]]', 'version'],
    ['[[version:raw]]', 'version'],
    [' $_deployed1 ', '_deployed1'],
  ])('reads %j as the variable %s', (text, name) => {
    expect(templateVariable(text)).toBe(name);
  });

  it.each(['', '0.12.3', '$', '$1', 'v$version', '$version-rc1', '${version', '[[version]', '${a}${b}', '$a $b'])(
    'reads %j as no single variable',
    (text) => {
      expect(templateVariable(text)).toBeNull();
    }
  );
});

describe('templateVariableNames', () => {
  it('lists every variable of a text once, in order', () => {
    expect(templateVariableNames('$a-${b:csv}-[[c]]-$a')).toEqual(['a', 'b', 'c']);
    expect(templateVariableNames('ollama')).toEqual([]);
  });
});

describe('UNREPLACED (the backend variableRe)', () => {
  it('finds a variable Grafana left as it was', () => {
    expect('x $app'.match(UNREPLACED)?.[0]).toBe('$app');
    expect('${app:csv}'.match(UNREPLACED)?.[0]).toBe('${app:csv}');
    expect('[[app]]'.match(UNREPLACED)?.[0]).toBe('[[app]]');
    expect('ollama'.match(UNREPLACED)).toBeNull();
  });
});
