import { setBackendSrv, BackendSrv } from '@grafana/runtime';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
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

beforeEach(() => {
  post.mockReset();
  post.mockResolvedValue({ valid: true, services: 4, errors: [] } satisfies ValidateResponse);
  setBackendSrv({ post } as unknown as BackendSrv);
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
});
