// The benchmark report (bench/report.mjs) as Markdown: one section per measurement, each with the
// machine and date it was measured on, or the reason it failed. Formats only; measures nothing.

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1e6).toFixed(1)} MB`);
const ms = (value) => `${Math.round(value)} ms`;
const yes = (met) => (met ? 'yes' : '**no**');
const values = (list) => list.map((v) => Math.round(v)).join(', ');

/** One line: where and when a section was measured, and the load before and after. */
function where(m, after) {
  if (!m) return '';
  const browser = m.chromium ? `, Chromium ${m.chromium}` : '';
  const end = after ? `, ${after[0]} at the end` : '';
  return `_${m.date}; ${m.cores} cores (${m.cpu}), ${Math.round(m.memory_mb / 1000)} GB${browser}; ` +
    `load average (1 / 5 / 15 min) ${m.load_average.join(' / ')} at the start${end}_\n`;
}

function transfer(s) {
  const files = (sizes) => sizes.files.map((f) => `${f.file.split('/').pop()} ${kb(f.gzip)}`).join(', ');
  const { app_gzip_bytes: app, service_worker_gzip_bytes: worker, targets } = s;
  return `| download | gzip -9 | zlib level 9 | raw | target (gzip -9) |
|---|---|---|---|---|
| app (what a pupil's browser downloads) | ${kb(app.total)} | ${kb(app.zlib_total)} | ${kb(app.raw)} | |
| service worker | ${kb(worker.total)} | ${kb(worker.zlib_total)} | ${kb(worker.raw)} | ≤ ${kb(targets.service_worker_gzip_bytes_max)}: ${yes(targets.service_worker_met)} |

gzip -9 is gzip(1), as \`scripts/size.sh\`; zlib level 9 is Node's zlib, the library most web servers compress with. App: ${files(app)}.
Worker: ${files(worker)}.
`;
}

function start(s) {
  const row = (label, f) => `| ${label} | ${ms(f.median)} | ${values(f.values)} |`;
  return `CPU throttled ${s.cpu_throttle}x, ${s.runs} runs each; navigation start → lesson text painted.

| start | median | runs (ms) |
|---|---|---|
${row('cold, online, new tab', s.cold_online_ms)}
${row('warm, offline, new tab', s.warm_offline_ms)}
${row('warm, offline, new tab, service worker stopped first', s.warm_offline_worker_stopped_ms)}
${row('warm, offline, reloading an open tab', s.warm_offline_reload_ms)}
${row('floor: the same lesson as a static page, new tab', s.static_page_new_tab_ms)}

Target warm offline ≤ ${ms(s.targets.warm_offline_ms_max)}: new tab ${yes(s.targets.warm_offline_new_tab_met)}, ` +
    `reloading ${yes(s.targets.warm_offline_reload_met)}.
`;
}

function hash(s) {
  const rows = s.by_cpu_throttle.map((r) => `| ${r.cpu_throttle}x | ${r.webcrypto_mb_s.median.toFixed(0)} | ` +
    `${r.wasm_sha2_mb_s.median.toFixed(0)} | ${(r.webcrypto_mb_s.median / r.wasm_sha2_mb_s.median).toFixed(1)}x |`);
  return `${s.rounds} rounds over ${mb(s.total_bytes)} in ${s.chunk_bytes / 1024} KiB chunks, one chunk at a time, ` +
    `in one page of the app; the digests were identical.

| CPU throttle | WebCrypto (MB/s, median) | wasm sha2 (MB/s, median) | WebCrypto / wasm |
|---|---|---|---|
${rows.join('\n')}
`;
}

