/** The pretraining task family: distinct tasks, and the scripted expert solves them on every robot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allTasks, createEnv, PRETRAIN_SUITE, robotNames } from './index.ts';

const family = allTasks().filter((t) => t.suite === PRETRAIN_SUITE);

describe('pretraining task family', () => {
  it('has 36 tasks with distinct names and instructions over three container kinds', () => {
    assert.equal(family.length, 36);
    assert.equal(new Set(family.map((t) => t.name)).size, 36);
    assert.equal(new Set(family.map((t) => t.instruction)).size, 36);
    assert.deepEqual([...new Set(family.map((t) => t.objects.find((o) => o.name === 'container')!.kind))].sort(), ['bowl', 'plate', 'tray']);
  });

  // one task per container kind (plate, bowl, tray), each on every robot; a score of 0 before the expert moves
  for (const robot of robotNames()) {
    it(`${robot}: the expert solves a plate, a bowl and a tray task`, async () => {
      for (const task of family.slice(0, 3)) {
        const env = await createEnv({ robot, task: task.name, imageSize: 8 });
        try {
          env.reset(7);
          let r = env.step(env.expertAction());
          assert.equal(r.points, 0, `${task.name} is not solved at the start`);
          while (!r.done) r = env.step(env.expertAction());
          assert.ok(r.success, `${robot} ${task.name}: the expert failed in ${r.steps} steps`);
        } finally {
          env.close();
        }
      }
    });
  }
});
