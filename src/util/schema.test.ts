import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { fieldsAt, parseJsonc, problemsMessage, schemaProblems, stripJsonComments } from './index.ts';

describe('schema problems and JSON with comments', () => {
  const stage = z.object({ name: z.string(), points: z.number() }).strict();
  const schema = z.object({ name: z.string(), tasks: z.array(z.object({ rubric: z.array(stage) }).strict()), k: z.number().default(4) }).strict();

  it('finds the fields of nested objects through arrays and defaults', () => {
    assert.deepEqual(fieldsAt(schema, []), ['name', 'tasks', 'k']);
    assert.deepEqual(fieldsAt(schema, ['tasks', 0, 'rubric', 3]), ['name', 'points']);
    assert.equal(fieldsAt(schema, ['name']), undefined);
  });

  it('reports every problem with a did-you-mean for misspelled fields', () => {
    const r = schema.safeParse({ nme: 'x', tasks: [{ rubric: [{ name: 's', pionts: 1 }] }], k: 'four' });
    assert.ok(!r.success);
    const problems = schemaProblems(schema, r.error);
    assert.deepEqual(problems.filter((p) => p.includes('unknown')).sort(), [
      'field "nme": unknown; did you mean "name"?',
      'field "tasks.0.rubric.0.pionts": unknown; did you mean "points"?',
    ]);
    assert.ok(problems.includes('field "name": missing (expected string)'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('field "k": ')));
    assert.equal(problems.length, 5);
    assert.equal(problemsMessage('f.json', problems.slice(0, 1)), `f.json: ${problems[0]}`);
    assert.match(problemsMessage('f.json', problems), /^f\.json: 5 problems:\n {2}field/);
  });

  it('strips comments outside strings only', () => {
    const text = '// head\n{ "url": "ws://h:1/*x*/", /* block\n over lines */ "n": 2 // tail\n}';
    assert.deepEqual(parseJsonc(text), { url: 'ws://h:1/*x*/', n: 2 });
    assert.equal(stripJsonComments(text).split('\n').length, text.split('\n').length, 'line numbers of parse errors still match');
    assert.deepEqual(parseJsonc('{"a": "quote \\" // not a comment"}'), { a: 'quote " // not a comment' });
  });
});
