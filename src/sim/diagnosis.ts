/**
 * Why an episode failed, read off the simulator rather than the recordings: which objects the arm
 * lifted, and which it closed its gripper on without lifting, since the task last made progress.
 * The env updates a GraspLog after every control step and asks it at the episode's end.
 */
import { released } from './tasks.ts';
import type { World } from './world.ts';

/**
 * Why an episode has not succeeded, judged against the object the task needs carried next (the
 * target), most telling first:
 * - `not-placed`: the arm lifted the target, and it did not end at its goal (dropped, put elsewhere, still held);
 * - `wrong-object`: it lifted another object and never the target;
 * - `missed-target`: it lifted nothing, but closed the gripper at the target (a grasp that slipped or missed by a little);
 * - `missed-other`: it lifted nothing, and closed the gripper only at other objects;
 * - `no-grasp`: it never closed the gripper at any object (wandered, or closed on air).
 */
export type FailureMode = 'not-placed' | 'wrong-object' | 'missed-target' | 'missed-other' | 'no-grasp';

/** Every failure mode, in FailureMode's order. */
export const FAILURE_MODES: readonly FailureMode[] = ['not-placed', 'wrong-object', 'missed-target', 'missed-other', 'no-grasp'];

/** Height (m) above its resting place at which a held object counts as lifted. */
const LIFTED = 0.02;
/**
 * Distance (m) from the TCP to an object's centre within which a closing gripper is at that object:
 * a near miss of a 4 cm cube, still nearer to it than to any other (layouts keep objects 10-11 cm apart).
 */
const AT_OBJECT = 0.05;
/** Gripper opening (0 closed, 1 open) below which the gripper counts as closing. */
const CLOSING = 0.7;

/** The objects arm 0 lifted and closed on since the task last made progress. */
export class GraspLog {
  private readonly restZ = new Map<string, number>();
  private readonly lifted = new Set<string>();
  private readonly closedAt = new Set<string>();
  private readonly carried: readonly string[];

  /** `carried`: the objects the arm may carry (their resting heights are read at reset). */
  constructor(carried: readonly string[]) {
    this.carried = carried;
  }

  /** Starts an episode from the world as it was just reset. */
  reset(w: World): void {
    this.lifted.clear();
    this.closedAt.clear();
    for (const name of this.carried) this.restZ.set(name, w.objectPose(name).p[2]);
  }

  /** Records the state after a control step; `progressed`: the step earned a point (the log restarts). */
  update(w: World, progressed: boolean): void {
    if (progressed) {
      this.lifted.clear();
      this.closedAt.clear();
    }
    const closing = w.gripperOpening(0) < CLOSING;
    const tcp = w.tcpPose(0).p;
    for (const name of this.carried) {
      const o = w.objectPose(name).p;
      if (o[2] > this.restZ.get(name)! + LIFTED && !released(w, name)) this.lifted.add(name);
      if (closing && Math.hypot(o[0] - tcp[0], o[1] - tcp[1], o[2] - tcp[2]) < AT_OBJECT) this.closedAt.add(name);
    }
  }

  /** Why the episode has not reached the goal of `target` (FailureMode). */
  failureMode(target: string): FailureMode {
    if (this.lifted.has(target)) return 'not-placed';
    if (this.lifted.size) return 'wrong-object';
    if (this.closedAt.has(target)) return 'missed-target';
    return this.closedAt.size ? 'missed-other' : 'no-grasp';
  }
}

/**
 * Which object an episode's arm went for, read off its outcome: `target` when it succeeded or its
 * failure shows it at the object the task needed next (not-placed, missed-target), `other` when it
 * lifted or closed on another object instead (wrong-object, missed-other), undefined when it never
 * closed at any object (no-grasp). The share of `target` among the two is how surely a policy picks
 * the object the instruction names; picking blindly among n objects gives 1/n.
 */
export function pickedObject(success: boolean, failure?: FailureMode): 'target' | 'other' | undefined {
  if (success || failure === 'not-placed' || failure === 'missed-target') return 'target';
  return failure === 'wrong-object' || failure === 'missed-other' ? 'other' : undefined;
}
