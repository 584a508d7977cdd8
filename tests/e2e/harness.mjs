// Shared set-up for the end-to-end tests: the sample course packed with a fresh school key, a real
// `cartable serve` on a loopback port, and Debian's Chromium driven by playwright-core.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.CARTABLE_BIN ?? join(root, 'target/debug/cartable');

/** Runs the real `cartable` binary and returns its standard output. */
export function cartable(...args) {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A scratch folder removed when the test ends. */
export function scratch(t) {
  const dir = mkdtempSync(join(tmpdir(), 'cartable-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Packs the bundled sample course with a new key; returns the paths and the parsed manifest. */
export function packSample(dir) {
  cartable('keygen', join(dir, 'school'));
  const courseDir = join(dir, 'course');
  cartable('pack', join(root, 'sample/physique-3e'), '--key', join(dir, 'school.secret'), '--out', courseDir);
  const manifest = JSON.parse(readFileSync(join(courseDir, 'manifest.json'), 'utf8')).manifest;
  return { courseDir, pubkey: join(dir, 'school.pub'), manifest };
}

/** The chunk file holding chunk `index` of the course file `path`. */
export function chunkFile(course, path, index = 0) {
  const file = course.manifest.files.find((f) => f.path === path);
  if (!file) throw new Error(`${path} is not in the manifest`);
  return join(course.courseDir, 'ipfs', file.chunks[index]);
}

/** Overwrites bytes of `file` in place with `marker`, keeping its length: only the hash can tell. */
export function tamper(file, marker, offset = 64) {
  const bytes = readFileSync(file);
  bytes.write(marker, offset, 'latin1');
  writeFileSync(file, bytes);
}

/** Starts `cartable serve` for `course` on a free port; stops it when the test ends. */
export async function serve(t, course) {
  const child = spawn(bin, ['serve', '--course', course.courseDir, '--pubkey', course.pubkey, '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (data) => { stderr += data; });
  const exited = new Promise((done) => child.once('exit', done));
  const stop = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } };
  t.after(stop);
  const url = await new Promise((found, failed) => {
    let stdout = '';
    const timer = setTimeout(() => failed(new Error(`cartable serve did not start: ${stderr}`)), 20_000);
    child.stdout.on('data', (data) => {
      stdout += data;
      const match = stdout.match(/^cartable serve: (http:\/\/\S+)$/m);
      if (match) { clearTimeout(timer); found(match[1]); }
    });
    child.once('exit', () => failed(new Error(`cartable serve exited: ${stderr}`)));
  });
  return { url, stop };
}

/** Launches headless Chromium; closes it when the test ends. */
export async function launch(t) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  return browser;
}

/** A new page that records uncaught errors, so a test can assert the app never crashed. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(url);
  return page;
}
