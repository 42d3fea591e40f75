/** `vlalab embodiments`: the registered robots, their slot maps and masks. */
import type { Command } from 'commander';
import { join } from 'node:path';
import {
  defineEmbodiment, type Embodiment, embodimentFromModality, embodimentNames, getEmbodiment, modalityFromEmbodiment, parseModality, resolveEmbodiment, SLOTS, slot,
  UNIFIED_DIM,
} from '../actions/index.ts';
import { checkEmbodiment, type DatasetInfo, type EmbodimentCheck, resolveFeatureMap, type SlotCheck } from '../data/index.ts';
import { writeFileAtomic } from '../util/index.ts';
import { action, printJson, readJsonFile } from './run.ts';

function describe(e: Embodiment) {
  const bindings = (which: 'state' | 'action') =>
    e.spec[which].map((b) => ({ slot: b.slot, offset: b.offset, dims: b.names.length, control: b.control, names: b.names }));
  return {
    name: e.name,
    description: e.spec.description,
    robotType: e.spec.robotType,
    fps: e.spec.fps,
    cameras: e.spec.cameras.map((c) => c.name),
    state: bindings('state'),
    action: bindings('action'),
    stateMask: Array.from(e.stateMask),
    actionMask: Array.from(e.actionMask),
  };
}

/** A row of one character per unified dim: '#' used, '.' unused, with '|' between slots. */
function maskRow(mask: Float32Array): string {
  return SLOTS.map((s) => Array.from(mask.subarray(s.offset, s.offset + s.dims), (m) => (m ? '#' : '.')).join('')).join('|');
}

/** "state[0..6]" for consecutive columns of one feature, else the columns listed. */
function columnsText(cols: string[]): string {
  const parsed = cols.map((c) => /^(.*)\[(\d+)\]$/.exec(c)!);
  const same = parsed.every((m) => m[1] === parsed[0][1]);
  const run = same && parsed.every((m, i) => Number(m[2]) === Number(parsed[0][2]) + i);
  if (run && cols.length > 1) return `${parsed[0][1]}[${parsed[0][2]}..${parsed[parsed.length - 1][2]}]`;
  return same ? `${parsed[0][1]}[${parsed.map((m) => m[2]).join(',')}]` : cols.join(' ');
}

