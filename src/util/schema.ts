/**
 * Schema problems a person can fix in one pass: every issue of a failed zod parse on its own line,
 * named by its field path, with a "did you mean" for a misspelled field name.
 */
import { z } from 'zod';
import { closestName } from './suggest.ts';

/**
 * The field names the object schema at `path` inside `schema` accepts (array indices step into the
 * element, record keys into the value), or undefined when no object schema is there.
 */
export function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; ; ) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (i === path.length) return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
    else if (s instanceof z.ZodObject) s = s.shape[String(path[i++])] as z.ZodType;
    else if (s instanceof z.ZodArray) [s, i] = [s.element as z.ZodType, i + 1];
    else if (s instanceof z.ZodRecord) [s, i] = [s.valueType as z.ZodType, i + 1];
    else return undefined;
    if (!s) return undefined;
  }
}

/**
 * One line per problem of `error` (a failed parse of `schema`): `field "tasks.0.rubrik": unknown;
 * did you mean "rubric"?`, `field "trialsPerModel": missing (a number)`.
 */
export function schemaProblems(schema: z.ZodType, error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsAt(schema, issue.path) ?? [];
      for (const key of issue.keys) {
        const best = closestName(key, known);
        out.push(`field "${[...at, key].join('.')}": unknown${best ? `; did you mean "${best}"?` : known.length ? ` (fields: ${known.join(', ')})` : ''}`);
      }
      continue;
    }
    const missing = /expected (\w+), received undefined/.exec(issue.message);
    out.push(`field "${at.join('.') || '(root)'}": ${missing ? `missing (expected ${missing[1]})` : issue.message}`);
  }
  return out;
}

/**
 * One message for the problems of a file: `F: field "x": ...` for one, a count and one indented
 * line each for several (so every problem can be fixed in one pass).
 */
export function problemsMessage(source: string, problems: readonly string[]): string {
  return problems.length === 1 ? `${source}: ${problems[0]}` : `${source}: ${problems.length} problems:\n  ${problems.join('\n  ')}`;
}
