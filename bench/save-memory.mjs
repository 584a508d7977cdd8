// Benchmark (not a test): the memory a pupil's browser needs to save a big course for offline. A copy of
// the sample course gets one large video of random (incompressible) bytes, is packed with the real
// `cartable pack` and served by `cartable serve`; one headless Chromium page presses "save for offline",
// and the page's JavaScript heap, the app's wasm memory and the resident memory of each of the browser's
// processes are sampled until the course is saved. A peak near the course's size means saving holds the
// course in memory; a flat one means it streams chunk by chunk. Low-end Chromebooks have 4 GB in all.
// The same chunks stored from a few lines of plain JavaScript in another Chromium give the floor: what
// Chromium itself costs for fetching and keeping that many bytes in IndexedDB.
//
// Called by bench/report.mjs (./scripts/bench.sh); not run on its own.
import { appendFileSync, closeSync, cpSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { launch, packSample, root, scratch, serve } from '../tests/e2e/harness.mjs';
import { machine, progress, withCleanups } from './machine.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const VIDEO = 'video/cours-complet.webm';
const BLANK_PAGE = 'bench-blank.html';

/**
 * A copy of the sample course in `dir/source` whose first lesson links a video of `bytes` random bytes
 * (random so that no layer can compress it away). Returns the folder.
 */
function bigCourse(dir, bytes) {
  const source = join(dir, 'source');
  cpSync(join(root, 'sample/physique-3e'), source, { recursive: true });
  const video = join(source, VIDEO);
  mkdirSync(dirname(video));
  const fd = openSync(video, 'w');
  try {
    for (let written = 0; written < bytes; written += 1 << 20) writeSync(fd, randomBytes(Math.min(1 << 20, bytes - written)));
  } finally {
    closeSync(fd);
  }
  appendFileSync(join(source, 'lessons/01-tension-et-intensite.md'), `\n[Le cours filmé](../${VIDEO})\n`);
  return source;
}

/**
 * Memory of process `pid` in bytes from /proc: `rss` (resident) and `pss` (resident, each shared page
 * divided among the processes sharing it, so that the processes' figures add up); null once it exited.
 */
function processMemory(pid) {
  const field = (text, name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm'))?.[1] ?? NaN) * 1024;
  try {
    const rss = field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
    const pss = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    return Number.isNaN(rss) ? null : { rss, pss: Number.isNaN(pss) ? null : pss };
  } catch {
    return null;
  }
}

/**
 * One sample: the page's JS heap (used, total), the app's wasm memory, and the memory of the browser's
 * processes by type (RSS and PSS; for renderers also the largest RSS and their number), read through the
 * DevTools protocol and /proc.
 */
async function sample(page, pageCdp, browserCdp, started) {
  const { metrics } = await pageCdp.send('Performance.getMetrics');
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? null;
  const wasm = await page.evaluate(() => window.__benchApp?.memory.buffer.byteLength ?? null).catch(() => null);
  // Which processes are this browser's: DevTools knows; without it, no process memory (said in the report).
  let processInfo = [], processError = null;
  try {
    ({ processInfo } = await browserCdp.send('SystemInfo.getProcessInfo'));
  } catch (error) {
    processError = `DevTools SystemInfo.getProcessInfo failed: ${error.message.split('\n')[0]}`;
  }
  const rss = {}, pss = {};
  let largestRenderer = 0, renderers = 0;
  for (const { type, id } of processInfo) {
    const memory = processMemory(id);
    if (memory === null) continue;
    rss[type] = (rss[type] ?? 0) + memory.rss;
    pss[type] = (pss[type] ?? 0) + (memory.pss ?? 0);
    if (type === 'renderer') [largestRenderer, renderers] = [Math.max(largestRenderer, memory.rss), renderers + 1];
  }
  const sum = (byType) => Object.values(byType).reduce((total, bytes) => total + bytes, 0);
  const known = processError === null;
  return { at_ms: Date.now() - started, js_heap_used: metric('JSHeapUsedSize'), js_heap_total: metric('JSHeapTotalSize'),
    wasm_memory: wasm, renderers, rss_largest_renderer: known ? largestRenderer : null, rss_by_type: rss, pss_by_type: pss,
    pss_all_processes: known ? sum(pss) : null, process_error: processError };
}

/**
 * Samples every `intervalMs` (each sample waits for the previous one) until `stop()` is called; resolves
 * to the samples. A sample that fails ends the sampling with that error.
 */
function sampler(take, intervalMs) {
  const samples = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const next = Date.now() + intervalMs;
      samples.push(await take());
      await new Promise((done) => setTimeout(done, Math.max(0, next - Date.now())));
    }
    return samples;
  })();
  return { samples, stop: () => { stopped = true; return running; } };
}

