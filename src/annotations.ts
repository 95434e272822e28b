import { AnnotationEvent, AnnotationQuery, AnnotationSupport, DataFrame, Field, FieldType } from '@grafana/data';
import { Observable, of } from 'rxjs';

import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { LagwatchQuery } from './types';

export const ANNOTATION_REF_ID = 'LagwatchAnnotations';

/** The query of an annotation: always the events query type. */
export function eventsQuery(target?: Partial<LagwatchQuery>): LagwatchQuery {
  return { ...target, refId: target?.refId || ANNOTATION_REF_ID, queryType: 'events' };
}

/**
 * Annotations run the `events` query type: upstream and chart releases,
 * filterable by service, maintainer and kind in the annotation editor.
 */
export const lagwatchAnnotations: AnnotationSupport<LagwatchQuery> = {
  prepareAnnotation(json: AnnotationQuery<LagwatchQuery>): AnnotationQuery<LagwatchQuery> {
    return { ...json, target: eventsQuery(json.target) };
  },
  prepareQuery(anno: AnnotationQuery<LagwatchQuery>): LagwatchQuery {
    return eventsQuery(anno.target);
  },
  processEvents(_anno: AnnotationQuery<LagwatchQuery>, frames: DataFrame[]): Observable<AnnotationEvent[]> {
    return of(framesToEvents(frames));
  },
  QueryEditor: AnnotationQueryEditor,
  getDefaultQuery: () => eventsQuery(),
};

/**
 * Maps events frames (fields time, title, text, tags, service, kind, version)
 * to annotation events: time to time, title and text as they are, tags split
 * on commas. Rows without a time are skipped.
 */
export function framesToEvents(frames: DataFrame[]): AnnotationEvent[] {
  const events: AnnotationEvent[] = [];
  for (const frame of frames) {
    const time = frame.fields.find((f) => f.name === 'time' || f.type === FieldType.time);
    if (!time) {
      continue;
    }
    const field = (name: string) => frame.fields.find((f) => f.name === name);
    const title = field('title');
    const text = field('text');
    const tags = field('tags');
    for (let i = 0; i < frame.length; i++) {
      const t = toMillis(time.values[i]);
      if (t === undefined) {
        continue;
      }
      events.push({
        time: t,
        title: str(title, i),
        text: str(text, i),
        tags: splitTags(str(tags, i)),
      });
    }
  }
  return events;
}

export function splitTags(tags: string): string[] {
  return tags
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

function str(field: Field | undefined, i: number): string {
  const v = field?.values[i];
  return v === undefined || v === null ? '' : String(v);
}

function toMillis(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return v;
  }
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  if (v instanceof Date) {
    return v.getTime();
  }
  return undefined;
}
