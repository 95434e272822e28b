import { setBackendSrv, BackendSrv } from '@grafana/runtime';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import React from 'react';

import { EXAMPLE_CATALOG } from '../exampleCatalog';
import { renderControlled } from '../testing/controlled';
import { datasourceSettings, LagwatchSettings as Settings } from '../testing/settings';
import { CATALOG_DOCS_URL, ValidateResponse } from '../types';
import { ConfigEditor, VALIDATE_DEBOUNCE_MS } from './ConfigEditor';

// Monaco does not run in jsdom: a textarea stands in for the YAML editor. Like
// Grafana's CodeEditor (which subscribes to Monaco's model once, on mount), it
// keeps calling the onChange it was mounted with.
jest.mock('@grafana/ui', () => {
  const { useState } = jest.requireActual('react');
  return {
    ...jest.requireActual('@grafana/ui'),
    CodeEditor: ({ value, onChange, language }: { value: string; onChange: (v: string) => void; language: string }) => {
      const [onChangeAtMount] = useState(() => onChange);
      return (
        <textarea
          aria-label="Catalog YAML"
          data-language={language}
          value={value}
          onChange={(e) => onChangeAtMount(e.currentTarget.value)}
        />
      );
    },
  };
});

const TOKEN = 'ghp_0123456789abcdefSECRET';

const settings = datasourceSettings;

const post = jest.fn();
// GET /check, /services (the service check) and /discover (Add service).
const get = jest.fn();

beforeEach(() => {
  post.mockReset();
  post.mockResolvedValue({ valid: true, services: 4, errors: [] } satisfies ValidateResponse);
  get.mockReset();
  get.mockImplementation((url: string) =>
    Promise.resolve(
      url.endsWith('/check')
        ? { at: '2025-09-30T00:00:00Z', services: 0, problems: 0, failed: 0, results: [] }
        : url.endsWith('/services')
          ? { services: [], maintainers: [] }
          : undefined
    )
  );
  setBackendSrv({ post, get } as unknown as BackendSrv);
});

function setup(initial: Settings = settings()) {
  const { onChange, view, user } = renderControlled(initial, (options, onOptionsChange) => (
    <ConfigEditor options={options} onOptionsChange={onOptionsChange} />
  ));
  return { onOptionsChange: onChange, view, user };
}

const last = (fn: jest.Mock): Settings => fn.mock.calls[fn.mock.calls.length - 1][0];

