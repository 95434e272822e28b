import { Field, Input, Text } from '@grafana/ui';
import React, { useState } from 'react';

import { checkWhatIfVersion } from '../versions';

const INPUT_ID = 'lagwatch-what-if-version';

/** Shown under a dashboard variable in the field. */
export const VARIABLE_HINT = 'a dashboard variable: its value is checked when the query runs';

interface Props {
  /** The query's deployedVersion: a normalised version, a dashboard variable as typed, or undefined (the catalog's deployed version). */
  value?: string;
  /**
   * Called on blur or Enter with the normalised version, the variable as typed
   * (trimmed), or undefined when the field was emptied; never with an invalid value.
   */
  onChange: (version: string | undefined) => void;
  /** Short warnings shown under the field (the query covers several services, no metric uses the version). */
  warnings?: string[];
}

/**
 * The what-if version ("if we ran X"): checked and normalised in the browser
 * (checkWhatIfVersion), sent only when it is a version or a dashboard
 * variable. While the text is invalid its error names it and the query keeps
 * its previous value.
 */
export function WhatIfVersionField({ value, onChange, warnings = [] }: Props) {
  const [text, setText] = useState(value ?? '');
  // A new value from outside (a commit normalised the text, another editor,
  // undo) replaces the text; an invalid text never becomes the value.
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setText(value ?? '');
  }
  const check = checkWhatIfVersion(text);

  const commit = () => {
    if (check.state === 'invalid') {
      return;
    }
    const next = check.state === 'valid' ? check.version : check.state === 'variable' ? check.variable : undefined;
    if (next !== value) {
      onChange(next);
    } else {
      setText(next ?? '');
    }
  };

  return (
    <Field
      label="What-if version"
      description="If we ran this version: every service of the query is measured as if it were deployed. A version (0.12.3) or a dashboard variable ($version); empty = the catalog's deployed version."
      invalid={check.state === 'invalid'}
      error={check.state === 'invalid' ? check.error : undefined}
      htmlFor={INPUT_ID}
      noMargin
    >
      <>
        <Input
          id={INPUT_ID}
          invalid={check.state === 'invalid'}
          width={24}
          placeholder="e.g. 0.12.3 or $version"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              commit();
            }
          }}
        />
        {check.state === 'valid' && check.version !== text.trim() && <Note>Read as {check.version}</Note>}
        {check.state === 'variable' && <Note>{VARIABLE_HINT}</Note>}
        {warnings.map((w) => (
          <Note key={w} warning>
            {w}
          </Note>
        ))}
      </>
    </Field>
  );
}

/** One line under the input. */
function Note({ children, warning = false }: { children: NonNullable<React.ReactNode>; warning?: boolean }) {
  return (
    <div>
      <Text variant="bodySmall" color={warning ? 'warning' : 'secondary'}>
        {children}
      </Text>
    </div>
  );
}
