// Benchmark report (not a test): every figure that says whether cartable suits a class of low-end
// Chromebooks, measured in one run and written as one report, target/bench/report.json and report.md (the
// Markdown is also printed). Sections: the app's and the service worker's gzip transfer; the bytes a first
// visit takes off the origin on the wire (bench/first-visit.mjs); cold (on loopback and on a shaped 4 Mbit/s
// line) and warm offline start at 6x CPU throttle, each as a ratio to a static page of the same lesson
// (bench/offline-start.mjs); SHA-256 throughput, WebCrypto against the wasm sha2
// (bench/hash.mjs); peak memory while saving a 200 MB course (bench/save-memory.mjs); a class saving
// from each other with the origin saturated (bench/swarm.mjs).
//
//   node bench/report.mjs [--quick] [--runs N] [--course-mb MB] [--class-sizes 8,16] [--only a,b]
//                         (or ./scripts/bench.sh, which builds first)
//
// Each section records the machine and the date. Exits 0 whether or not a target is met; non-zero only
// when a measurement failed (the report then says which and why, with the other sections' figures).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../tests/e2e/harness.mjs';
import { measureHashing } from './hash.mjs';
import { machine, progress } from './machine.mjs';
import { reportMarkdown } from './report-markdown.mjs';
import { measureSaveMemory } from './save-memory.mjs';
import { measureFirstVisit } from './first-visit.mjs';
import { measureClass } from './swarm.mjs';
import { measureOfflineStart } from './offline-start.mjs';
import { measureTransfer } from './transfer.mjs';

const SECTIONS = ['transfer', 'visit', 'start', 'hash', 'memory', 'class'];
const USAGE = 'usage: node bench/report.mjs [--quick] [--runs N] [--course-mb MB] [--class-sizes 8,16] ' +
  `[--only ${SECTIONS.join(',')}]`;

function options(argv) {
  const opts = { quick: false, runs: null, courseMB: null, classSizes: [8], only: SECTIONS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => {
      const text = inline ?? argv[++i];
      if (text === undefined) throw new Error(`${flag} wants a value (try --help)`);
      return text;
    };
    if (flag === '--quick') opts.quick = true;
    else if (flag === '--runs') opts.runs = Number(value());
    else if (flag === '--course-mb') opts.courseMB = Number(value());
    else if (flag === '--class-sizes') opts.classSizes = value().split(',').map(Number);
    else if (flag === '--only') opts.only = value().split(',');
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      console.log('--quick: 2 runs of each start, 3 hashing rounds, a 50 MB course (default: 5 runs, 5 rounds, 200 MB)');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]} (try --help)`);
  }
  opts.runs ??= opts.quick ? 2 : 5;
  opts.courseMB ??= opts.quick ? 50 : 200;
  opts.hashRounds = opts.quick ? 3 : 5;
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs wants a whole number >= 1');
  if (!(opts.courseMB > 0)) throw new Error('--course-mb wants a number of megabytes > 0');
  if (!opts.classSizes.every((n) => Number.isInteger(n) && n >= 2)) throw new Error('--class-sizes wants whole numbers >= 2');
  const unknown = opts.only.filter((name) => !SECTIONS.includes(name));
  if (unknown.length) throw new Error(`--only: no section ${unknown.join(', ')} (sections: ${SECTIONS.join(', ')})`);
  return opts;
}

/** Each section's measurement, by name: a function of the options returning its figures. */
const MEASURES = {
  transfer: () => ({ machine: machine(), ...measureTransfer() }),
  visit: async () => {
    const { app_gzip_bytes: app, service_worker_gzip_bytes: worker } = measureTransfer();
    return { ...(await measureFirstVisit()), floor_gzip_bytes: app.total + worker.total };
  },
  start: (opts) => measureOfflineStart({ runs: opts.runs, rate: 6 }),
  hash: (opts) => measureHashing({ rates: [1, 6], rounds: opts.hashRounds, totalMiB: 8, chunkKiB: 256 }),
  memory: (opts) => measureSaveMemory({ courseMB: opts.courseMB }),
  class: async (opts) => {
    const classes = [];
    for (const size of opts.classSizes) classes.push(await measureClass(size));
    return { machine: classes[0].machine, classes };
  },
};

/**
 * Runs section `name`, returning `{ ok, ...figures }` or `{ ok: false, error, ...what was measured }`;
 * a failed section does not stop the others.
 */
async function runSection(name, opts) {
  const started = Date.now();
  progress(`${name}: measuring`);
  try {
    const figures = await MEASURES[name](opts);
    // A measurement that went on but could not finish (saving that never ended) reports its `failure`.
    const ok = !figures.failure;
    progress(`${name}: ${ok ? 'done' : `failed: ${figures.failure}`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return { ok, ...(ok ? {} : { error: figures.failure }), seconds: (Date.now() - started) / 1000,
      load_average_after: machine().load_average, ...figures };
  } catch (error) {
    progress(`${name}: measurement failed: ${error.message}`);
    return { ok: false, error: error.message, seconds: (Date.now() - started) / 1000, machine: machine() };
  }
}

async function main() {
  const opts = options(process.argv.slice(2));
  const bin = process.env.CARTABLE_BIN ?? join(root, 'target/debug/cartable');
  if (!existsSync(bin)) throw new Error(`the cartable binary ${bin} is missing: cargo build -p cartable-cli (or set CARTABLE_BIN)`);
  const report = { started: new Date().toISOString(), machine: machine(), options: opts, sections: {} };
  for (const name of opts.only) report.sections[name] = await runSection(name, opts);
  report.finished = new Date().toISOString();
  const markdown = reportMarkdown(report);
  const out = join(root, 'target/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(out, 'report.md'), markdown);
  console.log(markdown);
  const failed = Object.entries(report.sections).filter(([, section]) => !section.ok).map(([name]) => name);
  progress(`written to target/bench/report.json and report.md${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  if (failed.length) process.exit(1);
}

main().catch((error) => {
  console.error(`bench/report: ${error.message}`);
  process.exit(1);
});
