import { Alert, Badge, Box, Button, Stack, Text } from '@grafana/ui';
import React, { useEffect, useState } from 'react';

import { CheckResponse, CheckResult, coverageText, fetchCheck, fetchServices } from '../check';
import { ServiceInfo } from '../types';
import { errorText } from './useCatalog';

type State =
  | { state: 'loading' }
  | { state: 'done'; check?: CheckResponse; checkError?: string; services?: ServiceInfo[] }
  | { state: 'failed'; message: string };

/**
 * The settings as saved: the draft at the last change of `version` (Grafana
 * bumps it on every save and hands the editor the saved settings then).
 */
export function useSavedDraft(version: number | undefined, draft: string): string {
  const [saved, setSaved] = useState({ version, draft });
  if (saved.version !== version) {
    setSaved({ version, draft });
    return draft;
  }
  return saved.draft;
}

/**
 * Each service's check result (GET /check) and its security and end-of-life
 * inputs (GET /services), for the saved settings. Runs when shown, after each
 * save and on Recheck.
 */
export function CatalogCheck({ uid, version, draft }: { uid: string; version?: number; draft: string }) {
  const saved = useSavedDraft(version, draft);
  const [run, setRun] = useState(0);
  // The latest answer and the run it answers; a newer run is still loading.
  const key = `${uid}|${version}|${run}`;
  const [answer, setAnswer] = useState<{ key: string; state: State }>({ key: '', state: { state: 'loading' } });
  const state: State = answer.key === key ? answer.state : { state: 'loading' };

  useEffect(() => {
    if (!uid) {
      return;
    }
    let active = true;
    Promise.allSettled([fetchCheck(uid), fetchServices(uid)]).then(([check, services]) => {
      if (!active) {
        return;
      }
      if (check.status === 'rejected' && services.status === 'rejected') {
        setAnswer({ key, state: { state: 'failed', message: errorText(check.reason) } });
        return;
      }
      setAnswer({
        key,
        state: {
          state: 'done',
          check: check.status === 'fulfilled' ? check.value : undefined,
          checkError: check.status === 'rejected' ? errorText(check.reason) : undefined,
          services: services.status === 'fulfilled' ? services.value.services : undefined,
        },
      });
    });
    return () => {
      active = false;
    };
  }, [uid, key]);

  if (!uid) {
    return (
      <Alert severity="info" title="Service check">
        Save the data source to check its services: the check runs on the saved settings.
      </Alert>
    );
  }

  return (
    <Box marginTop={2}>
      <Stack direction="column" gap={1}>
        <Stack direction="row" gap={2} alignItems="center">
          <Text element="h4">Service check</Text>
          <Button
            variant="secondary"
            size="sm"
            icon={state.state === 'loading' ? 'spinner' : 'sync'}
            disabled={state.state === 'loading'}
            onClick={() => setRun((n) => n + 1)}
          >
            Recheck
          </Button>
          <Summary state={state} />
        </Stack>
        <Text element="p" color="secondary">
          Per service: how many of the chart&apos;s last 20 versions ship an upstream version (coverage), values left
          out, problems, and fixes computed from the data with their evidence.
        </Text>
        {saved !== draft && (
          <Text element="p" color="warning">
            The settings have unsaved changes: this check shows the saved ones. Save &amp; test, then recheck.
          </Text>
        )}
        {state.state === 'failed' && (
          <Alert severity="warning" title="The services could not be checked">
            {state.message}. Make sure the Lagwatch backend is running.
          </Alert>
        )}
        {state.state === 'done' && (
          <Results check={state.check} checkError={state.checkError} services={state.services} />
        )}
      </Stack>
    </Box>
  );
}

function Summary({ state }: { state: State }) {
  if (state.state === 'loading') {
    return (
      <Text color="secondary" italic>
        Checking services…
      </Text>
    );
  }
  if (state.state !== 'done' || !state.check) {
    return null;
  }
  const { services, problems, failed } = state.check;
  const good = services - problems - failed;
  const parts = [`${good} ${good === 1 ? 'looks' : 'look'} right`];
  if (problems) {
    parts.push(`${problems} ${problems === 1 ? 'has' : 'have'} problems`);
  }
  if (failed) {
    parts.push(`${failed} could not be checked`);
  }
  return (
    <Text color={problems || failed ? 'warning' : 'success'}>
      {services} service{services === 1 ? '' : 's'}: {parts.join(', ')}
    </Text>
  );
}