describe('ConfigEditor: GitHub token', () => {
  it('shows a configured token as configured, without its value, and resets it', async () => {
    const { onOptionsChange, user } = setup(settings({ secureJsonFields: { githubToken: true } }));
    const input = screen.getByLabelText(/GitHub token/);
    expect(input).toHaveValue('configured');
    expect(input).toBeDisabled();

    await user.click(screen.getByRole('button', { name: 'Reset' }));
    const o = last(onOptionsChange);
    expect(o.secureJsonFields.githubToken).toBe(false);
    expect(o.secureJsonData?.githubToken).toBe('');
    expect(screen.getByLabelText(/GitHub token/)).toHaveValue('');
    expect(screen.getByLabelText(/GitHub token/)).toBeEnabled();
  });

  it('sends a typed token in secureJsonData only, in a password field', async () => {
    const { onOptionsChange, view, user } = setup();
    const input = screen.getByLabelText(/GitHub token/);
    expect(input).toHaveAttribute('type', 'password');
    await user.type(input, TOKEN);
    const o = last(onOptionsChange);
    expect(o.secureJsonData).toEqual({ githubToken: TOKEN });
    expect(JSON.stringify(o.jsonData)).not.toContain(TOKEN);
    // After saving, Grafana returns only secureJsonFields: the token is never rendered again.
    view.rerender(
      <ConfigEditor options={settings({ secureJsonFields: { githubToken: true } })} onOptionsChange={jest.fn()} />
    );
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it('keeps a reset token reset, and a typed token, while the catalog is edited', async () => {
    const { onOptionsChange, user } = setup(settings({ secureJsonFields: { githubToken: true } }));
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    await user.type(screen.getByLabelText('Catalog YAML'), 's');
    let o = last(onOptionsChange);
    expect(o.jsonData.catalog).toBe('s');
    expect(o.secureJsonFields.githubToken).toBe(false);
    expect(o.secureJsonData?.githubToken).toBe('');

    await user.type(screen.getByLabelText(/GitHub token/), TOKEN);
    await user.type(screen.getByLabelText('Catalog YAML'), 'e');
    o = last(onOptionsChange);
    expect(o.jsonData.catalog).toBe('se');
    expect(o.secureJsonFields.githubToken).toBe(false);
    expect(o.secureJsonData).toEqual({ githubToken: TOKEN });
    expect(JSON.stringify(o.jsonData)).not.toContain(TOKEN);
  });
});

describe('ConfigEditor: settings', () => {
  it('writes URL, cache TTL, limits and catalog path to jsonData', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/GitHub API URL/), 'https://ghe.example.com/api/v3');
    await user.type(screen.getByLabelText(/Cache TTL/), '1h');
    await user.type(screen.getByLabelText(/Index size limit/), '50');
    await user.type(screen.getByLabelText(/Request timeout/), '30');
    await user.type(screen.getByLabelText(/Catalog file/), '/etc/lagwatch.yaml');
    expect(last(onOptionsChange).jsonData).toEqual({
      githubUrl: 'https://ghe.example.com/api/v3',
      cacheTtl: '1h',
      indexLimitMb: 50,
      timeoutSeconds: 30,
      catalogPath: '/etc/lagwatch.yaml',
    });
    await user.clear(screen.getByLabelText(/Request timeout/));
    expect(last(onOptionsChange).jsonData.timeoutSeconds).toBeUndefined();
  });

  it('keeps settings typed before the catalog when the catalog is edited', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/GitHub API URL/), 'https://ghe.example.com/api/v3');
    await user.type(screen.getByLabelText(/Request timeout/), '30');
    await user.type(screen.getByLabelText('Catalog YAML'), 'x');
    expect(last(onOptionsChange).jsonData).toEqual({
      githubUrl: 'https://ghe.example.com/api/v3',
      timeoutSeconds: 30,
      catalog: 'x',
    });
  });

  it.each(['15 minutes', '-1h', '15', 'h'])('flags the cache TTL %s, which the backend rejects', (cacheTtl) => {
    setup(settings({ jsonData: { cacheTtl } }));
    expect(screen.getByText('Use a duration such as 15m, 1h or 1h30m')).toBeInTheDocument();
  });

  it.each(['15m', '1h30m', '0', '0s', '1.5h', '.5h', '300ms'])('accepts the Go duration %s', (cacheTtl) => {
    setup(settings({ jsonData: { cacheTtl } }));
    expect(screen.queryByText('Use a duration such as 15m, 1h or 1h30m')).not.toBeInTheDocument();
  });

  it('flags limits that are not whole numbers of 1 or more (the backend reads Go ints)', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/Index size limit/), '1.5');
    expect(last(onOptionsChange).jsonData.indexLimitMb).toBe(1.5);
    expect(screen.getByText('Use a whole number of 1 or more')).toBeInTheDocument();
    await user.clear(screen.getByLabelText(/Index size limit/));
    expect(screen.queryByText('Use a whole number of 1 or more')).not.toBeInTheDocument();
    await user.type(screen.getByLabelText(/Request timeout/), '0');
    expect(screen.getByText('Use a whole number of 1 or more')).toBeInTheDocument();
  });

  it('shows the defaults as placeholders and links the catalog reference', () => {
    setup();
    expect(screen.getByLabelText(/GitHub API URL/)).toHaveAttribute('placeholder', 'https://api.github.com');
    expect(screen.getByLabelText(/Cache TTL/)).toHaveAttribute('placeholder', '15m');
    expect(CATALOG_DOCS_URL).toBe('https://github.com/lagwatch/lagwatch#catalog');
    expect(screen.getByRole('link', { name: /Catalog reference/ })).toHaveAttribute('href', CATALOG_DOCS_URL);
  });
});

