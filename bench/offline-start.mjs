// Benchmark (not a test): how fast a pupil sees a lesson, on a slow machine, online from nothing and offline
// from the service worker's copy; and how many bytes the app and its worker weigh gzipped.
//
//   node bench/offline-start.mjs [--runs N] [--rate R]     (or ./scripts/bench-offline.sh, which builds first)
//
// `measureOfflineStart` is the same measurement for bench/report.mjs (./scripts/bench.sh).
//
// Chromium's CPU is throttled R times (default 6) through the DevTools protocol. Each timing is read from the
// page's own clock, from the navigation's start to the moment the lesson's text is first painted (Element
// Timing's render time). Warm offline starts are measured in a new tab (the worker kept running, then
// stopped first) and by reloading an open tab; a new tab has a cost of its own before any of the page's
// work, so the same lesson as a static page with no script (served by the same origin, no worker) is
// measured too, as the floor. Prints a table, writes the same figures to target/bench/offline-start.json,
// and exits 0 whether or not a target is met; non-zero only when a measurement failed (an error in the
// page, a timeout, a run that was not really offline).
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { launch, packSample, root, scratch, serve } from '../tests/e2e/harness.mjs';
import { isMain, machine, median, progress, withCleanups } from './machine.mjs';
import { measureTransfer, TARGET_WORKER_BYTES } from './transfer.mjs';

const LESSON = '#/lecon/1';
const LESSON_TEXT = 'Pendant la fermeture du collège';
const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const OFFLINE_BANNER = /^Hors ligne : copie du /;
const TIMEOUT = 60_000;
const TARGET_OFFLINE_MS = 500;

function options(argv) {
  const opts = { runs: 5, rate: 6 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--runs') opts.runs = value();
    else if (flag === '--rate') opts.rate = value();
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node bench/offline-start.mjs [--runs N (default 5)] [--rate CPU_THROTTLE (default 6)]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]} (try --help)`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs wants a whole number >= 1');
  if (!(opts.rate >= 1)) throw new Error('--rate wants a number >= 1');
  return opts;
}

// Runs in the page before its scripts: marks each block of text of a lesson for Element Timing as it is
// inserted (before it can be painted), and notes the earliest paint of a block holding `text`. Marking
// forces no layout, so that watching does not slow down what it measures on a throttled CPU.
function watchForLesson(text) {
  new MutationObserver(() => {
    for (const block of document.querySelectorAll('article.lesson-body > :not([elementtiming])')) {
      block.setAttribute('elementtiming', block.textContent.includes(text) ? 'lesson-text' : 'lesson');
    }
  }).observe(document, { childList: true, subtree: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.identifier === 'lesson-text' && entry.renderTime > 0) {
        window.__benchLessonAt = Math.min(window.__benchLessonAt ?? Infinity, entry.renderTime);
      }
    }
  }).observe({ type: 'element', buffered: true });
}

/** A new page in `context`, CPU throttled, recording uncaught errors; the lesson watcher installed. */
async function throttledPage(context, rate) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.addInitScript(watchForLesson, LESSON_TEXT);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  page.cdp = cdp;
  return page;
}

/**
 * Navigates `page` to the lesson (or reloads it, with `reload`) and returns milliseconds from navigation
 * start to the lesson text painted.
 */
async function timeLesson(page, url, what, { reload = false } = {}) {
  try {
    if (reload) await page.reload({ timeout: TIMEOUT });
    else await page.goto(url, { timeout: TIMEOUT });
    await page.getByText(LESSON_TEXT).waitFor({ state: 'visible', timeout: TIMEOUT });
    const handle = await page.waitForFunction(() => window.__benchLessonAt, null, { timeout: TIMEOUT });
    const ms = await handle.jsonValue();
    if (page.errors.length) throw new Error(`error in the page: ${page.errors.join('; ')}`);
    return Math.round(ms * 10) / 10;
  } catch (error) {
    const body = await page.locator('body').innerText({ timeout: 5_000 }).catch(() => '(unreadable)');
    throw new Error(`${what}: ${error.message.split('\n')[0]}\n  page text: ${body.slice(0, 400)}`);
  }
}

/** Stops every service worker of the browser and waits until DevTools reports them all stopped. */
async function stopWorkers(cdp, what) {
  const status = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) status.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  const deadline = Date.now() + 10_000;
  while ([...status.values()].some((s) => s !== 'stopped') || status.size === 0) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: the service worker did not stop (${JSON.stringify([...status])})`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  await cdp.send('ServiceWorker.disable');
}