/** The largest of `pick` over `samples`, or null when no sample had it. */
function peak(samples, pick) {
  const values = samples.map(pick).filter((value) => value !== null && value !== undefined);
  return values.length ? Math.max(...values) : null;
}

/** The peaks of `samples` and the largest gap between two of them. */
function peaks(samples) {
  const gaps = samples.slice(1).map((s, i) => s.at_ms - samples[i].at_ms);
  return {
    js_heap_used: peak(samples, (s) => s.js_heap_used),
    js_heap_total: peak(samples, (s) => s.js_heap_total),
    wasm_memory: peak(samples, (s) => s.wasm_memory),
    rss_largest_renderer: peak(samples, (s) => s.rss_largest_renderer),
    pss_renderers: peak(samples, (s) => s.pss_by_type.renderer),
    rss_browser: peak(samples, (s) => s.rss_by_type.browser),
    pss_all_processes: peak(samples, (s) => s.pss_all_processes),
    renderers: peak(samples, (s) => s.renderers),
    samples: samples.length,
    largest_gap_ms: gaps.length ? Math.max(...gaps) : null,
  };
}

/**
 * A page of a new headless Chromium with the DevTools sessions sampling needs, recording page errors,
 * and the machine as it starts.
 */
async function watchedPage(t) {
  const browser = await launch(t);
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  const pageCdp = await page.context().newCDPSession(page);
  await pageCdp.send('Performance.enable');
  const browserCdp = await browser.newBrowserCDPSession();
  return { browser, page, pageCdp, browserCdp, where: machine(browser) };
}

/**
 * Runs `act()` while sampling the memory of `watched` every `intervalMs`. Returns the sample before, the
 * samples during, the peaks, one sample 2 s after with the page's garbage collected (was the growth
 * garbage, or is it still held?), the seconds `act` took and, when it threw, why in `failure`.
 */
async function sampleWhile({ page, pageCdp, browserCdp }, intervalMs, act) {
  const started = Date.now();
  const take = () => sample(page, pageCdp, browserCdp, started);
  const before = await take();
  const sampling = sampler(take, intervalMs);
  let failure = null;
  const acting = Date.now();
  try {
    await act();
  } catch (error) {
    const text = await page.locator('body').innerText({ timeout: 5_000 }).catch(() => '(unreadable)');
    failure = `${error.message.split('\n')[0]}; page text: ${text.slice(-400)}`;
  }
  const seconds = (Date.now() - acting) / 1000;
  const samples = await sampling.stop();
  if (page.errors.length) failure = `${failure ? `${failure}; ` : ''}error in the page: ${page.errors.join('; ')}`;
  await new Promise((done) => setTimeout(done, 2000));
  await pageCdp.send('HeapProfiler.collectGarbage');
  return { seconds, failure, before, peaks: peaks(samples), after_gc: await take(), samples };
}

/** The app's page at `url` saving its course for offline; null `failure` when the course was saved. */
async function appSaving(t, url, { intervalMs, timeoutMs }) {
  const watched = await watchedPage(t);
  const { page } = watched;
  await page.goto(url);
  const button = page.getByRole('button', { name: SAVE_BUTTON });
  await button.waitFor({ timeout: 60_000 })
    .catch(() => { throw new Error(`the save button never showed: ${page.errors.join('; ') || 'no error in the page'}`); });
  // The instance the page already runs (init returns it at once), to read its memory's size.
  await page.evaluate(async () => {
    window.__benchApp = await (await import(new URL('pkg/cartable.js', document.baseURI).href)).default();
  });
  const run = await sampleWhile(watched, intervalMs, async () => {
    await button.click({ timeout: 30_000 });
    await page.getByText(SAVED_TEXT).waitFor({ state: 'visible', timeout: timeoutMs })
      .catch((error) => { throw new Error(`saving did not finish: ${error.message}`); });
  });
  const stored = await page.evaluate(() => navigator.storage.estimate().then((e) => e.usage)).catch(() => null);
  return { ...run, storage_used_bytes: stored, machine: watched.where };
}

/**
 * Runs in a blank page: what saving must do at the least, in plain JavaScript: each chunk fetched, hashed
 * with WebCrypto and put in IndexedDB, one at a time.
 */