function memory(s) {
  const { app, plain_floor: floor } = s;
  const status = s.saved ? `the app saved it in ${s.save_seconds.toFixed(1)} s (${s.save_mb_s.toFixed(1)} MB/s)`
    : `the app did **not** save it: ${app.failure} (after ${s.save_seconds.toFixed(1)} s)`;
  const floorStatus = floor.failure ? `did not finish: ${floor.failure}` : `took ${floor.seconds.toFixed(1)} s`;
  const row = (label, pick) => {
    const cells = [app, floor].flatMap((run) => [run.before, run.peaks, run.after_gc].map((at) => mb(pick(at))));
    return `| ${label} | ${cells.join(' | ')} |`;
  };
  return `Course: ${mb(s.course_bytes)} in ${s.chunks} chunks of ${s.chunk_bytes / 1024} KiB (the sample plus a ` +
    `random video); ${status}; the browser then reported ${mb(s.storage_used_bytes)} of storage used. The floor, ` +
    `the same chunks fetched, hashed and put in IndexedDB one at a time by a few lines of plain JavaScript in a ` +
    `blank page of the same origin (another Chromium), ${floorStatus}. Sampled every ${s.interval_ms} ms ` +
    `(${app.peaks.samples} samples for the app, largest gap ${app.peaks.largest_gap_ms} ms).

| memory | app: before "save" | app: peak | app: saved, 2 s later, GC | floor: before | floor: peak | floor: done, 2 s later, GC |
|---|---|---|---|---|---|---|
${row('page JS heap, used', (m) => m.js_heap_used)}
${row('page JS heap, total', (m) => m.js_heap_total)}
${row('app wasm memory', (m) => m.wasm_memory)}
${row('largest renderer process, RSS', (m) => m.rss_largest_renderer)}
${row('all renderer processes, PSS', (m) => m.pss_renderers ?? m.pss_by_type.renderer)}
${row('browser process (holds IndexedDB), RSS', (m) => m.rss_browser ?? m.rss_by_type.browser)}
${row('every process of the browser, PSS', (m) => m.pss_all_processes)}

RSS counts pages shared between processes in each of them; PSS divides them among the sharers, so PSS
figures add up. The largest renderer is most likely the page's (its service worker may run in the same
process or apart; DevTools does not say which process is which). ${app.peaks.renderers} renderer processes at most.
${app.before.process_error ? `\nNo process memory: ${app.before.process_error}.\n` : ''}`;
}

function classes(s) {
  const rows = s.classes.map((c) => {
    const first = c.firstPeerSeconds === null ? 'none' : `${c.firstPeerSeconds.toFixed(1)} s (${c.pupilsWithPeerBytes} pupils)`;
    return `| ${c.size} | ${c.originRatio.toFixed(2)} | ${(100 * c.fromPeers).toFixed(0)} % | ${c.lastSeconds.toFixed(1)} s | ${first} |`;
  });
  const course = s.classes[0] ? ` Course: ${mb(s.classes[0].courseBytes)}.` : '';
  return `The whole origin (page, app and course) at capacity 1 (503, Retry-After 2 s), no mirror, one Chromium, one context per pupil; origin bytes are the course's chunks.${course}

| pupils | origin bytes / course size | from classmates | last pupil done | first chunk from a classmate (median) |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

function visit(s) {
  return `A fresh browser opens the served sample course: the bytes the origin sent (headers and compressed
bodies, counted by a proxy) until the course home is shown and the worker controls the page and has kept
the shell. Floor: the app and the worker, gzip -9 (section 1's files): ${kb(s.floor_gzip_bytes)}.

| bytes on the wire | / floor | requests | seconds |
|---|---|---|---|
| ${kb(s.bytes_on_the_wire)} | ${(s.bytes_on_the_wire / s.floor_gzip_bytes).toFixed(2)} | ${s.requests.length} | ${s.seconds.toFixed(1)} |

Requests: ${s.requests.map((r) => `\`${r}\``).join(', ')}.
`;
}

const SECTIONS = {
  transfer: ['Transfer (gzip)', transfer],
  visit: ['First visit: the app on the wire', visit],
  start: ['Cold and warm start at 6x CPU throttle', start],
  hash: ['SHA-256 throughput: WebCrypto and the wasm sha2, same page', hash],
  memory: ['Memory while saving a big course for offline', memory],
  class: ['A class saving from each other, origin saturated', classes],
};

/** The report as Markdown. */
export function reportMarkdown(report) {
  const m = report.machine;
  const out = [`# cartable benchmark report\n`,
    `Run ${report.started} → ${report.finished} on ${m.cores} cores (${m.cpu}), ${Math.round(m.memory_mb / 1000)} GB; ` +
    `1 KB = 1000 bytes, 1 MB = 10⁶ bytes.${report.options.quick ? ' Quick run (--quick).' : ''}\n`];
  let number = 0;
  for (const [name, section] of Object.entries(report.sections)) {
    const [title, format] = SECTIONS[name];
    out.push(`## ${++number}. ${title}\n`, where(section.machine, section.load_average_after));
    if (section.ok || section.app) out.push(format(section));
    if (!section.ok) out.push(`**Measurement failed:** ${section.error}\n`);
  }
  return out.join('\n');
}
