import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allTasks } from '../sim/index.ts';
import { resolveTasks } from './sim.ts';

describe('--task and --suite', () => {
  const suite = (s: string) => allTasks().filter((t) => t.suite === s).map((t) => t.name);

  it('takes a suite, or several separated by commas, in the order given', () => {
    assert.deepEqual(resolveTasks(undefined, 'spatial'), suite('spatial'));
    assert.deepEqual(resolveTasks(undefined, 'goal, spatial,goal'), [...suite('goal'), ...suite('spatial')]);
    assert.equal(resolveTasks(undefined, 'spatial,object,goal,long').length, 40);
  });

  it('takes tasks separated by commas once each, and refuses bad names with a suggestion', () => {
    assert.deepEqual(resolveTasks('pick-place,pick-place', undefined), ['pick-place']);
    assert.throws(() => resolveTasks(undefined, 'spatial,objct'), /no tasks in suite "objct"; did you mean "object"\?/);
    assert.throws(() => resolveTasks('pick-place', 'spatial'), /pass exactly one of --task or --suite/);
    assert.throws(() => resolveTasks(undefined, ','), /no tasks in suite ","/);
  });
});