describe('ConfigEditor: catalog', () => {
  it('inserts the example catalog, YAML editor, validated through /validate', async () => {
    const { onOptionsChange, user } = setup();
    expect(screen.getByLabelText('Catalog YAML')).toHaveAttribute('data-language', 'yaml');
    await user.click(screen.getByRole('button', { name: /Insert example catalog/ }));
    expect(last(onOptionsChange).jsonData.catalog).toBe(EXAMPLE_CATALOG);
    expect(screen.getByLabelText('Catalog YAML')).toHaveValue(EXAMPLE_CATALOG);
    expect(await screen.findByText('Catalog is valid: 4 services')).toBeInTheDocument();
    expect(post).toHaveBeenCalledWith(
      '/api/datasources/uid/lw-uid/resources/validate',
      { catalog: EXAMPLE_CATALOG },
      expect.objectContaining({ showErrorAlert: false })
    );
  });

  it('lists validation errors with line, service and field', async () => {
    post.mockResolvedValue({
      valid: false,
      services: 0,
      errors: [
        { service: 'ollama', field: 'upstream.repo', line: 3, message: '"ollama" is not a GitHub owner/name' },
        { line: 7, message: 'mapping values are not allowed in this context' },
      ],
    } satisfies ValidateResponse);
    setup(settings({ jsonData: { catalog: 'services:\n  - name: ollama\n' } }));
    const list = await screen.findByRole('list', { name: 'Catalog errors' });
    expect(list).toHaveTextContent('Line 3, service ollama, upstream.repo: "ollama" is not a GitHub owner/name');
    expect(list).toHaveTextContent('Line 7: mapping values are not allowed in this context');
    expect(screen.getByText('Catalog has 2 problems')).toBeInTheDocument();
  });

  it('debounces validation while typing and checks only the latest text', async () => {
    jest.useFakeTimers();
    try {
      setup();
      const editor = screen.getByLabelText('Catalog YAML');
      fireEvent.change(editor, { target: { value: 'services:' } });
      fireEvent.change(editor, { target: { value: 'services:\n  - name: a' } });
      fireEvent.change(editor, { target: { value: 'services:\n  - name: ab' } });
      expect(screen.getByText('Checking catalog…')).toBeInTheDocument();
      await act(async () => {
        jest.advanceTimersByTime(VALIDATE_DEBOUNCE_MS - 1);
      });
      expect(post).not.toHaveBeenCalled();
      await act(async () => {
        jest.advanceTimersByTime(1);
      });
      expect(post).toHaveBeenCalledTimes(1);
      expect(post.mock.calls[0][1]).toEqual({ catalog: 'services:\n  - name: ab' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('says when the catalog cannot be checked (backend not reachable)', async () => {
    post.mockRejectedValue({ status: 404, data: { message: 'Plugin unavailable' } });
    setup(settings({ jsonData: { catalog: 'services: []' } }));
    expect(await screen.findByText('The catalog could not be checked')).toBeInTheDocument();
    expect(screen.getByText(/Plugin unavailable \(HTTP 404\)/)).toBeInTheDocument();
  });

  it('does not call /validate for an empty catalog', async () => {
    setup();
    await waitFor(() => new Promise((r) => setTimeout(r, VALIDATE_DEBOUNCE_MS + 100)), { timeout: 2000 });
    expect(post).not.toHaveBeenCalled();
  });
});

describe('ConfigEditor: OCI registries', () => {
  const LOGIN = 'ghcr.io robot:ghp_REGISTRYsecret';

  it('sends typed registry logins in secureJsonData only', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/OCI registry credentials/), LOGIN);
    const o = last(onOptionsChange);
    expect(o.secureJsonData).toEqual({ ociCredentials: LOGIN });
    expect(JSON.stringify(o.jsonData)).not.toContain('REGISTRYsecret');
  });

  it('shows configured logins as configured, without their value, and resets them', async () => {
    const { onOptionsChange, user } = setup(settings({ secureJsonFields: { ociCredentials: true } }));
    expect(screen.queryByDisplayValue(/REGISTRYsecret/)).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: /reset/i }));
    const o = last(onOptionsChange);
    expect(o.secureJsonFields.ociCredentials).toBe(false);
    expect(o.secureJsonData?.ociCredentials).toBe('');
  });

  it('names the line of a login the backend would refuse', async () => {
    const { user } = setup();
    await user.type(screen.getByLabelText(/OCI registry credentials/), '# comment{enter}ghcr.io robot');
    expect(screen.getByText('Line 2: use HOST USERNAME:PASSWORD')).toBeInTheDocument();
  });

  it('writes the manifest budget and the cache directory to jsonData', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/OCI manifest budget/), '50');
    await user.type(screen.getByLabelText(/OCI cache directory/), '/var/lib/lagwatch/oci');
    expect(last(onOptionsChange).jsonData).toEqual({ ociBudget: 50, ociCacheDir: '/var/lib/lagwatch/oci' });
  });

  it('writes the token hosts to jsonData as typed', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/OCI token hosts/), 'auth.example.com, login.example.net:8443');
    expect(last(onOptionsChange).jsonData).toEqual({ ociTokenHosts: 'auth.example.com, login.example.net:8443' });
    expect(screen.getByLabelText(/OCI token hosts/)).not.toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByText(/not a host name/)).not.toBeInTheDocument();
  });

  it.each([
    [
      'auth.example.com https://auth.example.com/token',
      '"https://auth.example.com/token" is not a host name or HOST:PORT',
    ],
    ['auth.example.com/token', '"auth.example.com/token" is not a host name or HOST:PORT'],
    ['auth.example.com:https', '"auth.example.com:https" is not a host name or HOST:PORT'],
    [
      'ok.example.com,169.254.169.254',
      '"169.254.169.254" is a link-local or non-unicast address, never a token service',
    ],
    ['[fe80::1]:443', '"[fe80::1]:443" is a link-local or non-unicast address, never a token service'],
  ])('flags the token hosts %j, naming the entry the backend refuses', (ociTokenHosts, message) => {
    setup(settings({ jsonData: { ociTokenHosts } }));
    expect(screen.getByText(message)).toBeInTheDocument();
  });
});

