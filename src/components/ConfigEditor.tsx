import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import {
  Alert,
  Box,
  Button,
  CodeEditor,
  Field,
  FieldSet,
  Input,
  SecretInput,
  SecretTextArea,
  Stack,
  Text,
  TextLink,
} from '@grafana/ui';
import React, { ChangeEvent, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

import { EXAMPLE_CATALOG } from '../exampleCatalog';
import { tokenHostsError } from '../tokenHosts';
import { AddService } from './AddService';
import { CatalogCheck } from './CatalogCheck';
import {
  CATALOG_DOCS_URL,
  DEFAULT_CACHE_TTL,
  DEFAULT_EOL_URL,
  DEFAULT_GITHUB_URL,
  DEFAULT_INDEX_LIMIT_MB,
  DEFAULT_OCI_BUDGET,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_VERDICT_ABANDONMENT_DAYS,
  DEFAULT_VERDICT_TOLERANCE_DAYS,
  DEFAULT_VERDICT_WINDOW_DAYS,
  LagwatchOptions,
  LagwatchSecureJsonData,
  MAX_VERDICT_DAYS,
  ValidateResponse,
} from '../types';
import { errorText } from './useCatalog';

export type Props = DataSourcePluginOptionsEditorProps<LagwatchOptions, LagwatchSecureJsonData>;

/** Delay between the last keystroke in the catalog editor and its validation. */
export const VALIDATE_DEBOUNCE_MS = 500;

/**
 * A duration the backend accepts: what Go's time.ParseDuration reads (15m,
 * 1h30m, 1.5h, .5s, a lone 0), without a minus sign (the backend rejects
 * negative TTLs).
 */
const GO_DURATION = /^\+?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/;

/** Numeric settings: the backend reads them as Go ints (a fraction fails the whole jsonData) and rejects negatives. */
type NumberKey =
  | 'indexLimitMb'
  | 'timeoutSeconds'
  | 'ociBudget'
  | 'verdictWindowDays'
  | 'verdictToleranceDays'
  | 'verdictAbandonmentDays';

type SecretKey = keyof LagwatchSecureJsonData;

/**
 * Why the backend would refuse a Prometheus URL (pkg/models/settings.go checks
 * it as it checks the GitHub URL: trimmed, scheme http or https, a host; and
 * no credentials in it), or undefined when it accepts it. Empty means none.
 */
export function prometheusUrlError(raw: string): string | undefined {
  return httpUrlError(
    raw,
    'http://prometheus:9090',
    'Put the credentials in the Prometheus user and password fields, not in the URL'
  );
}

/** Why the backend would refuse the end-of-life data URL (checked like the Prometheus URL); empty means the default. */
export function eolUrlError(raw: string): string | undefined {
  return httpUrlError(raw, DEFAULT_EOL_URL, 'endoflife.date needs no credentials: remove them from the URL');
}

/**
 * An http(s) URL with a host and without credentials, as the backend reads its
 * URL settings. The message names the value, with a password in it masked as
 * the backend masks it (url.Redacted).
 */
function httpUrlError(raw: string, example: string, credentials: string): string | undefined {
  const v = raw.trim();
  if (v === '') {
    return undefined;
  }
  const shown = JSON.stringify(v.replace(/^([^/]*\/\/[^/@:]*):[^/]*@/, '$1:xxxxx@'));
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  // The WHATWG parser reads http:host as http://host; Go's url.Parse gives no host.
  if (!u || !/^https?:\/\//i.test(v) || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.host === '') {
    return `${shown} is not an http(s) URL: use one such as ${example}`;
  }
  if (u.username !== '' || u.password !== '') {
    return `${shown}: ${credentials}`;
  }
  return undefined;
}

/** A line of the OCI credentials: HOST USERNAME:PASSWORD (as pkg/sources/oci reads it). */
const CREDENTIAL_LINE = /^[^\s/@]+\s+[^\s:]+:\S.*$/;

type Validation =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'done'; result: ValidateResponse }
  | { state: 'failed'; message: string };

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;
  const catalog = jsonData.catalog ?? '';
  const validation = useCatalogValidation(options.uid, catalog);
  // What the resources read: unsaved changes here are not checked yet. Secrets count by name only (typed or reset).
  const draft = JSON.stringify({
    jsonData,
    secrets: Object.entries(secureJsonData ?? {})
      .filter(([, v]) => !!v)
      .map(([k]) => k),
    secureJsonFields,
  });

  const setJson = (patch: Partial<LagwatchOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  // Binds an Input to a string setting of jsonData.
  const text = (
    key:
      | 'githubUrl'
      | 'cacheTtl'
      | 'catalogPath'
      | 'ociCacheDir'
      | 'ociTokenHosts'
      | 'prometheusUrl'
      | 'prometheusUser'
      | 'eolUrl'
  ) => ({
    value: jsonData[key] ?? '',
    onChange: (e: ChangeEvent<HTMLInputElement>) => setJson({ [key]: e.currentTarget.value }),
  });
  const number = (key: NumberKey) => ({
    value: jsonData[key],
    onChange: (n: number | undefined) => setJson({ [key]: n }),
  });

  // Grafana's CodeEditor keeps the onChange it was mounted with: it must not
  // close over these options, or every keystroke in the catalog would bring
  // back the settings of that moment (an older URL, a token that was reset).
  const latestSetJson = useRef(setJson);
  useLayoutEffect(() => {
    latestSetJson.current = setJson;
  });
  const onCatalogChange = useCallback((v: string) => latestSetJson.current({ catalog: v }), []);

  // Secrets (the GitHub token, registry logins, the Prometheus password and
  // token) only ever go to secureJsonData: Grafana encrypts them and never
  // sends them back, it only reports secureJsonFields[key] = true. Reset
  // clears both, so that a new value can be typed.
  const secret = (key: SecretKey) => ({
    isConfigured: !!secureJsonFields?.[key],
    value: secureJsonData?.[key] ?? '',
    onChange: (e: { currentTarget: { value: string } }) =>
      onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: e.currentTarget.value } }),
    onReset: () =>
      onOptionsChange({
        ...options,
        secureJsonFields: { ...secureJsonFields, [key]: false },
        secureJsonData: { ...secureJsonData, [key]: '' },
      }),
  });
  const hasSecret = (key: SecretKey) => !!secureJsonFields?.[key] || !!secureJsonData?.[key];
  const badCredentialLine = (secureJsonData?.ociCredentials ?? '')
    .split('\n')
    .map((l, i) => ({ line: i + 1, text: l.trim() }))
    .find((l) => l.text !== '' && !l.text.startsWith('#') && !CREDENTIAL_LINE.test(l.text));

  const ttlInvalid = !!jsonData.cacheTtl && !GO_DURATION.test(jsonData.cacheTtl);
  const prometheusUrlProblem = prometheusUrlError(jsonData.prometheusUrl ?? '');
  const eolUrlProblem = eolUrlError(jsonData.eolUrl ?? '');
  const tokenHostsProblem = tokenHostsError(jsonData.ociTokenHosts ?? '');
  const prometheusUser = (jsonData.prometheusUser ?? '').trim();
  const authNote =
    prometheusUser && hasSecret('prometheusToken')
      ? 'A user is set: Lagwatch uses basic auth and ignores the bearer token.'
      : !prometheusUser && hasSecret('prometheusPassword')
        ? 'The password is only sent with a user: set the Prometheus user, or use a bearer token.'
        : undefined;

  // Tolerance < window, with the defaults for empty fields; checked once both are whole numbers in range.
  const days = (v: number | undefined, fallback: number) => (v === undefined ? fallback : v);
  const windowDays = days(jsonData.verdictWindowDays, DEFAULT_VERDICT_WINDOW_DAYS);
  const tolerance = days(jsonData.verdictToleranceDays, DEFAULT_VERDICT_TOLERANCE_DAYS);
  const toleranceError =
    validDays(windowDays) && validDays(tolerance) && tolerance >= windowDays
      ? `Must be less than the window (${windowDays} days)`
      : undefined;

  return (
    <Stack direction="column" gap={2}>
      <FieldSet label="GitHub">
        <Field label="GitHub API URL" description="REST API base URL. GitHub Enterprise Server: https://HOST/api/v3">
          <Input id="lagwatch-github-url" width={60} placeholder={DEFAULT_GITHUB_URL} {...text('githubUrl')} />
        </Field>
        <Field
          label="GitHub token"
          description="Optional. Without a token GitHub allows 60 requests per hour and services with source: tags get only their 10 newest tags (GitHub's tag feed). A fine-grained token with public read access is enough."
        >
          <SecretInput
            id="lagwatch-github-token"
            width={60}
            placeholder="ghp_… or github_pat_…"
            autoComplete="off"
            {...secret('githubToken')}
          />
        </Field>
      </FieldSet>

      <FieldSet label="OCI registries">
        <Field
          label="OCI registry credentials"
          description="Only for private registries, one per line: HOST USERNAME:PASSWORD (ghcr.io robot:ghp_…). Public registries such as Docker Hub and GHCR are read anonymously."
          invalid={!!badCredentialLine}
          error={badCredentialLine ? `Line ${badCredentialLine.line}: use HOST USERNAME:PASSWORD` : undefined}
        >
          <SecretTextArea
            id="lagwatch-oci-credentials"
            cols={60}
            rows={3}
            placeholder="registry.example.com robot:secret"
            {...secret('ociCredentials')}
          />
        </Field>
        <NumberField
          id="lagwatch-oci-budget"
          label="OCI manifest budget"
          description="Manifest requests per chart and refresh, newest versions first; older ones are read on later refreshes. Docker Hub counts each as a pull (100 per 6 hours anonymously)."
          fallback={DEFAULT_OCI_BUDGET}
          {...number('ociBudget')}
        />
        <Field
          label="OCI cache directory"
          description="Optional directory on the Grafana server that keeps manifests between restarts (checked against their digests)."
        >
          <Input id="lagwatch-oci-cache-dir" width={60} placeholder="/var/lib/lagwatch/oci" {...text('ociCacheDir')} />
        </Field>
        <Field
          label="OCI token hosts"
          description="Optional. Hosts (HOST or HOST:PORT, separated by commas or spaces) a registry may name as its token service besides its own host and domain (Docker Hub's auth.docker.io needs nothing). Any other token service is refused."
          invalid={!!tokenHostsProblem}
          error={tokenHostsProblem}
        >
          <Input
            id="lagwatch-oci-token-hosts"
            width={60}
            placeholder="auth.registry.example.com, login.example.net:8443"
            {...text('ociTokenHosts')}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Deployed versions">
        <Box marginBottom={2}>
          <Text element="p" color="secondary">
            Where the versions you run come from, for the deployed metrics (deployed versions behind, deployed lag,
            rollout lag) and the deployed events. A service&apos;s <code>deployed:</code> in the catalog pins a version
            or names a Prometheus query and the label holding the version; that query runs on this Prometheus.
          </Text>
        </Box>
        <Field
          label="Prometheus URL"
          description="Optional. The Prometheus that knows the deployed versions; empty = none."
          invalid={!!prometheusUrlProblem}
          error={prometheusUrlProblem}
        >
          <Input
            id="lagwatch-prometheus-url"
            width={60}
            placeholder="http://prometheus:9090"
            {...text('prometheusUrl')}
          />
        </Field>
        <Field label="Prometheus user" description="Optional basic-auth user; its password below.">
          <Input id="lagwatch-prometheus-user" width={30} autoComplete="off" {...text('prometheusUser')} />
        </Field>
        <Field label="Prometheus password" description="Basic-auth password, sent with the user.">
          <SecretInput
            id="lagwatch-prometheus-password"
            width={30}
            autoComplete="new-password"
            {...secret('prometheusPassword')}
          />
        </Field>
        <Field
          label="Prometheus bearer token"
          description="Optional. Sent as Authorization: Bearer when no user is set."
        >
          <SecretInput id="lagwatch-prometheus-token" width={60} autoComplete="off" {...secret('prometheusToken')} />
        </Field>
        {authNote && (
          <Text element="p" color="warning">
            {authNote}
          </Text>
        )}
      </FieldSet>

      <FieldSet label="Security and end of life">
        <Box marginBottom={2}>
          <Text element="p" color="secondary">
            A service&apos;s <code>advisories:</code> in the catalog (ecosystem and package) gives the security metrics
            (security fixes behind, security lag, security severity), read from GitHub&apos;s advisory database on the
            GitHub API above; its <code>eol: product:</code> gives end of life and support left, read from
            endoflife.date. The service check below shows which services have them.
          </Text>
        </Box>
        <Field
          label="End of life data URL"
          description="Base URL of the endoflife.date API; only asked when a service names an eol product. Empty = https://endoflife.date"
          invalid={!!eolUrlProblem}
          error={eolUrlProblem}
        >
          <Input id="lagwatch-eol-url" width={60} placeholder={DEFAULT_EOL_URL} {...text('eolUrl')} />
        </Field>
      </FieldSet>

      <FieldSet label="Verdict">
        <Box marginBottom={2}>
          <Text element="p" color="secondary">
            The verdict (metric Verdict of Current queries, column verdict of Status) judges how fast the chart ships
            upstream releases, from the packaging delays of the upstream releases of the last W days (a release no chart
            ships yet counts with its delay so far). First match wins:
          </Text>
          <ol aria-label="Verdict rule">
            <li>
              <strong>No data</strong> (0): fewer than 3 upstream releases in W.
            </li>
            <li>
              <strong>Possibly abandoned</strong> (4): the chart is older than A (chart age &gt; A) and versions behind
              &gt; 0.
            </li>
            <li>
              <strong>Chart keeps up</strong> (1): p90 delay ≤ T.
            </li>
            <li>
              <strong>Chart lags: consider a native install</strong> (3): median delay &gt; T.
            </li>
            <li>
              <strong>Chart mostly keeps up</strong> (2): otherwise.
            </li>
          </ol>
          <Text element="p" color="secondary">
            The numbers are the alert codes of the Verdict metric: the higher, the worse.
          </Text>
        </Box>
        <NumberField
          id="lagwatch-verdict-window"
          label="Window W (days)"
          description="Upstream releases of this many days count."
          fallback={DEFAULT_VERDICT_WINDOW_DAYS}
          max={MAX_VERDICT_DAYS}
          {...number('verdictWindowDays')}
        />
        <NumberField
          id="lagwatch-verdict-tolerance"
          label="Tolerance T (days)"
          description="A packaging delay up to this many days is keeping up. Less than the window."
          fallback={DEFAULT_VERDICT_TOLERANCE_DAYS}
          max={MAX_VERDICT_DAYS}
          error={toleranceError}
          {...number('verdictToleranceDays')}
        />
        <NumberField
          id="lagwatch-verdict-abandonment"
          label="Abandonment A (days)"
          description="A chart without a release for longer than this, while behind, is possibly abandoned."
          fallback={DEFAULT_VERDICT_ABANDONMENT_DAYS}
          max={MAX_VERDICT_DAYS}
          {...number('verdictAbandonmentDays')}
        />
      </FieldSet>

      <FieldSet label="Limits">
        <Field
          label="Cache TTL"
          description="How long GitHub and Helm responses are reused, as a Go duration (15m, 1h)."
          invalid={ttlInvalid}
          error={ttlInvalid ? 'Use a duration such as 15m, 1h or 1h30m' : undefined}
        >
          <Input id="lagwatch-cache-ttl" width={20} placeholder={DEFAULT_CACHE_TTL} {...text('cacheTtl')} />
        </Field>
        <NumberField
          id="lagwatch-index-limit"
          label="Index size limit (MB)"
          description="Largest Helm index.yaml Lagwatch reads."
          fallback={DEFAULT_INDEX_LIMIT_MB}
          {...number('indexLimitMb')}
        />
        <NumberField
          id="lagwatch-timeout"
          label="Request timeout (seconds)"
          description="Time limit of one HTTP request to GitHub or a Helm repository."
          fallback={DEFAULT_TIMEOUT_SECONDS}
          {...number('timeoutSeconds')}
        />
      </FieldSet>

      <FieldSet label="Catalog">
        <Box marginBottom={2}>
          <Text element="p" color="secondary">
            The services to watch, each with its upstream GitHub repository and its Helm chart.{' '}
            <TextLink href={CATALOG_DOCS_URL} external>
              Catalog reference
            </TextLink>
          </Text>
        </Box>
        <Field
          label="Catalog file"
          description="A catalog YAML file on the Grafana server. The inline catalog below wins when both are set."
        >
          <Input
            id="lagwatch-catalog-path"
            width={60}
            placeholder="/etc/grafana/lagwatch/catalog.yaml"
            {...text('catalogPath')}
          />
        </Field>
        <Field label="Inline catalog" description="Catalog YAML, checked by the backend as you type.">
          <CodeEditor
            language="yaml"
            value={catalog}
            height={360}
            showLineNumbers
            showMiniMap={false}
            onChange={onCatalogChange}
            onBlur={onCatalogChange}
          />
        </Field>
        <Stack direction="row" gap={1} alignItems="center">
          <Button
            variant="secondary"
            icon="file-alt"
            onClick={() => setJson({ catalog: EXAMPLE_CATALOG })}
            tooltip={catalog.trim() ? 'Replaces the inline catalog' : undefined}
          >
            Insert example catalog
          </Button>
          <ValidationSummary validation={validation} />
        </Stack>
        <ValidationErrors validation={validation} />
        <CatalogCheck uid={options.uid} version={options.version} draft={draft} />
        <AddService uid={options.uid} catalog={catalog} onCatalogChange={onCatalogChange} />
      </FieldSet>
    </Stack>
  );
}

