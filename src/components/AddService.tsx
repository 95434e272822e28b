import { Alert, Badge, Box, Button, Field, Input, Stack, Text } from '@grafana/ui';
import React, { FormEvent, useState } from 'react';

import {
  appendService,
  catalogServiceNames,
  coverageText,
  DiscoverResponse,
  fetchDiscover,
  parseDiscoverInput,
  Proposal,
  serviceEntryLines,
} from '../check';
import { errorText } from './useCatalog';

type State =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'done'; answer: DiscoverResponse }
  | { state: 'failed'; message: string };

/**
 * "Add service": GET /discover for a Helm repository (one chart or all) or
 * an OCI chart, the proposals with their evidence, and for a verified one a
 * button that appends its entry to the inline catalog.
 */
export function AddService({
  uid,
  catalog,
  onCatalogChange,
}: {
  uid: string;
  catalog: string;
  onCatalogChange: (catalog: string) => void;
}) {
  const [location, setLocation] = useState('');
  const [chart, setChart] = useState('');
  const [inputError, setInputError] = useState<string>();
  const [state, setState] = useState<State>({ state: 'idle' });
  const [appendError, setAppendError] = useState<{ name: string; error: string; entry: string }>();
  const [added, setAdded] = useState<string>();

  if (!uid) {
    return (
      <Alert severity="info" title="Add service">
        Save the data source to discover services: discovery runs on the saved settings (GitHub URL and token).
      </Alert>
    );
  }

  const isOci = /^\s*oci:\/\//i.test(location);
  const inCatalog = new Set(catalogServiceNames(catalog));

  const discover = (e?: FormEvent) => {
    e?.preventDefault();
    const input = parseDiscoverInput(location, isOci ? '' : chart);
    if ('error' in input) {
      setInputError(input.error);
      return;
    }
    setInputError(undefined);
    setAppendError(undefined);
    setAdded(undefined);
    setState({ state: 'loading' });
    fetchDiscover(uid, input)
      .then((answer) => setState({ state: 'done', answer }))
      .catch((err: unknown) => setState({ state: 'failed', message: errorText(err) }));
  };

  const add = (p: Proposal) => {
    if (!p.service) {
      return;
    }
    const name = String(p.service.name ?? p.chart.name);
    if (inCatalog.has(name)) {
      return; // never twice
    }
    const comments = p.evidence.length ? p.evidence : [`discovered from ${p.chart.repository} ${p.chart.name}`];
    const r = appendService(catalog, p.service, comments);
    if ('error' in r) {
      setAppendError({ name, error: r.error, entry: serviceEntryLines(p.service, 2, comments).join('\n') });
      return;
    }
    setAppendError(undefined);
    setAdded(name);
    onCatalogChange(r.catalog);
  };

  return (
    <Box marginTop={2}>
      <Stack direction="column" gap={1}>
        <Text element="h4">Add service</Text>
        <Text element="p" color="secondary">
          Writes a catalog entry from the chart itself: the upstream candidates its metadata names (sources, home,
          images, the chart repository&apos;s owner) are read from GitHub, and one is proposed only when most of the
          chart&apos;s recent app versions are among its versions.
        </Text>
        <form onSubmit={discover} aria-label="Discover a service">
          <Stack direction="row" gap={1} alignItems="flex-start" wrap="wrap">
            <Field
              label="Chart repository or OCI chart"
              description="https://… Helm repository, or oci://HOST/PATH/NAME"
              invalid={!!inputError}
              error={inputError}
              noMargin
            >
              <Input
                id="lagwatch-discover-location"
                width={50}
                placeholder="https://otwld.github.io/ollama-helm/"
                value={location}
                onChange={(e) => setLocation(e.currentTarget.value)}
              />
            </Field>
            <Field label="Chart name" description="Empty: every chart of the repository" noMargin>
              <Input
                id="lagwatch-discover-chart"
                width={24}
                placeholder={isOci ? 'from the OCI reference' : 'ollama'}
                disabled={isOci}
                value={isOci ? '' : chart}
                onChange={(e) => setChart(e.currentTarget.value)}
              />
            </Field>
            <Box marginTop={5}>
              <Button
                type="submit"
                icon={state.state === 'loading' ? 'spinner' : 'search'}
                disabled={state.state === 'loading'}
              >
                Discover
              </Button>
            </Box>
          </Stack>
        </form>
        {state.state === 'loading' && (
          <Text color="secondary" italic>
            Discovering: reading the chart and its candidates&apos; GitHub history…
          </Text>
        )}
        {state.state === 'failed' && (
          <Alert severity="error" title="Discovery failed">
            {state.message}
          </Alert>
        )}
        {added && (
          <Text color="success">Added {added} to the inline catalog. Save &amp; test to keep it and check it.</Text>
        )}
        {appendError && (
          <Alert severity="error" title={`${appendError.name} was not added`}>
            {appendError.error}. Its entry, to add by hand:
            <pre aria-label="Entry to add by hand">{appendError.entry}</pre>
          </Alert>
        )}
        {state.state === 'done' && <Answer answer={state.answer} inCatalog={inCatalog} onAdd={add} />}
      </Stack>
    </Box>
  );
}