describe('ConfigEditor: deployed versions (Prometheus)', () => {
  const PASSWORD = 'prom-PASSWORDsecret';
  const BEARER = 'prom-BEARERsecret';

  it('writes the Prometheus URL and user to jsonData, the password and token to secureJsonData only', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/Prometheus URL/), 'http://prometheus:9090');
    await user.type(screen.getByLabelText(/Prometheus user/), 'lagwatch');
    const password = screen.getByLabelText(/Prometheus password/);
    expect(password).toHaveAttribute('type', 'password');
    await user.type(password, PASSWORD);
    const o = last(onOptionsChange);
    expect(o.jsonData).toEqual({ prometheusUrl: 'http://prometheus:9090', prometheusUser: 'lagwatch' });
    expect(o.secureJsonData).toEqual({ prometheusPassword: PASSWORD });
    expect(screen.queryByText(/is not an http\(s\) URL/)).not.toBeInTheDocument();
  });

  it('sends a bearer token in secureJsonData only, in a password field', async () => {
    const { onOptionsChange, user } = setup();
    const token = screen.getByLabelText(/Prometheus bearer token/);
    expect(token).toHaveAttribute('type', 'password');
    await user.type(token, BEARER);
    const o = last(onOptionsChange);
    expect(o.secureJsonData).toEqual({ prometheusToken: BEARER });
    expect(JSON.stringify(o.jsonData)).not.toContain(BEARER);
  });

  it.each(['prometheusPassword', 'prometheusToken'] as const)(
    'shows a configured %s as configured, without its value, and resets it',
    async (key) => {
      const { onOptionsChange, user } = setup(settings({ secureJsonFields: { [key]: true } }));
      const label = key === 'prometheusPassword' ? /Prometheus password/ : /Prometheus bearer token/;
      expect(screen.getByLabelText(label)).toHaveValue('configured');
      expect(screen.getByLabelText(label)).toBeDisabled();
      await user.click(screen.getByRole('button', { name: 'Reset' }));
      const o = last(onOptionsChange);
      expect(o.secureJsonFields[key]).toBe(false);
      expect(o.secureJsonData?.[key]).toBe('');
      expect(screen.getByLabelText(label)).toBeEnabled();
    }
  );

  it('keeps a typed Prometheus password while the catalog is edited', async () => {
    const { onOptionsChange, user } = setup();
    await user.type(screen.getByLabelText(/Prometheus password/), PASSWORD);
    await user.type(screen.getByLabelText('Catalog YAML'), 'x');
    const o = last(onOptionsChange);
    expect(o.jsonData.catalog).toBe('x');
    expect(o.secureJsonData).toEqual({ prometheusPassword: PASSWORD });
  });

  it.each(['prometheus:9090', 'ftp://prometheus:9090', 'http://', 'http:prometheus:9090', 'not a url', 'http://a b'])(
    'flags the Prometheus URL %j, which the backend rejects',
    (prometheusUrl) => {
      setup(settings({ jsonData: { prometheusUrl } }));
      expect(
        screen.getByText(
          `${JSON.stringify(prometheusUrl.trim())} is not an http(s) URL: use one such as http://prometheus:9090`
        )
      ).toBeInTheDocument();
    }
  );

  it.each(['http://prometheus:9090', 'https://prom.example.com/prefix/', ' http://127.0.0.1:9090 ', ''])(
    'accepts the Prometheus URL %j',
    (prometheusUrl) => {
      setup(settings({ jsonData: { prometheusUrl } }));
      expect(screen.queryByText(/is not an http\(s\) URL/)).not.toBeInTheDocument();
      expect(screen.queryByText(/not in the URL/)).not.toBeInTheDocument();
    }
  );

  it('flags credentials in the Prometheus URL', () => {
    setup(settings({ jsonData: { prometheusUrl: 'http://admin:secret@prometheus:9090' } }));
    expect(
      screen.getByText(
        '"http://admin:xxxxx@prometheus:9090": Put the credentials in the Prometheus user and password fields, not in the URL'
      )
    ).toBeInTheDocument();
    expect(screen.queryByText(/secret/)).not.toBeInTheDocument();
  });

  it('says that a user wins over the token, and that a password needs a user', () => {
    const { view } = setup(
      settings({ jsonData: { prometheusUser: 'lagwatch' }, secureJsonFields: { prometheusToken: true } })
    );
    expect(screen.getByText(/ignores the bearer token/)).toBeInTheDocument();
    view.rerender(
      <ConfigEditor
        options={settings({ secureJsonFields: { prometheusPassword: true } })}
        onOptionsChange={jest.fn()}
      />
    );
    expect(screen.getByText(/The password is only sent with a user/)).toBeInTheDocument();
    view.rerender(
      <ConfigEditor
        options={settings({ jsonData: { prometheusUser: 'lagwatch' }, secureJsonFields: { prometheusPassword: true } })}
        onOptionsChange={jest.fn()}
      />
    );
    expect(screen.queryByText(/ignores the bearer token|only sent with a user/)).not.toBeInTheDocument();
  });
});

