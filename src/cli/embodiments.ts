/** `vlalab embodiments`: the registered robots, their slot maps and masks. */
import type { Command } from 'commander';
import { type Embodiment, embodimentNames, getEmbodiment, SLOTS, slot, UNIFIED_DIM } from '../actions/index.ts';
import { action, printJson } from './run.ts';

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

export function register(program: Command): void {
  program
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
}