/** A verdict day setting the backend accepts: a whole number from 1 to MAX_VERDICT_DAYS. */
function validDays(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_VERDICT_DAYS;
}

/**
 * A whole-number setting (empty = the backend's default), flagged unless it
 * is a whole number of 1 or more (and at most `max`), or when `error` says
 * why it does not fit the other settings.
 */
function NumberField(props: {
  id: string;
  label: string;
  description: string;
  fallback: number;
  max?: number;
  error?: string;
  value: number | undefined;
  onChange: (n: number | undefined) => void;
}) {
  const { id, label, description, fallback, max, error, value, onChange } = props;
  const outOfRange =
    value !== undefined && !(Number.isInteger(value) && value >= 1 && (max === undefined || value <= max));
  const message = outOfRange
    ? max === undefined
      ? 'Use a whole number of 1 or more'
      : `Use a whole number from 1 to ${max}`
    : error;
  return (
    <Field label={label} description={description} invalid={!!message} error={message}>
      <Input
        id={id}
        type="number"
        min={1}
        max={max}
        step={1}
        width={20}
        value={value ?? ''}
        placeholder={String(fallback)}
        onChange={(e) => {
          const v = e.currentTarget.value;
          const n = v === '' ? undefined : Number(v);
          onChange(n === undefined || Number.isNaN(n) ? undefined : n);
        }}
      />
    </Field>
  );
}