describe('ConfigEditor: security and end of life', () => {
  it('writes the end of life data URL to jsonData, with the default as placeholder', async () => {
    const { onOptionsChange, user } = setup();
    const input = screen.getByLabelText(/End of life data URL/);
    expect(input).toHaveAttribute('placeholder', 'https://endoflife.date');
    await user.type(input, 'http://127.0.0.1:8080');
    expect(last(onOptionsChange).jsonData.eolUrl).toBe('http://127.0.0.1:8080');
    expect(screen.queryByText(/is not an http\(s\) URL/)).not.toBeInTheDocument();
  });

  it.each(['endoflife.date', 'ftp://endoflife.date', 'https:endoflife.date', 'https://'])(
    'flags the end of life data URL %j, naming it, as the Prometheus URL',
    (eolUrl) => {
      setup(settings({ jsonData: { eolUrl } }));
      expect(
        screen.getByText(`"${eolUrl}" is not an http(s) URL: use one such as https://endoflife.date`)
      ).toBeInTheDocument();
    }
  );

  it('flags credentials in the end of life data URL, naming it with the password masked', () => {
    setup(settings({ jsonData: { eolUrl: 'https://u:p4ss@eol.example' } }));
    expect(
      screen.getByText('"https://u:xxxxx@eol.example": endoflife.date needs no credentials: remove them from the URL')
    ).toBeInTheDocument();
    expect(screen.queryByText(/p4ss/)).not.toBeInTheDocument();
  });

  it('masks a password in a URL that is not http(s) either', () => {
    setup(settings({ jsonData: { eolUrl: 'ftp://u:p4ss@eol.example/x' } }));
    expect(
      screen.getByText('"ftp://u:xxxxx@eol.example/x" is not an http(s) URL: use one such as https://endoflife.date')
    ).toBeInTheDocument();
  });

  it("shows each service's security and end of life inputs from GET /services", async () => {
    get.mockImplementation((url: string) =>
      Promise.resolve(
        url.endsWith('/services')
          ? {
              maintainers: ['community'],
              services: [
                { name: 'ollama', maintainer: 'community', repo: 'ollama/ollama', chart: 'ollama', advisories: true },
                { name: 'redis', maintainer: 'community', repo: 'redis/redis', chart: 'redis', eolProduct: 'redis' },
              ],
            }
          : { services: 0, problems: 0, failed: 0, results: [] }
      )
    );
    setup();
    const ollama = within(await screen.findByRole('listitem', { name: 'Service ollama' }));
    expect(
      ollama.getByText(/Security: advisories · End of life: none \(no eol.product in the catalog\)/)
    ).toBeInTheDocument();
    const redis = within(screen.getByRole('listitem', { name: 'Service redis' }));
    expect(redis.getByText(/Security: none .* End of life: endoflife.date product redis/)).toBeInTheDocument();
  });
});

