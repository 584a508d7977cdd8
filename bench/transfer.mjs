// What a pupil's browser downloads, gzip -9: the app and the service worker (what `register('/sw.js')`
// brings in). Reads the built pkg/ and www/; measures nothing in a browser. Compressed with gzip(1);
// zlib's level 9 (what most web servers compress with) is recorded beside it, as it comes out about 1 %
// larger on the wasm. Run on its own (as scripts/size.sh does), it prints the app's files, raw and gzip.
// Needs no Node package: scripts/size.sh runs it on a machine that only built the app.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { isMain } from './machine.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The service worker's bundle must stay under this many gzip bytes (1 KB = 1000 bytes throughout). */
export const TARGET_WORKER_BYTES = 100_000;

/**
 * The app's files: the shell as `cartable shell` listed it in `pkg/shell.json` (wasm, JavaScript,
 * snippets, styles) and the boot page, the one file that must come from the origin. One list, the
 * worker's own.
 */
export function appFiles() {
  const list = join(root, 'pkg/shell.json');
  if (!existsSync(list)) throw new Error('pkg/shell.json is missing: build the app first (source scripts/setup.sh)');
  const shell = JSON.parse(readFileSync(list, 'utf8'));
  const inWww = (path) => (path.startsWith('pkg/') ? path : `www/${path}`);
  return ['www/index.html', ...shell.files.map((file) => inWww(file.path))];
}

/**
 * The service worker's files: its shim, the module that carries the build id and the shell's list, and
 * its wasm.
 */
export const WORKER_FILES = ['www/sw.js', 'pkg/cartable_sw.js', 'pkg/cartable_sw_bg.wasm'];

/** Raw, gzip -9 and zlib level 9 bytes of each of `files` (paths from the repository root) and their totals. */
export function gzipSizes(files) {
  const sizes = files.map((file) => {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${file} is missing: build the app first (source scripts/setup.sh)`);
    const gzip = execFileSync('gzip', ['-9c', path], { maxBuffer: 1 << 30 }).length;
    const zlib = gzipSync(readFileSync(path), { level: 9 }).length;
    return { file, bytes: statSync(path).size, gzip, zlib };
  });
  const sum = (key) => sizes.reduce((total, s) => total + s[key], 0);
  return { total: sum('gzip'), raw: sum('bytes'), zlib_total: sum('zlib'), files: sizes };
}

/** The transfer of the app and of its service worker, and whether the worker meets its target. */
export function measureTransfer() {
  const app = gzipSizes(appFiles());
  const worker = gzipSizes(WORKER_FILES);
  return { app_gzip_bytes: app, service_worker_gzip_bytes: worker,
    targets: { service_worker_gzip_bytes_max: TARGET_WORKER_BYTES, service_worker_met: worker.total <= TARGET_WORKER_BYTES } };
}

/** The app's files, raw and gzip -9, and their total: what scripts/size.sh prints. */
function printApp() {
  const app = gzipSizes(appFiles());
  const width = Math.max(...app.files.map((size) => size.file.length));
  const row = (file, raw, gzip) => `${file.padEnd(width)} ${String(raw).padStart(10)} ${String(gzip).padStart(10)}`;
  console.log(row('file', 'bytes', 'gzip'));
  for (const size of app.files) console.log(row(size.file, size.bytes, size.gzip));
  console.log(row('total', app.raw, app.total));
}

if (isMain(import.meta.url)) printApp();
