/** The pretraining corpora are held out from the downstream benchmark: no task, instruction or object in common. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allTasks, getTask, PRETRAIN_SUITE, type TaskSpec } from '../sim/index.ts';
import { CORPORA, type CorpusPart } from './corpus.ts';

/** Every downstream task: the four suites, the multi-stage tasks and the basic pick-place. */
const DOWNSTREAM = allTasks().filter((t) => t.suite !== PRETRAIN_SUITE);
const objectKey = (o: TaskSpec['objects'][number]) => `${o.kind}:${o.color}`;

/** What a corpus part shares with the downstream benchmark (empty when held out). */
function sharedWithDownstream(part: CorpusPart): string[] {
  const names = new Set(DOWNSTREAM.map((t) => t.name));
  const instructions = new Set(DOWNSTREAM.map((t) => t.instruction));
  const objects = new Set(DOWNSTREAM.flatMap((t) => t.objects.map(objectKey)));
  const objectSets = new Set(DOWNSTREAM.map((t) => t.objects.map(objectKey).sort().join(',')));
  const found: string[] = [];
  for (const name of part.tasks) {
    const t = getTask(name);
    if (names.has(t.name)) found.push(`task ${t.name}`);
    if (instructions.has(t.instruction)) found.push(`instruction "${t.instruction}"`);
    if (objectSets.has(t.objects.map(objectKey).sort().join(','))) found.push(`object set of ${t.name}`);
    for (const o of t.objects) if (objects.has(objectKey(o))) found.push(`object ${objectKey(o)} of ${t.name}`);
  }
  return found;
}

describe('pretraining corpora', () => {
  it('share no task, instruction, object or object set with the downstream benchmark', () => {
    assert.ok(DOWNSTREAM.length >= 45, 'the downstream benchmark was found');
    for (const [name, parts] of Object.entries(CORPORA)) {
      for (const p of parts) {
        assert.ok(p.tasks.length > 0, `${name}/${p.name} has tasks`);
        assert.deepEqual(sharedWithDownstream(p), [], `${name}/${p.name}`);
      }
    }
  });

  it('the check finds a downstream task slipped into a part (positive control)', () => {
    const found = sharedWithDownstream({ name: 'leaky', robot: 'panda7', tasks: [CORPORA.D1[0].tasks[0], 'spatial-left-plate'], frameStep: 1, category: 'test' });
    assert.ok(found.includes('task spatial-left-plate') && found.some((f) => f.startsWith('instruction')) && found.some((f) => f.startsWith('object cube:red')), found.join('; '));
  });

  it('are cumulative quadrants over all five robots with frame-step balancing', () => {
    const names = (c: string) => CORPORA[c].map((p) => p.name);
    for (const [small, big] of [['D1', 'D2'], ['D2', 'D3'], ['D3', 'D4']]) assert.deepEqual(names(big).slice(0, names(small).length), names(small), `${big} extends ${small}`);
    assert.deepEqual([...new Set(CORPORA.D4.map((p) => p.robot))].sort(), ['bimanual6', 'panda7', 'so5', 'ur6', 'widowx6']);
    assert.ok(CORPORA.D3.some((p) => p.domain === 'alt') && !CORPORA.D2.some((p) => p.domain), 'D3 adds the other room');
    assert.ok(CORPORA.D4.some((p) => p.frameStep > 1) && CORPORA.D4.some((p) => p.frameStep === 1), 'step sizes differ');
  });
});