describe('ConfigEditor: service check and Add service', () => {
  it('checks the saved settings and says when the edited ones differ', async () => {
    const { user } = setup();
    expect(await screen.findByText('0 services: 0 look right')).toBeInTheDocument();
    expect(get).toHaveBeenCalledWith(
      '/api/datasources/uid/lw-uid/resources/check',
      undefined,
      undefined,
      expect.anything()
    );
    await user.type(screen.getByLabelText(/End of life data URL/), 'h');
    expect(screen.getByText(/unsaved changes: this check shows the saved ones/)).toBeInTheDocument();
  });

  it('appends a discovered service to the inline catalog, which is then validated', async () => {
    get.mockImplementation((url: string) =>
      Promise.resolve(
        url.endsWith('/discover')
          ? {
              proposals: [
                {
                  chart: { repository: 'https://otwld.github.io/ollama-helm/', name: 'ollama' },
                  verified: true,
                  service: { name: 'ollama', maintainer: 'community', upstream: { repo: 'ollama/ollama' } },
                  evidence: ['upstream ollama/ollama: named by the chart sources'],
                  coverage: { matched: 20, of: 20, share: 1 },
                  candidates: [],
                },
              ],
            }
          : url.endsWith('/check')
            ? { services: 0, problems: 0, failed: 0, results: [] }
            : { services: [], maintainers: [] }
      )
    );
    const { onOptionsChange, user } = setup(
      settings({ jsonData: { githubUrl: 'https://ghe.example/api/v3', catalog: 'services:\n  - name: a\n' } })
    );
    await user.type(screen.getByLabelText(/Chart repository or OCI chart/), 'https://otwld.github.io/ollama-helm/');
    await user.type(screen.getByLabelText(/Chart name/), 'ollama{Enter}');
    await user.click(await screen.findByRole('button', { name: 'Add ollama to the catalog' }));
    const o = last(onOptionsChange);
    expect(o.jsonData.githubUrl).toBe('https://ghe.example/api/v3');
    expect(o.jsonData.catalog).toBe(
      [
        'services:',
        '  - name: a',
        '  # upstream ollama/ollama: named by the chart sources',
        '  - name: ollama',
        '    maintainer: community',
        '    upstream:',
        '      repo: ollama/ollama',
        '',
      ].join('\n')
    );
    expect(screen.getByLabelText('Catalog YAML')).toHaveValue(o.jsonData.catalog);
    await waitFor(() =>
      expect(post).toHaveBeenCalledWith(expect.any(String), { catalog: o.jsonData.catalog }, expect.anything())
    );
  });

  it('needs a saved data source for both', () => {
    setup(settings({ uid: '' }));
    expect(screen.getByText(/Save the data source to check its services/)).toBeInTheDocument();
    expect(screen.getByText(/Save the data source to discover services/)).toBeInTheDocument();
    expect(get).not.toHaveBeenCalled();
  });
});

