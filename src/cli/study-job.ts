/**
 * One training or evaluation of a study in its own process (`vlalab study run --jobs N` starts one
 * per job): `node study-job.ts JOB.json`, where JOB.json is a StudyJob plus `result`, the file an
 * evaluation's rows are written to. The job ends itself when the study's process goes away (a
 * killed study must not leave trainings writing into its directory); a rerun resumes it.
 */
import '../model/index.ts'; // the array library's entry (thread pool, kernel memo) first
import { readFileSync } from 'node:fs';
import { initBackend } from '../model/index.ts';
import { writeFileAtomic } from '../util/index.ts';
import { localStudyBackend, type StudyJob } from './study.ts';

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(129);
}, 500).unref();

const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as StudyJob & { result: string };
await initBackend();
const backend = localStudyBackend({ quiet: true });
if (job.kind === 'train') await backend.train(job.request);
else writeFileAtomic(job.result, JSON.stringify(await backend.evaluate(job.request)));
