import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../util/index.ts';
import {
  convertChunk, defineEmbodiment, embodimentFromModality, embodimentNames, externalLayout, fromExternal, getEmbodiment, modalityFromEmbodiment,
  parseModality, slot, toExternal, UNIFIED_DIM,
} from './index.ts';

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12, what = '') => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** A vlalab vector with every dim set (rotations below pi) and a full mask. */
function randomUnified(rng: Rng): { vector: Float64Array; mask: Float64Array } {
  const vector = Float64Array.from({ length: UNIFIED_DIM }, () => rng.range(-1, 1));
  for (const s of ['eef.right', 'eef.left']) {
    const o = slot(s).offset + 3;
    const n = Math.hypot(vector[o], vector[o + 1], vector[o + 2]);
    const angle = rng.range(0.05, 3.0);
    for (let k = 0; k < 3; k++) vector[o + k] *= angle / n;
  }
  return { vector, mask: new Float64Array(UNIFIED_DIM).fill(1) };
}

describe('published unified layouts (RDT-1B 128, Being-H0.5 200)', () => {
  it('hand-checked: a panda7-like vector in RDT-1B\'s layout (configs/state_vec.py)', () => {
    const v = new Float64Array(UNIFIED_DIM);
    const m = new Float64Array(UNIFIED_DIM);
    const set = (name: string, values: number[]) => values.forEach((x, k) => { v[slot(name).offset + k] = x; m[slot(name).offset + k] = 1; });
    set('eef.right', [0.1, 0.2, 0.3, 0, 0, Math.PI / 2]);
    set('joint.right', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    set('gripper.right', [1]);
    const r = toExternal(externalLayout('rdt128'), v, m);
    near(r.vector.subarray(0, 7), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 0, 'right arm joints [0, 7)');
    assert.equal(r.vector[10], 1, 'right_gripper_open');
    near(r.vector.subarray(30, 33), [0.1, 0.2, 0.3], 0, 'right_eef_pos');
    // Rz(90 deg): first column (0, 1, 0), second (-1, 0, 0)
    near(r.vector.subarray(33, 39), [0, 1, 0, -1, 0, 0], 1e-15, 'right_eef_angle_0..5');
    assert.deepEqual([...r.mask.keys()].filter((i) => r.mask[i]), [0, 1, 2, 3, 4, 5, 6, 10, 30, 31, 32, 33, 34, 35, 36, 37, 38]);
  });

  it('hand-checked: a bimanual dexterous vector in Being-H0.5\'s layout (unified_action_space.md)', () => {
    const v = new Float64Array(UNIFIED_DIM);
    const m = new Float64Array(UNIFIED_DIM);
    const set = (name: string, values: number[]) => values.forEach((x, k) => { v[slot(name).offset + k] = x; m[slot(name).offset + k] = 1; });
    set('eef.left', [1, 2, 3, 0.1, 0.2, 0.3]);
    set('hand.right', Array.from({ length: 12 }, (_, i) => i / 10));
    set('joint.left', [7, 6, 5, 4, 3, 2, 1]);
    set('gripper.left', [0.5]);
    const r = toExternal(externalLayout('beingh200'), v, m);
    near(r.vector.subarray(9, 15), [1, 2, 3, 0.1, 0.2, 0.3], 0, 'left_eef_position, left_eef_rotation');
    near(r.vector.subarray(20, 32), Array.from({ length: 12 }, (_, i) => i / 10), 0, 'dexhand_position + extension');
    near(r.vector.subarray(57, 64), [7, 6, 5, 4, 3, 2, 1], 0, 'left_arm_joint_position');
    assert.equal(r.vector[19], 0.5, 'left_gripper_position');
    assert.equal(r.mask.reduce((a, b) => a + b, 0), 6 + 12 + 7 + 1);
  });

  for (const name of ['rdt128', 'beingh200'] as const) {
    it(`${name}: vlalab -> ${name} -> vlalab is exact on the slots both have; the rest is dropped with mask 0`, () => {
      const rng = new Rng(7);
      const layout = externalLayout(name);
      const shared = new Set([...layout.copies.map(([u]) => u), ...layout.rot6d.flatMap((r) => [r.vlalab, r.vlalab + 1, r.vlalab + 2])]);
      for (let trial = 0; trial < 20; trial++) {
        const { vector, mask } = randomUnified(rng);
        const back = fromExternal(layout, ...Object.values(toExternal(layout, vector, mask)) as [Float64Array, Float64Array]);
        for (let i = 0; i < UNIFIED_DIM; i++) {
          if (shared.has(i)) {
            assert.equal(back.mask[i], 1);
            assert.ok(Math.abs(back.vector[i] - vector[i]) < 1e-12, `dim ${i}: ${back.vector[i]} vs ${vector[i]}`);
          } else assert.deepEqual([back.vector[i], back.mask[i]], [0, 0], `dim ${i} has no ${name} counterpart`);
        }
      }
      // masked-out dims stay out, and the other way round a layout vector round-trips on its shared dims
      const { vector } = randomUnified(rng);
      const none = toExternal(layout, vector, new Float64Array(UNIFIED_DIM));
      assert.ok(none.vector.every((x) => x === 0) && none.mask.every((x) => x === 0));
      const x = toExternal(layout, vector, new Float64Array(UNIFIED_DIM).fill(1));
      const again = toExternal(layout, ...Object.values(fromExternal(layout, x.vector, x.mask)) as [Float64Array, Float64Array]);
      near(again.vector, x.vector, 1e-12, `${name} -> vlalab -> ${name}`);
      assert.deepEqual(again.mask, x.mask);
    });
  }

  it('chunks convert row by row, also between the two published layouts; errors say what to fix', () => {
    const rng = new Rng(3);
    const rows = [randomUnified(rng).vector, randomUnified(rng).vector];
    const mask = new Float64Array(UNIFIED_DIM).fill(1);
    const rdt = convertChunk('vlalab', 'rdt128', rows, mask);
    assert.equal(rdt.chunk.length, 2);
    assert.equal(rdt.chunk[0].length, 128);
    const beingh = convertChunk('rdt128', 'beingh200', rdt.chunk, rdt.mask);
    assert.equal(beingh.chunk[1].length, 200);
    near(beingh.chunk[1].subarray(0, 6), rows[1].subarray(0, 6), 1e-12, 'right eef through RDT\'s 6D and back to axis-angle');
    assert.equal(beingh.mask[20], 0, 'RDT has no hands');
    assert.throws(() => convertChunk('vlalab', 'octo', rows, mask), /unknown layout "octo"; use vlalab, rdt128 or beingh200/);
    assert.throws(() => convertChunk('rdt128', 'vlalab', rows, mask), /rdt128 vector has 60 values; it needs 128/);
    const bad = new Float64Array(128);
    const badMask = new Float64Array(128);
    for (let k = 33; k < 39; k++) badMask[k] = 1;
    assert.throws(() => fromExternal(externalLayout('rdt128'), bad, badMask), /rdt128 dims 33\.\.38 are not a 6D rotation/);
  });
});

describe('GR00T modality.json <-> embodiment specs', () => {
  it('hand-checked: the example of LeRobot_compatible_data_schema.md becomes slots, legs and neck past aux are listed', () => {
    const m = parseModality({
      state: { left_arm: { start: 0, end: 7 }, left_hand: { start: 7, end: 13 }, left_leg: { start: 13, end: 19 }, neck: { start: 19, end: 22 }, right_arm: { start: 22, end: 29 }, right_hand: { start: 29, end: 35 }, right_leg: { start: 35, end: 41 }, waist: { start: 41, end: 44 } },
      action: { left_arm: { start: 0, end: 7 }, right_arm: { start: 7, end: 14 } },
      video: { ego_view: { original_key: 'observation.images.ego_view' } },
    }, 'modality.json');
    const { spec, unmapped } = embodimentFromModality(m, { name: 'gr1' });
    const e = defineEmbodiment(spec);
    assert.deepEqual(e.spec.state.map((b) => [b.slot, b.offset, b.dims]), [
      ['joint.left', 0, [0, 1, 2, 3, 4, 5, 6]], ['hand.left', 0, [7, 8, 9, 10, 11, 12]], ['aux', 0, [13, 14, 15, 16, 17, 18]],
      ['joint.right', 0, [22, 23, 24, 25, 26, 27, 28]], ['hand.right', 0, [29, 30, 31, 32, 33, 34]],
    ]);
    assert.deepEqual(unmapped, ['state.neck [19, 22): slot aux has 2 dims left', 'state.right_leg [35, 41): slot aux has 2 dims left', 'state.waist [41, 44): slot aux has 2 dims left']);
    assert.deepEqual(e.spec.cameras.map((c) => [c.name, c.feature]), [['ego_view', 'observation.images.ego_view']]);
    assert.throws(() => parseModality({ state: { a: { start: 3, end: 3 } }, action: {} }, 'm.json'), /m\.json: field "state\.a": end 3 must be past start 3/);
    const quat = parseModality({ state: { eef_position: { start: 0, end: 3 }, eef_rotation: { start: 3, end: 7, rotation_type: 'quaternion' }, gripper: { start: 7, end: 8 } }, action: { gripper: { start: 0, end: 1 } }, video: { front: { original_key: 'observation.images.front' } } }, 'q.json');
    assert.match(embodimentFromModality(quat, { name: 'q' }).unmapped.join('\n'), /state\.eef_rotation \[3, 7\): rotation_type quaternion; vlalab's eef slots take axis-angle/);
  });

  it('every registered embodiment -> modality.json -> spec reads the same dims into the same slots', () => {
    for (const name of embodimentNames()) {
      const e = getEmbodiment(name);
      const m = modalityFromEmbodiment(e);
      const back = embodimentFromModality(parseModality(JSON.parse(JSON.stringify(m)), 'modality.json'), { name });
      assert.deepEqual(back.unmapped, [], name);
      const e2 = defineEmbodiment(back.spec);
      assert.deepEqual(e2.stateIndex, e.stateIndex, `${name} state`);
      assert.deepEqual(e2.actionIndex, e.actionIndex, `${name} action`);
      assert.deepEqual(e2.spec.state.flatMap((b) => b.dims), e.stateNames.map((_, i) => i), `${name}: native state dims in order`);
      if (e.eefSlots.length) assert.equal(m.state[`${e.eefSlots[0].replace('.', '_')}_rotation`].rotation_type, 'axis_angle');
    }
  });

  it('a spec reading a dataset\'s own columns writes their positions and original_key', () => {
    const e = getEmbodiment('so5');
    const cols = (f: string, n: number) => Array.from({ length: n }, (_, dim) => ({ feature: f, dim: dim + 2 }));
    const m = modalityFromEmbodiment(e, { state: cols('state', 6), action: cols('action', 6) });
    assert.deepEqual(m.state.joint_right, { start: 2, end: 7, original_key: 'state' });
    assert.deepEqual(m.action.gripper_right, { start: 7, end: 8, absolute: true });
    assert.throws(() => modalityFromEmbodiment(e, { state: [...cols('state', 5), { feature: 'state', dim: 0 }].reverse(), action: cols('action', 6) }), /field "state\.0" reads non-consecutive dims/);
  });
});
