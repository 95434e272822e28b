import { AnnotationQuery, QueryEditorProps } from '@grafana/data';
import React from 'react';

import type { LagwatchDataSource } from '../resources';
import { LagwatchOptions, LagwatchQuery } from '../types';
import { QueryEditor } from './QueryEditor';

type Props = QueryEditorProps<LagwatchDataSource, LagwatchQuery, LagwatchOptions> & {
  annotation?: AnnotationQuery<LagwatchQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<LagwatchQuery>) => void;
};

/** Annotation editor: the events query with its service, maintainer and kind filters. */
export function AnnotationQueryEditor(props: Props) {
  const query: LagwatchQuery = { ...props.query, queryType: 'events' };
  return <QueryEditor {...props} query={query} fixedQueryType="events" />;
}
