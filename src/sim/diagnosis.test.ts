import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILURE_MODES, GraspLog, pickedObject } from './diagnosis.ts';
import type { World } from './world.ts';

/** A world of two cubes resting at z = 0.02 and arm 0's TCP and gripper, each settable. */
function fakeWorld() {
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = { tcp: [0, 0, 0.2], opening: 1, cubes: { a: [0.1, 0.1, 0.02], b: [0.1, -0.1, 0.02] } as Record<string, number[]> };
  const world = {
    objectPose: (name: string) => ({ p: s.cubes[name], r: identity }),
    tcpPose: () => ({ p: s.tcp, r: identity }),
    gripperOpening: () => s.opening,
  } as unknown as World;
  return { s, world };
}

describe('GraspLog', () => {
  it('tells a missed grasp at the target from one at another object, from closing on air', () => {
    const { s, world } = fakeWorld();
    const log = new GraspLog(['a', 'b']);
    log.reset(world);
    s.opening = 0;
    log.update(world, false);
    assert.equal(log.failureMode('a'), 'no-grasp', 'closed in the air, 20 cm above');
    s.tcp = [0.1, -0.1, 0.08];
    log.update(world, false);
    assert.equal(log.failureMode('a'), 'no-grasp', "closed 6 cm above cube b's centre");
    s.tcp = [0.1, -0.09, 0.03];
    log.update(world, false);
    assert.equal(log.failureMode('a'), 'missed-other', "closed 1.4 cm from cube b's centre");
    s.tcp = [0.1, 0.14, 0.02];
    log.update(world, false);
    assert.equal(log.failureMode('a'), 'missed-target', 'then 4 cm beside the target: a near miss');
    assert.equal(log.failureMode('b'), 'missed-target', 'judged against whichever object is the target');
  });

  it('a lifted object outranks a missed grasp; the log restarts when the task makes progress and at reset', () => {
    const { s, world } = fakeWorld();
    const log = new GraspLog(['a', 'b']);
    log.reset(world);
    s.opening = 0.3; // closed on a cube
    s.tcp = [0.1, -0.1, 0.05];
    s.cubes.b = [0.1, -0.1, 0.05]; // lifted 3 cm, held
    log.update(world, false);
    assert.equal(log.failureMode('a'), 'wrong-object');
    assert.equal(log.failureMode('b'), 'not-placed');
    s.opening = 1; // let go: b falls back
    s.cubes.b = [0.1, -0.1, 0.02];
    log.update(world, false);
    assert.equal(log.failureMode('b'), 'not-placed', 'what was lifted stays lifted until progress');
    log.update(world, true);
    assert.equal(log.failureMode('a'), 'no-grasp', 'after a point, only what happens next counts');
    s.opening = 0.3;
    s.tcp = [0.1, 0.1, 0.03];
    log.update(world, false);
    log.reset(world);
    assert.equal(log.failureMode('a'), 'no-grasp');
  });

  it('lists every mode once', () => {
    assert.deepEqual([...new Set(FAILURE_MODES)], ['not-placed', 'wrong-object', 'missed-target', 'missed-other', 'no-grasp']);
  });
});

describe('pickedObject', () => {
  it('reads which object the arm went for off the outcome: the target, another, or none', () => {
    assert.equal(pickedObject(true), 'target');
    const picked = FAILURE_MODES.map((f) => pickedObject(false, f));
    assert.deepEqual(picked, ['target', 'other', 'target', 'other', undefined]);
    assert.equal(pickedObject(false), undefined, 'a failure without a recorded mode says nothing');
  });
});
