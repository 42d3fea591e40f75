import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PolicyClient } from '../../src/serving/index.ts';
import { BIN, runCli, runCliAsync } from '../helpers/cli.ts';
import { spawn } from 'node:child_process';

describe('a run trained on several robots', () => {
  it('keeps every embodiment in policy.json; eval and serve act as the one --robot names and refuse one the run never saw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-multi-'));
    try {
      for (const robot of ['panda7', 'ur6']) {
        const r = runCli(['sim', 'record', '--robot', robot, '--task', 'pick-place', '--episodes', '1', '--out', join(dir, robot), '--json']);
        assert.equal(r.status, 0, r.stderr);
      }
      const run = join(dir, 'run');
      let r = runCli(['train', '--preset', 'debug', '--data', `${join(dir, 'panda7')},${join(dir, 'ur6')}`, '--out', run, '--steps', '2', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const latest = JSON.parse(readFileSync(join(run, 'latest.json'), 'utf8'));
      const meta = JSON.parse(readFileSync(join(run, latest.dir, 'policy.json'), 'utf8'));
      assert.equal(meta.embodiment, 'panda7');
      assert.deepEqual(meta.embodiments.map((e: { embodiment: string }) => e.embodiment), ['panda7', 'ur6']);
      assert.equal(meta.embodiments[1].norm.state.mean.length, 60, 'each embodiment keeps its own unified stats');
      assert.notDeepEqual(meta.embodiments[1].norm.state.mean, meta.embodiments[0].norm.state.mean);

      r = runCli(['eval', '--checkpoint', run, '--robot', 'ur6', '--task', 'pick-place', '--episodes', '1', '--json'], { timeoutMs: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).robot, 'ur6');
      r = runCli(['eval', '--checkpoint', run, '--robot', 'so5', '--task', 'pick-place', '--episodes', '1']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /was trained on panda7, ur6, never on "so5"/);

      // served as ur6: the metadata says so and lists both; eval through it as panda7 is refused by name
      const server = spawn(process.execPath, [BIN, 'serve', '--checkpoint', run, '--robot', 'ur6', '--port', '0'], { env: { ...process.env, FORCE_COLOR: '0' } });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          const seen = (b: Buffer) => {
            out += b.toString();
            const m = /ws:\/\/[\d.]+:\d+/.exec(out);
            if (m) resolve(m[0]);
          };
          server.stdout.on('data', seen);
          server.stderr.on('data', seen);
          server.on('close', () => reject(new Error(`serve exited: ${out}`)));
        });
        const client = await PolicyClient.connect(url, { waitMs: 5000 });
        assert.equal(client.metadata.embodiment, 'ur6');
        assert.deepEqual(client.metadata.embodiments, ['panda7', 'ur6']);
        await client.close();
        const e = await runCliAsync(['eval', '--server', url, '--robot', 'panda7', '--task', 'pick-place', '--episodes', '1']);
        assert.equal(e.status, 1);
        assert.match(e.stderr, /acts as ur6, not panda7; serve the run with `vlalab serve --checkpoint RUN --robot panda7`/);
      } finally {
        server.kill('SIGINT');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
