import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defineEmbodiment, type EmbodimentSpecInput, loadEmbodimentFile } from '../actions/index.ts';
import { UserError } from '../util/index.ts';
import {
  COMMUNITY_CAMERAS, COMMUNITY_EPISODE_TASK, COMMUNITY_LENGTHS, COMMUNITY_NAMES, COMMUNITY_RGB, COMMUNITY_TASKS, communityState,
} from './fixtures/make-community.ts';
import { checkEmbodiment, createLoader, inspectDataset, locateVideo, openDataset, parseMixture, resolveFeatureMap } from './index.ts';

const FIX = join(import.meta.dirname, 'fixtures');
const V30 = join(FIX, 'community-v30');
const V21 = join(FIX, 'community-v21');
const SPEC_FILE = join(FIX, 'acme-dexbot.json');
const SPEC = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as EmbodimentSpecInput;
const hasFfmpeg = !spawnSync(process.env.VLALAB_FFMPEG || 'ffmpeg', ['-version'], { stdio: 'ignore' }).error;
const needsFfmpeg = { skip: hasFfmpeg ? false : 'ffmpeg is not installed (apt-get install ffmpeg)' };
const tmp = mkdtempSync(join(tmpdir(), 'vlalab-community-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of `src` in a fresh folder, for tests that break it. */
function copy(src: string, name: string): string {
  const dir = join(tmp, name);
  cpSync(src, dir, { recursive: true });
  return dir;
}

/** Writes `spec` (the fixture's, changed by `edit`) to a file and returns its path. */
function specFile(name: string, edit: (s: EmbodimentSpecInput & Record<string, unknown>) => void): string {
  const s = structuredClone(SPEC) as EmbodimentSpecInput & Record<string, unknown>;
  edit(s);
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify(s));
  return file;
}

const rejectsWith = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));

