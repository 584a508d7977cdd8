// Benchmark (not a test): SHA-256 throughput in one page of the app, WebCrypto (`crypto.subtle.digest`,
// what the app verifies chunks with, crates/web/src/digest.rs) against the core's sha2 compiled into the
// app's wasm (`Cid::of`, reached through the `sha2_digest` export of the bench's build of the app, which
// scripts/bench.sh makes in target/bench/pkg/ with `--features bench`), on the same buffers, one chunk at
// a time as chunks arrive. Both must give the same digests, or the measurement fails.
//
// Called by bench/report.mjs (./scripts/bench.sh); not run on its own.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, packSample, scratch, serve } from '../tests/e2e/harness.mjs';
import { machine, median, progress, withCleanups } from './machine.mjs';

/**
 * Runs in the page: hashes `totalBytes` of random bytes cut into `chunkBytes` chunks with both hashers,
 * `rounds` times each, after checking that they agree on every chunk. Returns MB/s per round for each.
 */
async function hashInPage({ chunkBytes, totalBytes, rounds }) {
  const app = await import(new URL('bench-pkg/cartable_bench.js', document.baseURI).href);
  await app.default();
  const chunks = [];
  for (let at = 0; at < totalBytes; at += chunkBytes) {
    const chunk = new Uint8Array(Math.min(chunkBytes, totalBytes - at));
    for (let i = 0; i < chunk.length; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
    chunks.push(chunk);
  }
  const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const hashers = {
    webcrypto: (chunk) => crypto.subtle.digest('SHA-256', chunk),
    wasm_sha2: (chunk) => app.sha2_digest(chunk),
  };
  for (const [index, chunk] of chunks.entries()) {
    const [subtle, sha2] = [hex(await hashers.webcrypto(chunk)), hex(hashers.wasm_sha2(chunk))];
    if (subtle !== sha2) throw new Error(`chunk ${index}: WebCrypto gives ${subtle}, the wasm sha2 ${sha2}`);
  }
  // Rounds alternate between the hashers, so that a change in the machine's load falls on both.
  const mbPerSecond = { webcrypto: [], wasm_sha2: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, hash] of Object.entries(hashers)) {
      const start = performance.now();
      for (const chunk of chunks) await hash(chunk);
      mbPerSecond[name].push(totalBytes / 1e6 / ((performance.now() - start) / 1000));
    }
  }
  return { chunks: chunks.length, mbPerSecond };
}

// The bench's build of the app, answered to the page under bench-pkg/ (see the top of this file).
const BENCH_PKG = fileURLToPath(new URL('../target/bench/pkg/', import.meta.url));

/**
 * SHA-256 throughput, WebCrypto and wasm sha2, in the app's page with Chromium's CPU throttled at each of
 * `rates`: `rounds` rounds over `totalMiB` MiB in `chunkKiB` KiB chunks. Returns MB/s (median and each
 * round) per rate and the machine; throws when the page cannot hash or the digests differ.
 */
export async function measureHashing({ rates = [1, 6], rounds = 5, totalMiB = 4, chunkKiB = 256 } = {}) {
  return withCleanups(async (t) => {
    const { url } = await serve(t, packSample(scratch(t)));
    const browser = await launch(t);
    const page = await browser.newPage();
    if (!existsSync(`${BENCH_PKG}cartable_bench.js`)) throw new Error(`no bench build in ${BENCH_PKG}: run ./scripts/bench.sh`);
    await page.route('**/bench-pkg/**', (route) => {
      const file = new URL(route.request().url()).pathname.replace(/^.*\/bench-pkg\//, '');
      const type = file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      route.fulfill({ body: readFileSync(BENCH_PKG + file), contentType: type });
    });
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    // The app has mounted once its home page offers to save the course: its wasm is initialised.
    await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).waitFor({ timeout: 60_000 })
      .catch(() => { throw new Error(`the app's page did not render: ${errors.join('; ') || 'no error in the page'}`); });
    const cdp = await page.context().newCDPSession(page);
    const byRate = [];
    for (const rate of rates) {
      progress(`hashing: ${rounds} rounds of ${totalMiB} MiB with each hasher, CPU throttled ${rate}x`);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      const args = { chunkBytes: chunkKiB * 1024, totalBytes: totalMiB * 1024 * 1024, rounds };
      const { chunks, mbPerSecond } = await page.evaluate(hashInPage, args);
      const figures = (values) => ({ median: median(values), values: values.map((v) => Math.round(v * 10) / 10) });
      byRate.push({ cpu_throttle: rate, chunks, webcrypto_mb_s: figures(mbPerSecond.webcrypto),
        wasm_sha2_mb_s: figures(mbPerSecond.wasm_sha2) });
    }
    if (errors.length) throw new Error(`error in the page: ${errors.join('; ')}`);
    return { machine: machine(browser), chunk_bytes: chunkKiB * 1024, total_bytes: totalMiB * 1024 * 1024, rounds,
      digests_identical: true, by_cpu_throttle: byRate };
  });
}
