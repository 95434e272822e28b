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
import {
  CATALOG_DOCS_URL,
  DEFAULT_CACHE_TTL,
  DEFAULT_GITHUB_URL,
  DEFAULT_INDEX_LIMIT_MB,
  DEFAULT_OCI_BUDGET,
  DEFAULT_TIMEOUT_SECONDS,
  LagwatchOptions,
  LagwatchSecureJsonData,
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
type NumberKey = 'indexLimitMb' | 'timeoutSeconds' | 'ociBudget';

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

  const setJson = (patch: Partial<LagwatchOptions>) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, ...patch } });

  // Binds an Input to a string setting of jsonData.
  const text = (key: 'githubUrl' | 'cacheTtl' | 'catalogPath' | 'ociCacheDir') => ({
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

  // The token only ever goes to secureJsonData: Grafana encrypts it and never sends it back.
  const onTokenChange = (e: ChangeEvent<HTMLInputElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, githubToken: e.currentTarget.value } });
  const onTokenReset = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, githubToken: false },
      secureJsonData: { ...secureJsonData, githubToken: '' },
    });

  // Registry logins, like the token: secureJsonData only, never shown again.
  const onCredentialsChange = (e: ChangeEvent<HTMLTextAreaElement>) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, ociCredentials: e.currentTarget.value } });
  const onCredentialsReset = () =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, ociCredentials: false },
      secureJsonData: { ...secureJsonData, ociCredentials: '' },
    });
  const badCredentialLine = (secureJsonData?.ociCredentials ?? '')
    .split('\n')
    .map((l, i) => ({ line: i + 1, text: l.trim() }))
    .find((l) => l.text !== '' && !l.text.startsWith('#') && !CREDENTIAL_LINE.test(l.text));

  const ttlInvalid = !!jsonData.cacheTtl && !GO_DURATION.test(jsonData.cacheTtl);

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
            isConfigured={!!secureJsonFields?.githubToken}
            value={secureJsonData?.githubToken ?? ''}
            placeholder="ghp_… or github_pat_…"
            autoComplete="off"
            onChange={onTokenChange}
            onReset={onTokenReset}
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
            isConfigured={!!secureJsonFields?.ociCredentials}
            value={secureJsonData?.ociCredentials ?? ''}
            placeholder="registry.example.com robot:secret"
            onChange={onCredentialsChange}
            onReset={onCredentialsReset}
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
      </FieldSet>
    </Stack>
  );
}

/**
 * A whole-number setting (empty = the backend's default), flagged unless it
 * is a whole number of 1 or more.
 */
function NumberField(props: {
  id: string;
  label: string;
  description: string;
  fallback: number;
  value: number | undefined;
  onChange: (n: number | undefined) => void;
}) {
  const { id, label, description, fallback, value, onChange } = props;
  const invalid = value !== undefined && !(Number.isInteger(value) && value >= 1);
  return (
    <Field
      label={label}
      description={description}
      invalid={invalid}
      error={invalid ? 'Use a whole number of 1 or more' : undefined}
    >
      <Input
        id={id}
        type="number"
        min={1}
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