async function coldOnline(browser, url, opts) {
  const values = [];
  for (let run = 1; run <= opts.runs; run++) {
    const context = await browser.newContext();
    try {
      const page = await throttledPage(context, opts.rate);
      values.push(await timeLesson(page, url + LESSON, `cold online start, run ${run}`));
    } finally {
      await context.close();
    }
  }
  return values;
}

async function warmOffline(browser, url, www, opts) {
  const context = await browser.newContext();
  try {
    // Online, unthrottled: let the worker take control, then save the course for offline.
    const setup = await context.newPage();
    setup.errors = [];
    setup.on('pageerror', (error) => setup.errors.push(error.message));
    await setup.goto(url, { timeout: TIMEOUT });
    await setup.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT })
      .catch(() => { throw new Error('warm offline start: no service worker took control of the page online'); });
    await setup.getByRole('button', { name: SAVE_BUTTON }).click({ timeout: TIMEOUT });
    await setup.getByText(SAVED_TEXT).waitFor({ state: 'visible', timeout: TIMEOUT })
      .catch(() => { throw new Error(`warm offline start: "${SAVED_TEXT}" never appeared after saving`); });
    if (setup.errors.length) throw new Error(`warm offline start, setup: error in the page: ${setup.errors.join('; ')}`);
    // The floor: the same lesson as a static page (its text and the app's stylesheet, no script, no
    // worker), opened in a new tab of another context at the same moments as the warm starts.
    await setup.goto(url + LESSON, { timeout: TIMEOUT });
    const lesson = await setup.locator('article.lesson-body').evaluate((article) => {
      const copy = article.cloneNode(true);
      for (const picture of copy.querySelectorAll('img')) picture.remove(); // blob: addresses of that page
      return copy.outerHTML;
    });
    writeFileSync(join(www, 'bench-static-lesson.html'), '<!doctype html><html lang="fr"><head><meta charset="utf-8">' +
      '<title>cartable</title><link rel="stylesheet" href="style.css"></head><body>' + lesson + '</body></html>');
    await setup.close();
    const plain = await browser.newContext();

    await context.setOffline(true);
    const kept = [], restarted = [], reloaded = [], floor = [];
    const check = async (page, what) => {
      const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
      if (!controlled) throw new Error(`${what}: the page was not served by the service worker`);
      await page.getByText(OFFLINE_BANNER).waitFor({ state: 'visible', timeout: 10_000 })
        .catch(() => { throw new Error(`${what}: the lesson showed but the "Hors ligne" banner did not`); });
    };
    for (let run = 1; run <= opts.runs; run++) {
      for (const [values, stopWorker] of [[kept, false], [restarted, true]]) {
        const what = `warm offline start, new tab${stopWorker ? ', worker stopped first' : ''}, run ${run}`;
        const page = await throttledPage(context, opts.rate);
        if (stopWorker) await stopWorkers(page.cdp, what);
        values.push(await timeLesson(page, url + LESSON, what));
        await check(page, what);
        await page.close();
      }
      const page = await throttledPage(plain, opts.rate);
      floor.push(await timeLesson(page, url + 'bench-static-lesson.html', `static page, run ${run}`));
      await page.close();
    }
    await plain.close();
    // Then in one open tab (opened once, not measured), reloaded: no new tab to set up each time.
    const open = await throttledPage(context, opts.rate);
    await timeLesson(open, url + LESSON, 'warm offline start, opening the tab to reload');
    for (let run = 1; run <= opts.runs; run++) {
      const what = `warm offline start, reloading an open tab, run ${run}`;
      reloaded.push(await timeLesson(open, url + LESSON, what, { reload: true }));
      await check(open, what);
    }
    return { kept, restarted, reloaded, floor };
  } finally {
    await context.close();
  }
}

const kb = (bytes) => (bytes / 1000).toFixed(1);
const ms = (value) => Math.round(value);
const list = (values) => `[${values.map(ms).join(', ')}]`;

/**
 * Measures the cold online and warm offline starts (`runs` each, CPU throttled `rate` times) in a Chromium
 * of its own against the packed sample course, and the app's and worker's gzip transfer. Returns the
 * figures, the targets and the machine; throws when a measurement failed.
 */
