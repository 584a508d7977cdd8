// Classmates as a CDN: a class of pupils in separate browsers (contexts) saves the course while the origin
// is saturated (capacity 1, 503 with Retry-After) and there is no mirror; they pass chunks to each other
// over WebRTC, found through the tracker `cartable serve` embeds. A malicious classmate serving corrupted
// chunks is banned, and nothing it sent is stored.
// See: issue 5
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { launch, npmTracker, openPage, packSample, scratch, serve, storedChunks } from './harness.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const STUDENTS = Number(process.env.CARTABLE_CLASS_SIZE ?? 8);

/** Overwrites every stored chunk with bytes of the same length that no longer match their CID. */
async function corruptStoredChunks(page) {
  await page.evaluate(async () => {
    const db = await new Promise((ok, ko) => {
      const open = indexedDB.open('cartable');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => ko(open.error);
    });
    const store = db.transaction('chunks', 'readwrite').objectStore('chunks');
    await new Promise((ok, ko) => {
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return ok();
        const bytes = new Uint8Array(at.value);
        for (let i = 0; i < bytes.length; i += 97) bytes[i] ^= 0x5a;
        at.update(bytes);
        at.continue();
      };
      cursor.onerror = () => ko(cursor.error);
    });
    db.close();
  });
}

/**
 * The class scenario: the malicious classmate first, then `STUDENTS` pupils at once. `tracker` is extra
 * `serve` arguments naming the tracker (none: the one `serve` embeds).
 */
async function classMorning(t, tracker = []) {
  const course = packSample(scratch(t));
  const origin = await serve(t, course, ['--max-concurrent', '1', '--retry-after', '2', ...tracker]);
  const browser = await launch(t);
  const chunkSize = (cid) => statSync(join(course.courseDir, 'ipfs', cid)).size;
  const distinct = [...new Set(course.manifest.files.flatMap((f) => f.chunks))];
  const courseBytes = distinct.reduce((sum, cid) => sum + chunkSize(cid), 0);

  // The malicious classmate: the real app, whose stored chunks were then altered; it offers them all.
  const liar = await openPage(browser, origin.url);
  const prepared = Date.now();
  await liar.getByRole('button', { name: SAVE_BUTTON }).click();
  await liar.getByText(SAVED_TEXT).waitFor({ timeout: 240_000 });
  t.diagnostic(`the liar saved the course alone in ${((Date.now() - prepared) / 1000).toFixed(1)} s`);
  await corruptStoredChunks(liar);
  await liar.reload();
  await liar.getByRole('heading', { level: 1 }).waitFor();
  const before = origin.requests.length;

  const started = Date.now();
  const pupils = await Promise.all(Array.from({ length: STUDENTS }, () => openPage(browser, origin.url)));
  await Promise.all(pupils.map(async (page) => {
    await page.getByRole('button', { name: SAVE_BUTTON }).click();
    await page.getByText(SAVED_TEXT).waitFor({ timeout: 240_000 });
  }));
  const seconds = (Date.now() - started) / 1000;

  const served = origin.requests.slice(before)
    .filter((r) => r.status === 200 && r.path.includes('/ipfs/'))
    .reduce((sum, r) => sum + chunkSize(r.path.split('/ipfs/')[1]), 0);
  // Which chunks the origin served more than once, and when (seconds from the class's start).
  const servedAt = {};
  for (const r of origin.requests.slice(before)) {
    if (r.status === 200 && r.path.includes('/ipfs/')) (servedAt[r.path.split('/ipfs/')[1]] ??= []).push(r.at);
  }
  for (const [cid, times] of Object.entries(servedAt).filter(([, times]) => times.length > 1)) {
    const when = times.map((at) => ((at - started) / 1000).toFixed(1)).join(', ');
    t.diagnostic(`origin served ${cid} (${chunkSize(cid)} bytes) ${times.length} times, at ${when} s`);
  }
  const truth = Object.fromEntries(distinct.map((cid) =>
    [cid, createHash('sha256').update(readFileSync(join(course.courseDir, 'ipfs', cid))).digest('hex')]));
  let banned = 0;
  for (const page of pupils) {
    const stored = await storedChunks(page);
    for (const cid of distinct) assert.equal(stored[cid], truth[cid], `chunk ${cid} is the true chunk`);
    await page.locator('details.sources summary').click();
    const classmates = await page.locator('details.sources li').filter({ hasText: 'Camarades' }).innerText();
    if (/écarté/.test(classmates)) banned += 1;
    assert.deepEqual(page.errors, []);
  }
  t.diagnostic(`${STUDENTS} pupils in ${seconds.toFixed(1)} s; origin served ${(served / courseBytes).toFixed(2)} ` +
    `× the course (${served} of ${courseBytes} bytes); ${banned} pupils banned the liar`);
  assert.ok(served <= 1.5 * courseBytes, `origin served ${served} bytes for a ${courseBytes}-byte course`);
  assert.ok(banned >= 1, 'at least one pupil met the liar and banned it');
}

test(`${STUDENTS} pupils save the course from each other while the origin is saturated; a liar is banned`, async (t) => {
  await classMorning(t);
});

test(`the same class through the npm bittorrent-tracker server`, async (t) => {
  const tracker = await npmTracker(t);
  await classMorning(t, ['--tracker', tracker.url]);
});
