// Benchmark (not a test): a class saves the course at once while the origin is saturated (capacity 1,
// 503 with Retry-After 2 s) and there is no mirror, with 4, 8 and 16 pupils (one browser context each,
// one Chromium). Prints, per class size: origin bytes / course size, the share of the class's bytes that
// came from classmates, the time until the last pupil had everything, and the time from page open to the
// first chunk received from a classmate (median over pupils, read from each page's sources panel).
//
//   node bench/swarm.mjs [--sizes 4,8,16]      (or ./scripts/bench-swarm.sh, which builds first)
//
// `measureClass` is one class size of the same measurement, for bench/report.mjs (./scripts/bench.sh).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, packSample, scratch, serve } from '../tests/e2e/harness.mjs';
import { isMain, machine, median, progress, withCleanups } from './machine.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const TIMEOUT = 300_000;

function options(argv) {
  const opts = { sizes: [4, 8, 16] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sizes') opts.sizes = argv[++i].split(',').map(Number);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node bench/swarm.mjs [--sizes 4,8,16]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]} (try --help)`);
  }
  if (!opts.sizes.every((n) => Number.isInteger(n) && n >= 2)) throw new Error('--sizes wants whole numbers >= 2');
  return opts;
}

/** Seconds from `opened` until the page's sources panel first shows bytes received from classmates. */
async function firstFromClassmate(page, opened) {
  await page.locator('details.sources').waitFor({ timeout: TIMEOUT });
  await page.evaluate(() => { document.querySelector('details.sources').open = true; });
  const row = page.locator('details.sources li').filter({ hasText: 'Camarades' });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('details.sources li')].filter((li) => li.textContent.includes('Camarades'));
    return rows.some((li) => !/^Camarades : 0 o reçus/.test(li.textContent));
  }, null, { timeout: TIMEOUT, polling: 100 });
  await row.waitFor();
  return (Date.now() - opened) / 1000;
}

/**
 * A class of `size` pupils (one browser context each, one Chromium) saving the packed sample course at
 * once from an origin at capacity 1 (503, Retry-After 2 s) with no mirror. Returns origin bytes / course
 * size, the share of the class's bytes from classmates, seconds until the last pupil was done, the median
 * seconds to a first chunk from a classmate, and the machine; throws when a pupil never finished saving.
 */
export async function measureClass(size) {
  return withCleanups(async (t) => {
    const course = packSample(scratch(t));
    const origin = await serve(t, course, ['--max-concurrent', '1', '--retry-after', '2']);
    const browser = await launch(t);
    const where = machine(browser);
    progress(`class swarm: ${size} pupils saving the course`);
    const chunkSize = (cid) => statSync(join(course.courseDir, 'ipfs', cid)).size;
    const distinct = [...new Set(course.manifest.files.flatMap((f) => f.chunks))];
    const courseBytes = distinct.reduce((sum, cid) => sum + chunkSize(cid), 0);
    const started = Date.now();
    const firsts = [];
    await Promise.all(Array.from({ length: size }, async () => {
      const page = await (await browser.newContext()).newPage();
      const opened = Date.now();
      await page.goto(origin.url);
      const first = firstFromClassmate(page, opened).then((s) => firsts.push(s), () => {});
      await page.getByRole('button', { name: SAVE_BUTTON }).click({ timeout: TIMEOUT });
      await page.getByText(SAVED_TEXT).waitFor({ timeout: TIMEOUT });
      await Promise.race([first, page.waitForTimeout(1000)]);
    }));
    const last = (Date.now() - started) / 1000;
    // The course's chunks only: the app's (under /pkg/ipfs/) are the first-visit bench's.
    const served = origin.requests.filter((r) => r.status === 200 && r.path.startsWith('/courses/') && r.path.includes('/ipfs/'))
      .reduce((sum, r) => sum + chunkSize(r.path.split('/ipfs/')[1]), 0);
    return {
      machine: where,
      size,
      courseBytes,
      originBytes: served,
      originRatio: served / courseBytes,
      fromPeers: 1 - served / (size * courseBytes),
      lastSeconds: last,
      firstPeerSeconds: firsts.length ? median(firsts) : null,
      pupilsWithPeerBytes: firsts.length,
    };
  });
}

async function main() {
  const opts = options(process.argv.slice(2));
  console.log('cartable class swarm: the whole origin at capacity 1 (503, Retry-After 2 s), no mirror, one Chromium');
  console.log('pupils  origin bytes / course  from classmates  last pupil done  first chunk from a classmate (median)');
  for (const size of opts.sizes) {
    const r = await measureClass(size);
    const first = r.firstPeerSeconds === null ? 'none' : `${r.firstPeerSeconds.toFixed(1)} s (${r.pupilsWithPeerBytes} pupils)`;
    console.log(`${String(size).padStart(6)}  ${r.originRatio.toFixed(2).padStart(21)}  ${(100 * r.fromPeers).toFixed(0).padStart(14)} %` +
      `  ${r.lastSeconds.toFixed(1).padStart(13)} s  ${first}`);
  }
}

if (isMain(import.meta.url)) {
  main().catch((error) => {
    console.error(`bench/swarm: measurement failed: ${error.message}`);
    process.exit(1);
  });
}