describe('data info without an embodiment (community fixture)', () => {
  for (const [version, dir] of [['v3.0', V30], ['v2.1', V21]] as const) {
    it(`${version}: version, robot_type, fps, episodes, frames, tasks, features with dim names, cameras`, async () => {
      const r = await inspectDataset(dir);
      assert.equal(r.codebase_version, version);
      assert.equal(r.robot_type, 'acme_dexbot');
      assert.equal(r.fps, 15);
      assert.deepEqual(r.episodes.map((e) => e.length), COMMUNITY_LENGTHS);
      assert.equal(r.frames, 18);
      assert.deepEqual(r.tasks, COMMUNITY_TASKS);
      assert.deepEqual(r.episodes.map((e) => e.task), COMMUNITY_EPISODE_TASK.map((t) => COMMUNITY_TASKS[t]));
      const f = Object.fromEntries(r.features.map((x) => [x.key, x]));
      assert.deepEqual(f.state.names, COMMUNITY_NAMES, 'names as a list');
      assert.deepEqual(f.actions.names, COMMUNITY_NAMES, 'names as {"motors": [...]}');
      assert.deepEqual(f.state.shape, [34]);
      assert.equal(f.timestamp.names, null);
      assert.deepEqual(r.cameras.map((c) => [c.name, c.dtype, c.width, c.height]), COMMUNITY_CAMERAS.map(([n, w, h]) => [n, 'video', w, h]));
      assert.equal(r.cameras[0].codec, 'h264');
      if (hasFfmpeg) assert.deepEqual([r.cameras[1].probed?.codec, r.cameras[1].probed?.width, r.cameras[1].probed?.height], [r.cameras[1].codec, 32, 24], 'ffprobe agrees with info.json');
    });
  }

  it('v3.0: lists the missing mp4 and each one outside the template folder, with the file', async () => {
    const r = await inspectDataset(V30);
    assert.deepEqual(r.missingVideos, [{ episode: 1, camera: 'cam_left_wrist', file: 'videos/observation.images.cam_left_wrist/chunk-000/file-001.mp4' }]);
    assert.deepEqual(r.relocatedVideos.map((x) => x.found), [
      'videos/chunk-000/observation.images.cam_high/file-000.mp4',
      'videos/chunk-000/observation.images.cam_left_wrist/file-000.mp4',
      'videos/chunk-000/observation.images.cam_left_wrist/file-002.mp4',
    ]);
    assert.equal(r.problems.length, 4);
    const missing = r.problems.filter((p) => p.message.startsWith('is missing'));
    assert.deepEqual(missing.map((p) => p.file), [join(V30, 'videos/observation.images.cam_left_wrist/chunk-000/file-001.mp4')]);
    assert.match(missing[0].message, /camera cam_left_wrist for episode 1.*--skip-missing/);
    assert.ok(r.problems.filter((p) => p !== missing[0]).every((p) => /does not match info.json's video_path/.test(p.message)));
    assert.deepEqual([r.cameras[0].videoFiles, r.cameras[1].videoFiles, r.cameras[1].missing], [1, 3, 1], 'cam_high: one file for every episode');
  });

  it('a vlalab-shaped v2.1 dataset has no problems', async () => {
    assert.deepEqual((await inspectDataset(join(FIX, 'v21-so100'))).problems, []);
  });

  it('names the file of every inconsistency: totals, data files, columns, stats, info.json fields', async () => {
    const dir = copy(V30, 'broken-v30');
    const infoFile = join(dir, 'meta/info.json');
    const info = JSON.parse(readFileSync(infoFile, 'utf8'));
    Object.assign(info, { total_frames: 20, total_episodes: 4, total_tasks: 3, fps: 0 });
    info.features.velocity = { dtype: 'float32', shape: [3], names: ['a', 'b'] };
    writeFileSync(infoFile, JSON.stringify(info));
    rmSync(join(dir, 'meta/stats.json'));
    const r = await inspectDataset(dir, { probe: false });
    const at = (file: string) => r.problems.filter((p) => p.file === join(dir, file)).map((p) => p.message);
    const meta = at('meta/info.json');
    assert.ok(meta.some((m) => /total_frames is 20 but the episodes' lengths add up to 18/.test(m)), meta.join('\n'));
    assert.ok(meta.some((m) => /total_episodes is 4 but the episode index lists 3/.test(m)));
    assert.ok(meta.some((m) => /total_tasks is 3 but the task list has 2/.test(m)));
    assert.ok(meta.some((m) => /fps is 0/.test(m)));
    assert.ok(meta.some((m) => /feature "velocity" has shape \[3\] but 2 dim names/.test(m)));
    assert.deepEqual(at('data/chunk-000/file-000.parquet'), ['has no column "velocity" although info.json lists that feature']);
    assert.match(at('meta/stats.json')[0], /is missing; `vlalab data stats DIR --write` computes it/);
    rmSync(join(dir, 'data/chunk-000/file-000.parquet'));
    const r2 = await inspectDataset(dir, { probe: false });
    assert.ok(r2.problems.some((p) => p.file === join(dir, 'data/chunk-000/file-000.parquet') && /is missing \(the episode index puts 18 frames in it\)/.test(p.message)));
    const none = await inspectDataset(join(tmp, 'nowhere'));
    assert.deepEqual(none.problems, [{ file: join(tmp, 'nowhere', 'meta/info.json'), message: 'is missing; is this a LeRobot dataset directory?' }]);
  });

  it('names missing info.json fields, stats that do not fit, a camera whose mp4 differs from info.json, episodes with unknown tasks', async () => {
    const dir = copy(V30, 'broken-fields');
    const infoFile = join(dir, 'meta/info.json');
    const info = JSON.parse(readFileSync(infoFile, 'utf8'));
    delete info.robot_type;
    info.features['observation.images.cam_high'].shape = [30, 44, 3];
    info.features['observation.images.cam_left_wrist'].info['video.codec'] = 'hevc';
    writeFileSync(infoFile, JSON.stringify(info));
    const statsFile = join(dir, 'meta/stats.json');
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    stats.actions.mean = stats.actions.mean.slice(0, 30);
    writeFileSync(statsFile, JSON.stringify(stats));
    const r = await inspectDataset(dir);
    const msgs = r.problems.map((p) => `${p.file.slice(dir.length + 1)}: ${p.message}`);
    assert.ok(msgs.includes('meta/info.json: has no robot_type'), msgs.join('\n'));
    assert.ok(msgs.includes('meta/stats.json: "actions" has 30 means but the feature has 34 dims'));
    if (hasFfmpeg) {
      assert.ok(msgs.includes('videos/chunk-000/observation.images.cam_high/file-000.mp4: is 40x30 but info.json says observation.images.cam_high is 44x30'), msgs.join('\n'));
      assert.ok(msgs.some((m) => /cam_left_wrist\/file-000\.mp4: is (av1|h264) but info\.json says video\.codec hevc/.test(m)));
    }
    delete info.video_path;
    info.codebase_version = 'v1.6';
    writeFileSync(infoFile, JSON.stringify(info));
    const old = (await inspectDataset(dir, { probe: false })).problems.map((p) => p.message);
    assert.ok(old.includes('codebase_version "v1.6" is not supported (v3.0 or v2.1)'));
    assert.ok(old.includes('feature "observation.images.cam_high" is a video but info.json has no video_path template'));
  });

  it('v2.1: a data file shorter than episodes.jsonl says is reported with the file', async () => {
    const dir = copy(V21, 'broken-v21');
    const file = join(dir, 'meta/episodes.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"length":5', '"length":6'));
    const r = await inspectDataset(dir, { probe: false });
    assert.ok(r.problems.some((p) => p.file === join(dir, 'data/chunk-000/episode_000001.parquet') && p.message === 'holds 5 frames but the episode index puts 6 in it'), JSON.stringify(r.problems));
  });

  it('locateVideo: the templated file, else the one file of that name under the key (and chunk) folder', () => {
    const files = ['videos/chunk-000/observation.images.a/episode_000000.mp4', 'videos/observation.images.b/chunk-001/episode_000000.mp4'];
    assert.deepEqual(locateVideo(files[0], 'observation.images.a', files), { expected: files[0], found: files[0], relocated: false });
    assert.equal(locateVideo('videos/observation.images.a/chunk-000/episode_000000.mp4', 'observation.images.a', files).found, files[0]);
    assert.equal(locateVideo('videos/chunk-000/observation.images.b/episode_000000.mp4', 'observation.images.b', files).found, undefined, 'another chunk');
    assert.equal(locateVideo('videos/observation.images.a/chunk-000/episode_000000.mp4', 'observation.images.a', [...files, 'videos/x/observation.images.a/chunk-000/episode_000000.mp4']).found, undefined, 'two candidates are ambiguous');
  });
});

describe('embodiment spec files', () => {
  it('maps the dataset\'s own keys and dims (by name for state, by index and dim name for action)', async () => {
    const e = loadEmbodimentFile(SPEC_FILE);
    assert.equal(e.file, SPEC_FILE);
    const info = JSON.parse(readFileSync(join(V30, 'meta/info.json'), 'utf8'));
    const state = resolveFeatureMap(e, info.features, 'state', 'info.json');
    const action = resolveFeatureMap(e, info.features, 'action', 'info.json');
    assert.deepEqual(state, COMMUNITY_NAMES.map((_, dim) => ({ feature: 'state', dim })));
    assert.deepEqual(action, COMMUNITY_NAMES.map((_, dim) => ({ feature: 'actions', dim })));
    // a spec whose names are in another order than the dataset's still reads each dim by name
    const swapped = defineEmbodiment({ ...SPEC, state: [SPEC.state[2], SPEC.state[0]], action: [SPEC.action[0]] });
    const m = resolveFeatureMap(swapped, info.features, 'state', 'info.json');
    assert.deepEqual(m.slice(0, 2), [{ feature: 'state', dim: 17 }, { feature: 'state', dim: 18 }]);
    assert.deepEqual(m.slice(7, 8), [{ feature: 'state', dim: 0 }]);
  });

  it('errors name the file and the field', async () => {
    const cases: [string, (s: EmbodimentSpecInput & Record<string, unknown>) => void, RegExp][] = [
      ['slot', (s) => { (s.state[0] as Record<string, unknown>).slot = 'arm.left'; }, /embodiment spec .*slot\.json: field "state\.0\.slot": Invalid/],
      ['dims-count', (s) => { s.action[0].dims = [0, 1]; }, /field "action\.0\.dims": 2 dims for 7 names; give one dim \(index or dim name\) per name/],
      ['dim-name', (s) => { s.action[1].dims![3] = 'left_pinky'; }, /field "action\.1\.dims\.3": "left_pinky" is not a dim name of feature "actions" \(names: left_arm_joint_0/],
      ['dim-index', (s) => { s.action[0].dims![6] = 40; }, /field "action\.0\.dims\.6": dim 40 is past the end of feature "actions", which has 34 dims/],
      ['feature', (s) => { s.stateFeature = 'observation.state'; }, /field "stateFeature": the dataset has no feature "observation.state" \(its vector features: state, actions, timestamp/],
      ['binding-feature', (s) => { s.action[2].feature = 'action'; }, /field "action\.2\.feature": the dataset has no feature "action"/],
      ['overlap', (s) => { s.action[2].dims = [0, 1, 2, 3, 4, 5, 6]; }, /field "action\.2": actions\[0\] is already read by action\.0 "left_arm_joint_0"; each dataset dim fills one slot/],
      ['positional', (s) => { s.state[3].names = s.state[3].names.map((_, i) => `r${i}`).concat(['r10', 'r11']); }, /field "state\.3\.names\.10": feature "state" has only 34 dims for the names so far; give "dims"/],
      ['no-dim-names', (s) => { s.action[3] = { slot: 'aux', names: ['t'], dims: ['time'], feature: 'timestamp', control: 'aux-position' }; }, /field "action\.3\.dims\.0": feature "timestamp" has no dim names in info\.json; give dims by index \(0\.\.0\)/],
      ['camera', (s) => { s.cameras[1].name = 'cam_right_wrist'; }, /field "cameras\.1": the dataset has no camera feature "observation.images.cam_right_wrist" \(its cameras: observation.images.cam_high, observation.images.cam_left_wrist\)/],
      ['too-many', (s) => { s.state[3].names = [...(s.state[3].names), 'extra_0', 'extra_1']; }, /field "state\.3\.names\.10": "extra_0" is not a dim name of feature "state" while the binding's other names are/],
    ];
    for (const [name, edit, re] of cases) {
      // the camera check comes before any video is touched, so it needs no ffmpeg either
      await rejectsWith(openDataset(V30, { embodiment: specFile(name, edit), skipMissing: true, images: name === 'camera' ? true : false }), re).catch((err) => {
        throw new Error(`case ${name}: ${(err as Error).message}`);
      });
    }
    await rejectsWith(openDataset(V30, { embodiment: join(tmp, 'absent.json') }), /embodiment spec .*absent\.json cannot be read \(no such file\)/);
    writeFileSync(join(tmp, 'bad.json'), '{"name": ');
    await rejectsWith(openDataset(V30, { embodiment: join(tmp, 'bad.json') }), /embodiment spec .*bad\.json is not valid JSON/);
  });

  it('a mixture entry\'s embodiment may be a spec file, relative to the mixture', async () => {
    const m = parseMixture({ datasets: [{ path: 'community-v30', embodiment: 'acme-dexbot.json' }, { path: 'v21-so100', embodiment: 'so5' }] }, join(FIX, 'mix.json'));
    assert.deepEqual(m.datasets.map((d) => d.embodiment), [SPEC_FILE, 'so5']);
    const ds = await openDataset(m.datasets[0].path, { embodiment: m.datasets[0].embodiment, images: false });
    assert.equal(ds.embodiment.name, 'acme_dexbot');
  });

  it('without an embodiment, an unknown robot_type says how to map it', async () => {
    await rejectsWith(openDataset(V30), /robot_type "acme_dexbot" is not a registered embodiment; pass --embodiment NAME or a spec file --embodiment FILE\.json/);
    await rejectsWith(openDataset(V30, { embodiment: 'bimanual6' }), /features has no "observation.state" \(its vector features: state, actions, .*\); map the dataset's own keys with an embodiment spec file/);
  });

  it('embodiments check: slot map, masks, per-slot ranges, dims left unread, unit warnings', async () => {
    const c = await checkEmbodiment(loadEmbodimentFile(SPEC_FILE), V30);
    assert.deepEqual([c.episodes, c.frames], [3, 18], 'no video is needed to check the mapping');
    assert.deepEqual(c.state.map((s) => [s.slot, s.unified]), [['joint.left', [19, 26]], ['hand.left', [40, 50]], ['joint.right', [12, 19]], ['hand.right', [28, 38]]]);
    assert.deepEqual(c.action[1].columns, Array.from({ length: 10 }, (_, i) => `actions[${7 + i}]`));
    // ranges: state[d] = ep + 0.1 t + 0.01 d over episodes 0..2 (lengths 6, 5, 7)
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-5;
    assert.ok(near(c.state[2].min[0], communityState(0, 0, 17)) && near(c.state[2].max[0], communityState(2, 6, 17)), `${c.state[2].min[0]} ${c.state[2].max[0]}`);
    assert.ok(near(c.action[0].max[6], communityState(2, 6, 6) + 0.05));
    assert.equal(c.stateMask.reduce((a, b) => a + b, 0), 34);
    assert.deepEqual(c.unmapped, { state: [], action: [] });
    assert.deepEqual(c.warnings, []);
    // a spec that leaves the hands out and reads a finger joint (up to 2.8 rad) into a gripper slot
    const partial = specFile('partial', (s) => {
      s.state = [s.state[0], s.state[2]];
      s.action = [s.action[0], { slot: 'gripper.left', names: ['left_hand_joint_9'], dims: [16], control: 'gripper-position' }];
    });
    const p = await checkEmbodiment(loadEmbodimentFile(partial), V30);
    assert.equal(p.unmapped.state.length, 20);
    assert.equal(p.unmapped.state[0], 'state[7] left_hand_joint_0');
    assert.match(p.warnings.join('\n'), /action gripper.left \(actions\[16\]\) spans \[0\.210, 2\.810\]; gripper slots are 0 closed \.\. 1 open/);
  });
});

describe('reading and training on the community fixture', needsFfmpeg, () => {
  for (const [version, dir] of [['v3.0', V30], ['v2.1', V21]] as const) {
    it(`${version}: without --skip-missing, one line naming the missing file; with it, episode 1 is left out and the rest reads right`, async () => {
      const missing = version === 'v3.0' ? 'videos/observation.images.cam_left_wrist/chunk-000/file-001.mp4' : 'videos/chunk-000/observation.images.cam_left_wrist/episode_000001.mp4';
      await rejectsWith(openDataset(dir, { embodiment: SPEC_FILE }), new RegExp(`video file ${missing} missing \\(episode 1\\); re-download, or pass --skip-missing`));
      const ds = await openDataset(dir, { embodiment: SPEC_FILE, skipMissing: true });
      assert.deepEqual(ds.skipped, [{ episode: 1, files: [missing] }]);
      assert.deepEqual(ds.episodes.map((e) => [e.index, e.from, e.to]), [[0, 0, 6], [2, 6, 13]]);
      assert.deepEqual(ds.cameras, ['cam_high', 'cam_left_wrist']);
      assert.equal(ds.imageSize, 30, 'the first camera (40x30) sets the square side; the other is scaled to it');
      // frame 8 is episode 2, t = 2: state and action by the fixture's formulas, in the spec's native order
      const f = 8;
      assert.ok(Math.abs(ds.state[f * 34 + 17] - communityState(2, 2, 17)) < 1e-6, 'native dim 17 is joint.right[0] = state[17]');
      assert.ok(Math.abs(ds.action[f * 34 + 7] - (communityState(2, 2, 7) + 0.05)) < 1e-6);
      for (const [c, cam] of ['cam_high', 'cam_left_wrist'].entries()) {
        const img = ds.image(cam, f);
        assert.equal(img.length, 30 * 30 * 3);
        const want = COMMUNITY_RGB(c, 2, 2);
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(img[3 * 400 + k] - want[k]) <= 6, `${cam} channel ${k}: ${img[3 * 400 + k]} vs ${want[k]}`);
      }
      if (version === 'v2.1') {
        const bare = copy(dir, 'no-videos');
        rmSync(join(bare, 'videos'), { recursive: true });
        await rejectsWith(openDataset(bare, { embodiment: SPEC_FILE, skipMissing: true }), /every episode misses a video file \(.*\); nothing is left to read/);
      }
      const loader = createLoader([ds], { horizon: 4, mode: 'absolute', normMode: 'quantile', batchSize: 4, seed: 0, maxViews: 2, imageSize: 16, maxTokens: 16 });
      const b = await loader.batchAt(0);
      assert.deepEqual(b.images.shape, [4, 2, 16, 16, 3]);
      assert.equal(b.actionMask.data.slice(0, 60).reduce((a, x) => a + x, 0), 34);
    });
  }
});