function Results({
  check,
  checkError,
  services,
}: {
  check?: CheckResponse;
  checkError?: string;
  services?: ServiceInfo[];
}) {
  const byName = new Map((services ?? []).map((s) => [s.name, s]));
  const results = check?.results ?? [];
  // Services the check did not answer for (it failed) still show their inputs.
  const others = (services ?? []).filter((s) => !results.some((r) => r.service === s.name));
  return (
    <>
      {checkError && (
        <Alert severity="warning" title="The services could not be checked">
          {checkError}
        </Alert>
      )}
      {results.length === 0 && others.length === 0 && <Text color="secondary">The saved catalog has no services.</Text>}
      <ul aria-label="Service check" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {results.map((r) => (
          <ServiceResult key={r.service} result={r} info={byName.get(r.service)} />
        ))}
        {others.map((s) => (
          <li key={s.name} aria-label={`Service ${s.name}`}>
            <Box paddingY={1}>
              <Stack direction="column" gap={0.5}>
                <Text weight="medium">{s.name}</Text>
                <Inputs info={s} />
              </Stack>
            </Box>
          </li>
        ))}
      </ul>
    </>
  );
}

function ServiceResult({ result: r, info }: { result: CheckResult; info?: ServiceInfo }) {
  const badge = r.error ? (
    <Badge color="orange" icon="exclamation-triangle" text="not checked" />
  ) : r.ok ? (
    <Badge color="green" icon="check" text="looks right" />
  ) : (
    <Badge
      color="red"
      icon="exclamation-circle"
      text={`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`}
    />
  );
  const missing = r.coverage?.missing ?? [];
  return (
    <li aria-label={`Service ${r.service}`}>
      <Box paddingY={1}>
        <Stack direction="column" gap={0.5}>
          <Stack direction="row" gap={1} alignItems="center">
            <Text weight="medium">{r.service}</Text>
            {badge}
          </Stack>
          {r.error && <Text color="error">Could not fetch its data: {r.error}</Text>}
          {r.coverage && (
            <Text color="secondary">
              Coverage: {coverageText(r.coverage)} of the last chart versions ship an upstream version
              {missing.length > 0 && ` (not: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`}
            </Text>
          )}
          {(r.upstream || r.chart) && (
            <Text color="secondary">
              {r.upstream &&
                `Upstream (${r.upstream.source || 'releases'}): ${r.upstream.kept} of ${r.upstream.fetched} versions kept`}
              {r.upstream && r.chart && ' · '}
              {r.chart &&
                `chart: ${r.chart.kept} of ${r.chart.fetched} versions kept, ships ${r.chart.packaged || 'nothing'}, newest upstream ${r.chart.upstreamLatest || 'none'}`}
            </Text>
          )}
          <Inputs info={info} />
          {r.problems.length > 0 && (
            <ul aria-label={`Problems of ${r.service}`}>
              {r.problems.map((p, i) => (
                <li key={i}>
                  <Text color="error">{p.message}</Text>
                </li>
              ))}
            </ul>
          )}
          {r.leftOut.length > 0 && (
            <ul aria-label={`Left out of ${r.service}`}>
              {r.leftOut.map((l, i) => (
                <li key={i}>
                  <Text color="secondary">
                    {l.count} {l.cause}
                    {l.examples?.length ? `, e.g. ${l.examples.join(', ')}` : ''}
                  </Text>
                </li>
              ))}
            </ul>
          )}
          {r.fixes.length > 0 && (
            <ul aria-label={`Fixes for ${r.service}`}>
              {r.fixes.map((f, i) => (
                <li key={i}>
                  <Text>
                    Set <code>{f.field}</code> to <code>{f.value}</code>
                  </Text>{' '}
                  <Text color="secondary">
                    — {f.evidence}
                    {f.coverage ? ` (coverage then ${coverageText(f.coverage)})` : ''}
                  </Text>
                </li>
              ))}
            </ul>
          )}
        </Stack>
      </Box>
    </li>
  );
}

/** Which security (advisories) and end-of-life (eol.product) inputs the service has; nothing when the backend does not say. */
function Inputs({ info }: { info?: ServiceInfo }) {
  if (!info || (info.advisories === undefined && info.eolProduct === undefined)) {
    return null;
  }
  return (
    <Text color="secondary">
      Security: {info.advisories ? 'advisories' : 'none (no advisories in the catalog)'} · End of life:{' '}
      {info.eolProduct ? `endoflife.date product ${info.eolProduct}` : 'none (no eol.product in the catalog)'}
    </Text>
  );
}
