import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';

const FIX = join(import.meta.dirname, '..', '..', 'src', 'data', 'fixtures');
const V30 = join(FIX, 'community-v30');
const V21 = join(FIX, 'community-v21');
const SPEC = join(FIX, 'acme-dexbot.json');
const hasFfmpeg = !spawnSync(process.env.VLALAB_FFMPEG || 'ffmpeg', ['-version'], { stdio: 'ignore' }).error;

describe('vlalab with a community dataset (bring your own robot)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vlalab-cli-community-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('data info describes it with no embodiment; with the spec file it shows the mapping', () => {
    const r = runCli(['data', 'info', V30, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const i = JSON.parse(r.stdout);
    assert.equal(i.embodiment, null);
    assert.deepEqual([i.codebase_version, i.robot_type, i.fps, i.episodes, i.frames], ['v3.0', 'acme_dexbot', 15, 3, 18]);
    assert.deepEqual(i.cameras, ['cam_high', 'cam_left_wrist']);
    assert.equal(i.features.actions.names.length, 34);
    assert.equal(i.features['observation.images.cam_high'].codec, 'h264');
    assert.equal(i.missing_videos.length, 1);
    const text = runCli(['data', 'info', V30, '--embodiment', SPEC]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /robot_type acme_dexbot -> embodiment acme_dexbot, 15 fps/);
    assert.match(text.stdout, /cam_left_wrist +video 32x24 .*3 mp4 files, 1 missing, 2 outside video_path's folder/);
    assert.match(text.stdout, /state left_arm_joint_0 <- state\[0\], left_arm_joint_1 <- state\[1\]/);
  });

  it('data validate lists each problem with its file and exits 1; a sound dataset exits 0', () => {
    const r = runCli(['data', 'validate', V21]);
    assert.equal(r.status, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 6);
    assert.ok(lines.some((l) => l.startsWith(join(V21, 'videos/chunk-000/observation.images.cam_left_wrist/episode_000001.mp4: is missing'))), r.stdout);
    assert.match(r.stderr, /6 problems/);
    const ok = runCli(['data', 'validate', join(FIX, 'v21-so100')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /no problems \(LeRobot v2\.1, 2 episodes, 9 frames\)/);
  });

  it('embodiments check prints the slot map, masks and value ranges; a bad spec names the field', () => {
    const r = runCli(['embodiments', 'check', SPEC, V30]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /joint\.right +12\.\.18 +state\[17\.\.23\] +right_arm_joint_0 \.\. right_arm_joint_6 +joint-position +0\.1700 +2\.8300/);
    assert.match(r.stdout, /mask \.\.\.\.\.\.\|\.\.\.\.\.\.\|#######\|#######\|\.\|\.\|##########\.\.\|##########\.\.\|\.\.\.\.\.\.\.\. +\(34 of 60 dims\)/);
    const bad = runCli(['embodiments', 'check', join(FIX, 'v21-so100', 'meta', 'info.json'), V30]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^vlalab: error: embodiment spec .*info\.json: field "name": /);
  });

  it('data convert --to v3.0 writes a v3.0 twin and says which mp4 it could not copy', () => {
    const out = join(tmp, 'converted');
    const r = runCli(['data', 'convert', V21, '--to', 'v3.0', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /LeRobot v3\.0, 3 episodes, 18 frames in 1 data file, 5 videos copied, stats computed/);
    assert.match(r.stderr, /1 video file was missing in .* and not copied: videos\/chunk-000\/observation\.images\.cam_left_wrist\/episode_000001\.mp4/);
    assert.equal(JSON.parse(readFileSync(join(out, 'meta', 'info.json'), 'utf8')).codebase_version, 'v3.0');
    const bad = runCli(['data', 'convert', V21, '--to', 'v2.1', '--out', join(tmp, 'x')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--to v2\.1: vlalab converts to v3\.0 only/);
  });

  it('actions convert moves a chunk and its mask between layouts; embodiments to-gr00t / from-gr00t round-trip the spec', () => {
    const v = new Array(60).fill(0);
    const m = new Array(60).fill(0);
    [0.1, 0.2, 0.3, 0, 0, Math.PI / 2].forEach((x, i) => { v[i] = x; m[i] = 1; });
    const input = join(tmp, 'chunk.json');
    writeFileSync(input, JSON.stringify({ chunk: [v, v], mask: m }));
    const r = runCli(['actions', 'convert', '--from', 'vlalab', '--to', 'rdt128', '--input', input, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.chunk.length, 2);
    assert.deepEqual(out.chunk[0].slice(30, 39).map((x: number) => Math.round(x * 1e9) / 1e9), [0.1, 0.2, 0.3, 0, 1, 0, -1, 0, 0]);
    const bad = runCli(['actions', 'convert', '--from', 'rdt128', '--to', 'vlalab', '--input', input]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /rdt128 vector has 60 values; it needs 128/);
    const modality = join(tmp, 'modality.json');
    assert.equal(runCli(['embodiments', 'to-gr00t', SPEC, '--data', V30, '--out', modality]).status, 0);
    assert.deepEqual(JSON.parse(readFileSync(modality, 'utf8')).state.joint_right, { start: 17, end: 24, original_key: 'state' });
    const back = runCli(['embodiments', 'from-gr00t', modality, '--name', 'acme2', '--fps', '15', '--out', join(tmp, 'acme2.json')]);
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /state 34 dims in joint\.left, hand\.left, joint\.right, hand\.right/);
    // the spec made back from modality.json reads the same columns into the same slots as the original
    const check = JSON.parse(runCli(['embodiments', 'check', join(tmp, 'acme2.json'), V30, '--json']).stdout);
    assert.deepEqual(check.state.map((x: { slot: string; columns: string[] }) => [x.slot, x.columns[0], x.columns.length]), [['joint.left', 'state[0]', 7], ['hand.left', 'state[7]', 10], ['joint.right', 'state[17]', 7], ['hand.right', 'state[24]', 10]]);
    assert.equal(check.actionMask.reduce((a: number, b: number) => a + b, 0), 34);
  });

  it('train --preset debug on it: one-line error naming the missing file, then a few steps with --skip-missing', { skip: hasFfmpeg ? false : 'ffmpeg is not installed' }, () => {
    const out = join(tmp, 'run');
    const args = ['train', '--preset', 'debug', '--data', V30, '--embodiment', SPEC, '--out', out, '--steps', '2', '--json'];
    const refused = runCli(args);
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.match(refused.stderr, /videos\/observation\.images\.cam_left_wrist\/chunk-000\/file-001\.mp4 missing \(episode 1\).*--skip-missing/);
    const r = runCli([...args, '--skip-missing'], { timeoutMs: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/skipping 1 episode whose video is missing: 1 /g)?.length, 1, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.steps, 2);
    assert.ok(Number.isFinite(summary.final_loss));
    const policy = JSON.parse(readFileSync(join(summary.checkpoint, 'policy.json'), 'utf8'));
    assert.equal(policy.embodiment, 'acme_dexbot');
    assert.deepEqual(policy.cameras, ['cam_high', 'cam_left_wrist']);
    assert.equal(policy.embodimentSpec.stateFeature, 'state', 'the spec travels with the checkpoint');
    assert.ok(existsSync(join(out, 'metrics.jsonl')));
    // the run's config.json keeps the spec file and --skip-missing: `--resume` alone (here extending it) reads the data as before
    const resumed = runCli(['train', '--out', out, '--resume', '--steps', '3', '--extend', '--json'], { timeoutMs: 180_000 });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /skipping 1 episode whose video is missing/);
    assert.equal(JSON.parse(resumed.stdout).steps, 3);
  });
});