/**
 * Validates the inline catalog through the saved instance's POST /validate,
 * VALIDATE_DEBOUNCE_MS after the last change. Answers to older texts are dropped.
 */
function useCatalogValidation(uid: string, catalog: string): Validation {
  // The latest answer and the text it answers; a different text is still being checked.
  const [answer, setAnswer] = useState<{ text: string; validation: Validation }>({
    text: '',
    validation: { state: 'idle' },
  });
  const seq = useRef(0);
  const enabled = !!uid && catalog.trim() !== '';
  useEffect(() => {
    const id = ++seq.current;
    if (!enabled) {
      return;
    }
    const timer = setTimeout(() => {
      getBackendSrv()
        .post<ValidateResponse>(
          `/api/datasources/uid/${encodeURIComponent(uid)}/resources/validate`,
          { catalog },
          { showErrorAlert: false, showSuccessAlert: false }
        )
        .then((result) => {
          if (id === seq.current) {
            setAnswer({ text: catalog, validation: { state: 'done', result: normalize(result) } });
          }
        })
        .catch((err: unknown) => {
          if (id === seq.current) {
            setAnswer({ text: catalog, validation: { state: 'failed', message: errorText(err) } });
          }
        });
    }, VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [uid, catalog, enabled]);
  if (!enabled) {
    return { state: 'idle' };
  }
  return answer.text === catalog ? answer.validation : { state: 'checking' };
}

function normalize(r: Partial<ValidateResponse> | undefined): ValidateResponse {
  return { valid: !!r?.valid, services: r?.services ?? 0, errors: r?.errors ?? [] };
}

function ValidationSummary({ validation }: { validation: Validation }) {
  switch (validation.state) {
    case 'checking':
      return (
        <Text color="secondary" italic>
          Checking catalog…
        </Text>
      );
    case 'done':
      return validation.result.valid ? (
        <Text color="success">
          Catalog is valid: {validation.result.services} service{validation.result.services === 1 ? '' : 's'}
        </Text>
      ) : (
        <Text color="error">
          Catalog has {validation.result.errors.length} problem{validation.result.errors.length === 1 ? '' : 's'}
        </Text>
      );
    default:
      return null;
  }
}

function ValidationErrors({ validation }: { validation: Validation }) {
  if (validation.state === 'failed') {
    return (
      <Alert severity="warning" title="The catalog could not be checked">
        {validation.message}. Save the data source and make sure the Lagwatch backend is running; the catalog is checked
        again on Save &amp; test.
      </Alert>
    );
  }
  if (validation.state !== 'done' || validation.result.valid) {
    return null;
  }
  return (
    <Alert severity="error" title="Catalog errors">
      <ul aria-label="Catalog errors">
        {validation.result.errors.map((e, i) => (
          <li key={i}>
            {e.line ? `Line ${e.line}` : 'Catalog'}
            {e.service ? `, service ${e.service}` : ''}
            {e.field ? `, ${e.field}` : ''}: {e.message}
          </li>
        ))}
      </ul>
    </Alert>
  );
}
