// What a pupil's browser downloads, as it travels on the wire: brotli (quality 11, 4 MiB window, as
// `cartable shell` compresses what `cartable serve` and the mirrors send) and gzip -9. The app's first
// bundle (the boot page, the shell files the worker installs before the app starts: what a first visit
// waits for), each part loaded when first needed (src/parts.rs), and the service worker. Reads the built
// pkg/ and www/; measures nothing in a browser. zlib's gzip level 9 (what most web servers compress with)
// is recorded beside gzip(1)'s, as it comes out about 1 % larger on the wasm. Run on its own (as
// scripts/size.sh does), it prints every part; with `--check` it also fails (exit 1) when the first
// bundle passes its budget on the wire. Needs no Node package: scripts/size.sh runs it on a machine that
// only built the app.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { isMain } from './machine.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The service worker's bundle must stay under this many gzip bytes (1 KB = 1000 bytes throughout). */
export const TARGET_WORKER_BYTES = 100_000;

/** The app's first bundle, boot page included, must stay under this many brotli bytes on the wire. */
export const BUDGET_FIRST_BUNDLE_BROTLI = 200_000;

/**
 * The app's files: the shell as `cartable shell` listed it in `pkg/shell.json` (wasm, JavaScript,
 * snippets, styles) and the boot page, the one file that must come from the origin. One list, the
 * worker's own.
 */
export function appFiles() {
  return ['www/index.html', ...shellList().files.map((file) => inWww(file.path))];
}

/** The app's parts, loaded when first needed: `parts` in `pkg/shell.json`. */
export function partFiles() {
  return shellList().parts.map((part) => inWww(part.path));
}

function shellList() {
  const list = join(root, 'pkg/shell.json');
  if (!existsSync(list)) throw new Error('pkg/shell.json is missing: build the app first (source scripts/setup.sh)');
  return JSON.parse(readFileSync(list, 'utf8'));
}

const inWww = (path) => (path.startsWith('pkg/') ? path : `www/${path}`);

/**
 * The service worker's files: its shim, the module that carries the build id and the shell's list, and
 * its wasm.
 */
export const WORKER_FILES = ['www/sw.js', 'pkg/cartable_sw.js', 'pkg/cartable_sw_bg.wasm'];

/** Raw, gzip -9, zlib level 9 and brotli bytes of each of `files` (paths from the repository root) and their
 * totals (`total` is gzip's). */
export function gzipSizes(files) {
  const sizes = files.map((file) => {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${file} is missing: build the app first (source scripts/setup.sh)`);
    const bytes = readFileSync(path);
    const gzip = execFileSync('gzip', ['-9c', path], { maxBuffer: 1 << 30 }).length;
    const zlib = gzipSync(bytes, { level: 9 }).length;
    const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 22, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length };
    // `cartable shell` keeps the raw bytes where compressing does not make them smaller.
    const brotli = Math.min(bytes.length, brotliCompressSync(bytes, { params }).length);
    return { file, bytes: statSync(path).size, gzip, zlib, brotli };
  });
  const sum = (key) => sizes.reduce((total, s) => total + s[key], 0);
  return { total: sum('gzip'), raw: sum('bytes'), zlib_total: sum('zlib'), brotli_total: sum('brotli'), files: sizes };
}

/** The transfer of the app's first bundle, of its parts and of its service worker, and whether the first
 * bundle and the worker meet their budgets. */
export function measureTransfer() {
  const app = gzipSizes(appFiles());
  const parts = gzipSizes(partFiles());
  const worker = gzipSizes(WORKER_FILES);
  return { app_gzip_bytes: app, parts_bytes: parts, service_worker_gzip_bytes: worker,
    targets: { service_worker_gzip_bytes_max: TARGET_WORKER_BYTES, service_worker_met: worker.total <= TARGET_WORKER_BYTES,
      first_bundle_brotli_max: BUDGET_FIRST_BUNDLE_BROTLI, first_bundle_met: app.brotli_total <= BUDGET_FIRST_BUNDLE_BROTLI } };
}

/** Every part's size, raw, gzip -9 and brotli, and the budget line: what scripts/size.sh prints. Returns
 * whether the first bundle is within its budget. */
function printSizes() {
  const { app_gzip_bytes: app, parts_bytes: parts, service_worker_gzip_bytes: worker, targets } = measureTransfer();
  const names = [...app.files, ...parts.files, ...worker.files].map((size) => size.file.length);
  const width = Math.max(...names, 'first bundle (what a first visit waits for)'.length);
  const row = (file, raw, gzip, brotli) =>
    `${file.padEnd(width)} ${String(raw).padStart(9)} ${String(gzip).padStart(9)} ${String(brotli).padStart(9)}`;
  const table = (title, sizes) => {
    console.log(row(title, 'bytes', 'gzip', 'brotli'));
    for (const size of sizes.files) console.log(row(`  ${size.file}`, size.bytes, size.gzip, size.brotli));
    console.log(row('  total', sizes.raw, sizes.total, sizes.brotli_total));
  };
  table('first bundle (what a first visit waits for)', app);
  table('parts (each loaded when first needed)', parts);
  table('service worker', worker);
  const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
  console.log(`first bundle on the wire: ${kb(app.brotli_total)} brotli (${kb(app.total)} gzip), budget ` +
    `${kb(targets.first_bundle_brotli_max)} brotli: ${targets.first_bundle_met ? 'within' : 'OVER BUDGET'}`);
  return targets.first_bundle_met;
}

if (isMain(import.meta.url)) {
  const within = printSizes();
  if (process.argv.includes('--check') && !within) {
    console.error('the first bundle passed its budget: move code into a part (src/parts.rs) or trim it');
    process.exit(1);
  }
}