export async function measureOfflineStart({ runs = 5, rate = 6 } = {}) {
  const opts = { runs, rate };
  for (const file of ['pkg/cartable_bg.wasm', 'pkg/cartable_sw_bg.wasm', 'pkg/shell.json']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: build the app first (source scripts/setup.sh)`);
  }
  const { app_gzip_bytes: app, service_worker_gzip_bytes: worker } = measureTransfer();
  const loadBefore = loadavg()[0];
  const { cold, warm, where } = await withCleanups(async (t) => {
    const dir = scratch(t);
    const course = packSample(dir);
    // The app's pages, copied so that the static page of the floor can be put next to them.
    const www = join(dir, 'www');
    cpSync(join(root, 'www'), www, { recursive: true });
    const { url } = await serve(t, course, ['--www', www]);
    const browser = await launch(t);
    const where = machine(browser);
    progress(`offline start: ${runs} cold online starts, CPU throttled ${rate}x`);
    const cold = await coldOnline(browser, url, opts);
    progress(`offline start: ${runs} warm offline starts of each kind`);
    const warm = await warmOffline(browser, url, www, opts);
    return { cold, warm, where };
  });

  const warmMedian = median(warm.kept);
  return {
    machine: where,
    cpu_throttle: rate,
    runs,
    load_average_1min: { before: loadBefore, after: loadavg()[0] },
    cold_online_ms: { median: median(cold), values: cold },
    warm_offline_ms: { median: warmMedian, values: warm.kept },
    warm_offline_worker_stopped_ms: { median: median(warm.restarted), values: warm.restarted },
    warm_offline_reload_ms: { median: median(warm.reloaded), values: warm.reloaded },
    static_page_new_tab_ms: { median: median(warm.floor), values: warm.floor },
    service_worker_gzip_bytes: worker,
    app_gzip_bytes: app,
    targets: {
      warm_offline_ms_max: TARGET_OFFLINE_MS,
      warm_offline_new_tab_met: warmMedian <= TARGET_OFFLINE_MS,
      warm_offline_reload_met: median(warm.reloaded) <= TARGET_OFFLINE_MS,
      service_worker_gzip_bytes_max: TARGET_WORKER_BYTES,
      service_worker_met: worker.total <= TARGET_WORKER_BYTES,
    },
  };
}

/** Prints the figures of `measureOfflineStart` as a table. */
function printTable(results) {
  const { runs, cpu_throttle: rate, targets } = results;
  const values = (key) => results[key].values;
  const name = (file) => file.split('/').pop();
  const parts = (sizes) => sizes.files.map((s) => `${name(s.file)} ${kb(s.gzip)}`).join(', ');
  const row = (label, key) => console.log(`${label.padEnd(66)}${`median ${ms(results[key].median)} ms`.padStart(14)}   ${list(values(key))}`);
  const size = (label, sizes) => console.log(`${label.padEnd(66)}${`${kb(sizes.total)} KB`.padStart(14)}   (${parts(sizes)})`);
  console.log(`cartable offline start, CPU throttled ${rate}x, ${runs} run${runs > 1 ? 's' : ''} each`);
  row('cold online start, new tab (navigation → lesson text painted)', 'cold_online_ms');
  row('warm offline start, new tab', 'warm_offline_ms');
  row('warm offline start, new tab, service worker stopped first', 'warm_offline_worker_stopped_ms');
  row('warm offline start, reloading an open tab', 'warm_offline_reload_ms');
  row('floor: the same lesson as a static page, new tab', 'static_page_new_tab_ms');
  size('service worker bundle (gzip)', results.service_worker_gzip_bytes);
  size('app (gzip)', results.app_gzip_bytes);
  const yes = (met) => (met ? 'yes' : 'no');
  console.log(`targets: warm offline start <= ${TARGET_OFFLINE_MS} ms: reloading an open tab ` +
    `${yes(targets.warm_offline_reload_met)}, new tab ${yes(targets.warm_offline_new_tab_met)} ` +
    `(a static page of the same lesson, new tab: ${ms(results.static_page_new_tab_ms.median)} ms); ` +
    `service worker <= ${TARGET_WORKER_BYTES / 1000} KB gzip: ${yes(targets.service_worker_met)}`);
}

async function main() {
  const opts = options(process.argv.slice(2));
  const bin = process.env.CARTABLE_BIN ?? join(root, 'target/debug/cartable');
  if (!existsSync(bin)) throw new Error(`the cartable binary ${bin} is missing: cargo build -p cartable-cli (or set CARTABLE_BIN)`);
  const results = await measureOfflineStart(opts);
  printTable(results);
  const out = join(root, 'target/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'offline-start.json'), JSON.stringify(results, null, 2) + '\n');
  const { before, after } = results.load_average_1min;
  console.log(`(1 KB = 1000 bytes; load average ${before.toFixed(1)} before, ${after.toFixed(1)} after, ` +
    `on ${results.machine.cores} cores; written to target/bench/offline-start.json)`);
}

if (isMain(import.meta.url)) {
  main().catch((error) => {
    console.error(`bench/offline-start: measurement failed: ${error.message}`);
    process.exit(1);
  });
}
