import { render } from '@testing-library/react';
import userEvent, { PointerEventsCheckLevel } from '@testing-library/user-event';
import React, { ReactElement, useState } from 'react';

/**
 * Renders an editor the way Grafana drives it: the value it reports through
 * its onChange is fed back as its next value, so that several changes build
 * on each other. `onChange` records every reported value; `last()` is the
 * latest one.
 */
export function renderControlled<T>(initial: T, editor: (value: T, onChange: (value: T) => void) => ReactElement) {
  const onChange = jest.fn<void, [T]>();
  function Harness() {
    const [value, setValue] = useState<T>(initial);
    return editor(value, (next) => {
      onChange(next);
      setValue(next);
    });
  }
  const view = render(<Harness />);
  const last = (): T => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { onChange, last, view, user: setupUser() };
}

/** user-event without delays, and without the pointer-events checks Grafana's menus trip in jsdom. */
export function setupUser() {
  return userEvent.setup({ delay: null, pointerEventsCheck: PointerEventsCheckLevel.Never });
}