/** The text report of `vlalab embodiments check`. */
export function formatCheck(c: EmbodimentCheck): string {
  const lines = [`${c.embodiment}${c.file ? ` (${c.file})` : ''} on ${c.dataset}: ${c.episodes} episodes, ${c.frames} frames`];
  const table = (which: 'state' | 'action', rows: SlotCheck[], mask: number[]) => {
    lines.push(`${which}:`, `  ${'slot'.padEnd(18)} ${'unified'.padEnd(8)} ${'<- dataset'.padEnd(22)} ${'names'.padEnd(40)} ${'control'.padEnd(16)} ${'min'.padStart(9)} ${'max'.padStart(9)}`);
    for (const r of rows) {
      const s = slot(r.slot);
      const part = r.unified[1] - r.unified[0] < s.dims || r.unified[0] > s.offset ? `${r.slot}[${r.unified[0] - s.offset}:${r.unified[1] - s.offset}]` : r.slot;
      const names = r.names.length > 2 ? `${r.names[0]} .. ${r.names[r.names.length - 1]}` : r.names.join(', ');
      lines.push(`  ${part.padEnd(18)} ${`${r.unified[0]}..${r.unified[1] - 1}`.padEnd(8)} ${columnsText(r.columns).padEnd(22)} ${names.padEnd(40)} ${r.control.padEnd(16)} ${Math.min(...r.min).toFixed(4).padStart(9)} ${Math.max(...r.max).toFixed(4).padStart(9)}`);
    }
    lines.push(`  mask ${maskRow(Float32Array.from(mask))}  (${mask.reduce((a, b) => a + b, 0)} of ${UNIFIED_DIM} dims)`);
  };
  table('state', c.state, c.stateMask);
  table('action', c.action, c.actionMask);
  lines.push(`cameras: ${c.cameras.map((x) => `${x.name} <- ${x.feature} (${x.dtype} ${x.width}x${x.height})`).join(', ') || 'none'}; each is resized to the model's image size`);
  for (const which of ['state', 'action'] as const) {
    const u = c.unmapped[which];
    if (u.length) lines.push(`${which} dims read by no slot (${u.length}): ${u.slice(0, 6).join(', ')}${u.length > 6 ? ', ...' : ''}`);
  }
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  const cmd = program
    .command('embodiments')
    .description('list the registered embodiments with their slot maps and masks')
    .option('--json', 'print JSON instead of a table')
    .action(
      action((opts: { json?: boolean }) => {
        const all = embodimentNames().map(getEmbodiment);
        if (opts.json) return printJson({ unifiedDim: UNIFIED_DIM, slots: SLOTS, embodiments: all.map(describe) });
        const lines = [`unified layout (${UNIFIED_DIM} dims): ${SLOTS.map((s) => `${s.name}:${s.dims}`).join(' ')}`, ''];
        for (const e of all) {
          lines.push(`${e.name}  (${e.spec.robotType}, ${e.spec.fps} Hz, cameras: ${e.spec.cameras.map((c) => c.name).join(', ')})`);
          lines.push(`  ${e.spec.description}`);
          for (const which of ['state', 'action'] as const) {
            const slots = e.spec[which].map((b) => `${b.slot}${b.names.length < slot(b.slot).dims || b.offset ? `[${b.offset}:${b.offset + b.names.length}]` : ''} (${b.control})`);
            lines.push(`  ${which.padEnd(6)} ${slots.join(', ')}`);
            lines.push(`  ${''.padEnd(6)} ${maskRow(which === 'state' ? e.stateMask : e.actionMask)}`);
          }
          lines.push('');
        }
        process.stdout.write(`${lines.join('\n')}`);
      }),
    );
  cmd
    .command('check')
    .argument('<spec>', 'embodiment spec file (JSON, the registry\'s schema) or a registered name')
    .argument('<dir>', 'LeRobot dataset directory')
    .description('apply an embodiment to a dataset: the slot map, masks, per-slot value ranges and what looks wrong')
    .option('--json', 'print JSON')
    .action(
      action(async (spec: string, dir: string, o: { json?: boolean }, self: Command) => {
        const c = await checkEmbodiment(resolveEmbodiment(spec), dir);
        // `embodiments` has a --json of its own, which takes the flag first
        if (o.json || self.parent?.opts().json) return printJson(c);
        process.stdout.write(formatCheck(c));
      }),
    );
  cmd
    .command('to-gr00t')
    .argument('<spec>', 'embodiment spec file or registered name')
    .description('write the GR00T meta/modality.json of an embodiment (slices of observation.state and action, video keys)')
    .option('--data <dir>', 'a dataset the spec reads, for the positions of its own columns')
    .option('--out <file>', 'write it here instead of printing it')
    .action(
      action((spec: string, o: { data?: string; out?: string }) => {
        const e = resolveEmbodiment(spec);
        let columns;
        if (o.data) {
          const infoFile = join(o.data, 'meta', 'info.json');
          const info = readJsonFile(infoFile) as DatasetInfo;
          columns = { state: resolveFeatureMap(e, info.features ?? {}, 'state', infoFile), action: resolveFeatureMap(e, info.features ?? {}, 'action', infoFile) };
        }
        const text = JSON.stringify(modalityFromEmbodiment(e, columns), null, 4) + '\n';
        if (o.out) writeFileAtomic(o.out, text);
        else process.stdout.write(text);
      }),
    );
  cmd
    .command('from-gr00t')
    .argument('<modality>', "a GR00T dataset's meta/modality.json")
    .description('an embodiment spec file from a GR00T modality.json (slots placed by slice names; check it with `embodiments check`)')
    .requiredOption('--name <name>', 'name of the new embodiment (a-z, 0-9, _ and -)')
    .option('--robot-type <type>', 'its LeRobot robot_type (default: the name)')
    .option('--fps <n>', 'control rate in Hz', '30')
    .requiredOption('--out <file>', 'spec file to write')
    .action(
      action((file: string, o: { name: string; robotType?: string; fps: string; out: string }) => {
        const r = embodimentFromModality(parseModality(readJsonFile(file), file), { name: o.name, robotType: o.robotType, fps: Number(o.fps) });
        defineEmbodiment(r.spec, `the spec made from ${file}`); // refuse to write one that would not load
        writeFileAtomic(o.out, JSON.stringify(r.spec, null, 2) + '\n');
        const e = defineEmbodiment(r.spec);
        process.stdout.write(`${o.out}: embodiment ${o.name}, state ${e.stateNames.length} dims in ${e.spec.state.map((b) => b.slot).join(', ')}; action ${e.actionNames.length} dims in ${e.spec.action.map((b) => b.slot).join(', ')}\n`);
        for (const u of r.unmapped) process.stdout.write(`not placed: ${u}\n`);
        for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
      }),
    );
}