async function storeChunksPlainly(paths) {
  const db = await new Promise((opened, failed) => {
    const open = indexedDB.open('bench-floor');
    open.onupgradeneeded = () => open.result.createObjectStore('chunks');
    open.onsuccess = () => opened(open.result);
    open.onerror = () => failed(open.error);
  });
  for (const path of paths) {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    await crypto.subtle.digest('SHA-256', bytes);
    await new Promise((done, failed) => {
      const put = db.transaction('chunks', 'readwrite');
      put.objectStore('chunks').put(bytes, path);
      put.oncomplete = done;
      put.onerror = () => failed(put.error);
    });
  }
  db.close();
}

/** The floor: the same chunks stored by `storeChunksPlainly` from a blank page of the same origin. */
async function plainSaving(t, url, paths, { intervalMs, timeoutMs }) {
  const watched = await watchedPage(t);
  await watched.page.goto(url + BLANK_PAGE);
  const run = await sampleWhile(watched, intervalMs, async () => {
    const timer = new Promise((_, late) => setTimeout(() => late(new Error('storing did not finish')), timeoutMs).unref());
    await Promise.race([watched.page.evaluate(storeChunksPlainly, paths), timer]);
  });
  return { ...run, machine: watched.where };
}

/** The chunks' addresses on the origin, from the chunk requests it answered (`/…/ipfs/<cid>`). */
function chunkPaths(requests, cids) {
  const asked = requests.find((r) => r.status === 200 && r.path.includes('/ipfs/'));
  if (!asked) throw new Error('the origin served no chunk while the app saved the course');
  const prefix = asked.path.slice(0, asked.path.indexOf('/ipfs/') + '/ipfs/'.length);
  return cids.map((cid) => prefix + cid);
}

/**
 * Saves a course of the sample plus `courseMB` MB of video for offline in one headless Chromium page,
 * sampling memory every `intervalMs`; then, in a new Chromium, stores the same chunks from plain
 * JavaScript in a blank page of the same origin, the floor any app would pay. Returns for each the
 * seconds, the memory before, the peaks while saving and the memory 2 s after with the page's garbage
 * collected, every sample; the course's size, the storage the browser reports used, and the machine.
 * When saving does not finish within `timeoutMs` the result says so in `failure`, with what was measured
 * until then; other failures throw.
 */
export async function measureSaveMemory({ courseMB = 200, intervalMs = 250, timeoutMs = 600_000 } = {}) {
  return withCleanups(async (t) => {
    const dir = scratch(t);
    progress(`save memory: writing a course with ${courseMB} MB of random video`);
    const source = bigCourse(dir, courseMB * 1e6);
    const packing = Date.now();
    const course = packSample(dir, source);
    const distinct = [...new Set(course.manifest.files.flatMap((f) => f.chunks))];
    const courseBytes = distinct.reduce((sum, cid) => sum + statSync(join(course.courseDir, 'ipfs', cid)).size, 0);
    progress(`save memory: packed ${distinct.length} chunks in ${((Date.now() - packing) / 1000).toFixed(1)} s; the app saves it`);
    // The app's pages, copied so that a blank page of the same origin can be put next to them.
    const www = join(dir, 'www');
    cpSync(join(root, 'www'), www, { recursive: true });
    writeFileSync(join(www, BLANK_PAGE), '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>floor</title></head></html>');
    const origin = await serve(t, course, ['--www', www]);
    const opts = { intervalMs, timeoutMs };
    const app = await appSaving(t, origin.url, opts);
    progress(`save memory: the app ${app.failure ? 'failed' : 'saved'} after ${app.seconds.toFixed(1)} s; ` +
      'the same chunks stored from plain JavaScript');
    const plain = await plainSaving(t, origin.url, chunkPaths(origin.requests, distinct), opts);
    const failure = app.failure ?? (plain.failure && `the plain JavaScript floor: ${plain.failure}`);
    return {
      machine: app.machine,
      course_bytes: courseBytes,
      chunks: distinct.length,
      chunk_bytes: course.manifest.chunk_size,
      saved: app.failure === null,
      failure,
      save_seconds: app.seconds,
      save_mb_s: app.failure === null ? courseBytes / 1e6 / app.seconds : null,
      storage_used_bytes: app.storage_used_bytes,
      interval_ms: intervalMs,
      app,
      plain_floor: plain,
    };
  });
}