describe('ConfigEditor: verdict', () => {
  const RANGE = 'Use a whole number from 1 to 3650';

  it('explains the rule in order, first match wins', () => {
    setup();
    const items = within(screen.getByRole('list', { name: 'Verdict rule' }))
      .getAllByRole('listitem')
      .map((li) => li.textContent);
    expect(items).toEqual([
      'No data (0): fewer than 3 upstream releases in W.',
      'Possibly abandoned (4): the chart is older than A (chart age > A) and versions behind > 0.',
      'Chart keeps up (1): p90 delay ≤ T.',
      'Chart lags: consider a native install (3): median delay > T.',
      'Chart mostly keeps up (2): otherwise.',
    ]);
    expect(screen.getByText(/First match wins/)).toBeInTheDocument();
  });

  it('shows the defaults as placeholders and writes the three day settings to jsonData', async () => {
    const { onOptionsChange, user } = setup();
    expect(screen.getByLabelText(/Window W/)).toHaveAttribute('placeholder', '365');
    expect(screen.getByLabelText(/Tolerance T/)).toHaveAttribute('placeholder', '7');
    expect(screen.getByLabelText(/Abandonment A/)).toHaveAttribute('placeholder', '120');
    await user.type(screen.getByLabelText(/Window W/), '180');
    await user.type(screen.getByLabelText(/Tolerance T/), '14');
    await user.type(screen.getByLabelText(/Abandonment A/), '90');
    expect(last(onOptionsChange).jsonData).toEqual({
      verdictWindowDays: 180,
      verdictToleranceDays: 14,
      verdictAbandonmentDays: 90,
    });
    expect(screen.queryByText(RANGE)).not.toBeInTheDocument();
    expect(screen.queryByText(/Must be less than the window/)).not.toBeInTheDocument();
  });

  it.each([
    ['verdictWindowDays', 0],
    ['verdictWindowDays', 3651],
    ['verdictToleranceDays', 1.5],
    ['verdictAbandonmentDays', -3],
    ['verdictAbandonmentDays', 4000],
  ] as const)('flags %s %d, outside 1..3650 or not whole', (key, value) => {
    setup(settings({ jsonData: { [key]: value } }));
    expect(screen.getByText(RANGE)).toBeInTheDocument();
  });

  it.each([
    { verdictWindowDays: 2, verdictToleranceDays: 1 },
    { verdictWindowDays: 3650, verdictToleranceDays: 3649, verdictAbandonmentDays: 3650 },
    { verdictAbandonmentDays: 1 },
  ])('accepts %j', (jsonData) => {
    setup(settings({ jsonData }));
    expect(screen.queryByText(RANGE)).not.toBeInTheDocument();
    expect(screen.queryByText(/Must be less than the window/)).not.toBeInTheDocument();
  });

  it('flags a tolerance that is not less than the window, with the defaults for empty fields', () => {
    const { view } = setup(settings({ jsonData: { verdictWindowDays: 7 } }));
    expect(screen.getByText('Must be less than the window (7 days)')).toBeInTheDocument();
    view.rerender(
      <ConfigEditor options={settings({ jsonData: { verdictToleranceDays: 365 } })} onOptionsChange={jest.fn()} />
    );
    expect(screen.getByText('Must be less than the window (365 days)')).toBeInTheDocument();
    view.rerender(
      <ConfigEditor
        options={settings({ jsonData: { verdictWindowDays: 30, verdictToleranceDays: 29 } })}
        onOptionsChange={jest.fn()}
      />
    );
    expect(screen.queryByText(/Must be less than the window/)).not.toBeInTheDocument();
  });
});