function Answer({
  answer,
  inCatalog,
  onAdd,
}: {
  answer: DiscoverResponse;
  inCatalog: Set<string>;
  onAdd: (p: Proposal) => void;
}) {
  const requests = Object.entries(answer.requests)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    <>
      {answer.proposals.length === 0 && <Text color="secondary">No chart found.</Text>}
      <ul aria-label="Proposals" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {answer.proposals.map((p, i) => (
          <ProposalItem key={i} proposal={p} inCatalog={inCatalog} onAdd={onAdd} />
        ))}
      </ul>
      {answer.unmatched.length > 0 && (
        <ul aria-label="Unmatched charts">
          {answer.unmatched.map((u, i) => (
            <li key={i}>
              <Text color="secondary">
                {u.chart}
                {u.version ? ` ${u.version}` : ''}: {u.reason}
              </Text>
            </li>
          ))}
        </ul>
      )}
      {requests && (
        <Text variant="bodySmall" color="secondary">
          Requests: {requests}
        </Text>
      )}
    </>
  );
}

function ProposalItem({
  proposal: p,
  inCatalog,
  onAdd,
}: {
  proposal: Proposal;
  inCatalog: Set<string>;
  onAdd: (p: Proposal) => void;
}) {
  const upstream = p.service?.upstream as { repo?: string } | undefined;
  const name = p.service ? String(p.service.name ?? p.chart.name) : p.chart.name;
  const present = p.verified && inCatalog.has(name);
  return (
    <li aria-label={`Proposal ${p.chart.name}`}>
      <Box paddingY={1}>
        <Stack direction="column" gap={0.5}>
          <Stack direction="row" gap={1} alignItems="center">
            <Text weight="medium">{p.chart.name}</Text>
            <Text color="secondary">{p.chart.repository}</Text>
            {p.verified ? (
              <Badge color="green" icon="check" text="verified" />
            ) : (
              <Badge color="orange" icon="question-circle" text="no verified upstream" />
            )}
          </Stack>
          {p.verified ? (
            <>
              <Text>
                Upstream <code>{upstream?.repo ?? '?'}</code>, coverage {coverageText(p.coverage)}
              </Text>
              <ul aria-label={`Evidence for ${p.chart.name}`}>
                {p.evidence.map((e, i) => (
                  <li key={i}>
                    <Text color="secondary">{e}</Text>
                  </li>
                ))}
              </ul>
              <div>
                <Button
                  variant="primary"
                  size="sm"
                  icon="plus"
                  disabled={present}
                  tooltip={present ? `The inline catalog already has a service named ${name}` : undefined}
                  onClick={() => onAdd(p)}
                >
                  {present ? `${name} is in the catalog` : `Add ${name} to the catalog`}
                </Button>
              </div>
            </>
          ) : (
            <Text color="warning">{p.reason || 'no verified upstream'}</Text>
          )}
          {p.candidates.length > 0 && (
            <table aria-label={`Candidates for ${p.chart.name}`}>
              <thead>
                <tr>
                  <th>Candidate</th>
                  <th>Named by</th>
                  <th>Coverage</th>
                  <th>Source, pattern, versionFrom</th>
                </tr>
              </thead>
              <tbody>
                {p.candidates.map((c, i) => (
                  <tr key={i}>
                    <td>{c.repo}</td>
                    <td>{c.from.join(', ')}</td>
                    <td>{c.error ? `error: ${c.error}` : coverageText(c.coverage)}</td>
                    <td>{[c.source, c.tagPattern, c.versionFrom].filter(Boolean).join(', ') || '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Stack>
      </Box>
    </li>
  );
}
