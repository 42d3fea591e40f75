/** `vlalab actions encode|decode`: the EEF parameterizations of eq. 4 on a JSON chunk. */
import type { Command } from 'commander';
import { z } from 'zod';
import { convertChunk, decodePoses, EEF_MODES, encodePoses, EXTERNAL_LAYOUTS, parseEefMode } from '../actions/index.ts';
import { type PosAxisAngle, type Pose, poseFromPosQuat, posQuatFromPose, type PosQuat } from '../geometry/index.ts';
import { UserError } from '../util/errors.ts';
import { action, printJson, readJsonFile } from './run.ts';

/** How far |q| may be from 1 before a quaternion is rejected as not unit. */
const UNIT_TOLERANCE = 1e-6;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const encodeInput = z.object({ start: z.array(finite), targets: z.array(z.array(finite)).min(1) }).strict();
const decodeInput = z.object({ start: z.array(finite), actions: z.array(z.array(finite)).min(1) }).strict();
const convertInput = z.object({ chunk: z.array(z.array(finite)).min(1), mask: z.array(finite) }).strict();

/** "0-6, 10, 30-38": the used dims of a mask as ranges. */
function usedDims(mask: ArrayLike<number>): string {
  const out: string[] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    let j = i;
    while (j + 1 < mask.length && mask[j + 1]) j++;
    out.push(i === j ? `${i}` : `${i}-${j}`);
    i = j;
  }
  return out.join(', ') || 'none';
}

function parse<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(root)';
  throw new UserError(`${file}: ${at}: ${issue.message}`);
}

/** A [x, y, z, qw, qx, qy, qz] pose, rejecting wrong lengths and zero or non-unit quaternions. */
function parsePose(v: number[], where: string): Pose {
  if (v.length !== 7) throw new UserError(`${where} has ${v.length} numbers; a pose is [x, y, z, qw, qx, qy, qz] (7)`);
  const n = Math.hypot(v[3], v[4], v[5], v[6]);
  if (n === 0) throw new UserError(`${where} has a zero quaternion; give a unit quaternion (qw, qx, qy, qz)`);
  if (Math.abs(n - 1) > UNIT_TOLERANCE) {
    throw new UserError(`${where} has a quaternion of norm ${n.toPrecision(6)}; it must be unit (|q| = 1 within ${UNIT_TOLERANCE}): normalize it first`);
  }
  return poseFromPosQuat(v as unknown as PosQuat);
}

function parseAction(v: number[], where: string): PosAxisAngle {
  if (v.length !== 6) throw new UserError(`${where} has ${v.length} numbers; an action is [dx, dy, dz, rx, ry, rz] (6)`);
  return v as unknown as PosAxisAngle;
}

const fmt = (v: readonly number[]) => v.map((x) => x.toFixed(6).padStart(10)).join(' ');

export function register(program: Command): void {
  const cmd = program
    .command('actions')
    .description('convert end-effector action chunks between absolute poses and the four parameterizations');
  const modeHelp = `one of ${EEF_MODES.join(', ')}`;
  cmd
    .command('encode')
    .description('absolute target poses -> actions; input {"start": [x,y,z,qw,qx,qy,qz], "targets": [[...7], ...]}')
    .requiredOption('--mode <mode>', modeHelp)
    .requiredOption('--input <file>', 'JSON file with the chunk start pose and target poses')
    .option('--json', 'print JSON {"start", "actions"} instead of a table')
    .action(
      action((opts: { mode: string; input: string; json?: boolean }) => {
        const mode = parseEefMode(opts.mode);
        const input = parse(encodeInput, readJsonFile(opts.input), opts.input);
        const start = parsePose(input.start, 'start');
        const targets = input.targets.map((t, i) => parsePose(t, `targets[${i}]`));
        const actions = encodePoses(mode, start, targets).map((a) => Array.from(a));
        if (opts.json) return printJson({ start: input.start, actions });
        process.stdout.write(`${mode} actions [dx dy dz rx ry rz]:\n${actions.map(fmt).join('\n')}\n`);
      }),
    );
  const layouts = ['vlalab', ...EXTERNAL_LAYOUTS].join(', ');
  cmd
    .command('convert')
    .description(`a chunk and its mask between unified layouts (${layouts}); input {"chunk": [[...], ...], "mask": [...]}`)
    .requiredOption('--from <layout>', `layout of the input: ${layouts}`)
    .requiredOption('--to <layout>', `layout of the output: ${layouts}`)
    .requiredOption('--input <file>', 'JSON file with the chunk (rows of the --from width) and its mask')
    .option('--json', 'print JSON {"from", "to", "chunk", "mask"} instead of a summary')
    .action(
      action((opts: { from: string; to: string; input: string; json?: boolean }) => {
        const input = parse(convertInput, readJsonFile(opts.input), opts.input);
        const r = convertChunk(opts.from, opts.to, input.chunk, input.mask);
        const chunk = r.chunk.map((row) => Array.from(row));
        if (opts.json) return printJson({ from: opts.from, to: opts.to, chunk, mask: Array.from(r.mask) });
        const used = [...r.mask.keys()].filter((i) => r.mask[i]);
        process.stdout.write(`${opts.to} chunk [${chunk.length} x ${r.mask.length}], dims used: ${usedDims(r.mask)}\n${chunk.map((row) => fmt(used.map((i) => row[i]))).join('\n')}\n`);
      }),
    );
  cmd
    .command('decode')
    .description('actions -> absolute target poses; input {"start": [x,y,z,qw,qx,qy,qz], "actions": [[dx,dy,dz,rx,ry,rz], ...]}')
    .requiredOption('--mode <mode>', modeHelp)
    .requiredOption('--input <file>', 'JSON file with the chunk start pose and actions')
    .option('--json', 'print JSON {"start", "targets"} instead of a table')
    .action(
      action((opts: { mode: string; input: string; json?: boolean }) => {
        const mode = parseEefMode(opts.mode);
        const input = parse(decodeInput, readJsonFile(opts.input), opts.input);
        const start = parsePose(input.start, 'start');
        const actions = input.actions.map((a, i) => parseAction(a, `actions[${i}]`));
        const targets = decodePoses(mode, start, actions).map((p) => Array.from(posQuatFromPose(p)));
        if (opts.json) return printJson({ start: input.start, targets });
        process.stdout.write(`${mode} targets [x y z qw qx qy qz]:\n${targets.map(fmt).join('\n')}\n`);
      }),
    );
}
