// The app in parts: a first visit to a lesson takes the first bundle only; the exercises, "Mon travail" and
// the classmates' code come when first needed, through the worker, which keeps each part it was asked for
// (checked against the CID the shell list pins), so that what the pupil used opens offline. A part never
// used is said plainly offline, with a retry; the lesson still reads.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cartable, launch, packSample, root, scratch, serve, takeNewBuild, visitOwnBuild, visitWithWorker } from './harness.mjs';

const LESSON_TEXT = 'Pendant la fermeture du collège';
const NOT_HERE = "Cette page n'est pas encore sur cet appareil";

/** The parts of the built app, by file name (`split_exercises`...), each with the CIDs of its chunks. */
function parts() {
  const shell = JSON.parse(readFileSync(join(root, 'pkg/shell.json'), 'utf8'));
  return Object.fromEntries(shell.parts.map((part) => [part.path.split('/').pop().replace('.wasm', ''), part.chunks]));
}

/** Which of `names` (parts) the origin was asked for so far: by path, or a chunk of theirs by CID. */
function asked(server, names) {
  const all = parts();
  const paths = server.requests.map((r) => r.path);
  return names.filter((name) => paths.some((path) => path.endsWith(`/${name}.wasm`) || all[name].some((cid) => path.endsWith(`/ipfs/${cid}`))));
}

test('a lesson takes the first bundle only; exercises come when opened, are kept, and open offline', async (t) => {
  const { server, page } = await visitWithWorker(t, { hash: '#/lecon/1' });
  await page.getByText(LESSON_TEXT).first().waitFor();
  // The panels' part (saving for offline, sources) follows the first paint, and the classmates' part the
  // course's opening (sharing is on: `cartable serve` names its tracker); the pages' parts wait, and
  // WebCrypto checks the signature.
  await page.locator('details.sources').waitFor();
  assert.deepEqual(asked(server, ['split_exercises', 'split_work', 'split_signatures']), []);

  await page.goto(`${server.url}#/lecon/1/exercices`);
  await page.locator('form.question').first().waitFor();
  assert.deepEqual(asked(server, ['split_exercises']), ['split_exercises']);

  // Offline, the exercises the pupil opened open again; "Mon travail", never opened, is said missing, and
  // the lesson still reads.
  await server.stop();
  await page.reload();
  await page.locator('form.question').first().waitFor();
  await page.goto(`${server.url}#/travail`);
  const alert = page.getByRole('alert');
  await alert.getByText(NOT_HERE).waitFor();
  assert.ok(await alert.getByRole('button', { name: 'Réessayer' }).isVisible(), 'a retry is offered');
  await page.goto(`${server.url}#/lecon/1`);
  await page.getByText(LESSON_TEXT).first().waitFor();
  assert.deepEqual(page.errors, []);
});

test('where WebCrypto has no Ed25519, the part carrying ed25519-dalek checks the signature', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const context = await (await launch(t)).newContext();
  // A browser from before Ed25519 in WebCrypto (Chromium 137), as on a Chromebook no longer updated.
  await context.addInitScript(() => {
    const importKey = SubtleCrypto.prototype.importKey;
    SubtleCrypto.prototype.importKey = function (format, data, algorithm, ...rest) {
      if ((algorithm?.name ?? algorithm) === 'Ed25519') return Promise.reject(new DOMException('Ed25519', 'NotSupportedError'));
      return importKey.call(this, format, data, algorithm, ...rest);
    };
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${server.url}#/lecon/1`);
  await page.getByText(LESSON_TEXT).first().waitFor();
  assert.deepEqual(asked(server, ['split_signatures']), ['split_signatures']);
  assert.deepEqual(page.errors, []);
});

test('a part the pupil used is kept again by an update that changes it: it still opens offline', async (t) => {
  // The sample course served with a copy of the built app of its own, so that a new build can be published.
  const { server, context, page, www, pkg } = await visitOwnBuild(t, { hash: '#/lecon/1/exercices' });
  await page.locator('form.question').first().waitFor();

  // A new build whose exercises part changed (a custom section appended: the same code, new bytes and CID).
  const name = 'version 2';
  appendFileSync(join(pkg, 'split_exercises.wasm'), Buffer.from([0, name.length + 1, name.length, ...Buffer.from(name)]));
  cartable('shell', '--www', www, '--pkg', pkg);
  await page.reload();
  await takeNewBuild(page, pkg);
  await page.close();

  // Offline, the new build opens the exercises: its install kept the part the pupil had used.
  await context.setOffline(true);
  const later = await context.newPage();
  await later.goto(`${server.url}#/lecon/1/exercices`);
  await later.locator('form.question').first().waitFor({ timeout: 30_000 });
  const served = await later.evaluate(() => fetch('pkg/split_exercises.wasm').then((r) => r.arrayBuffer()).then((b) => b.byteLength));
  assert.equal(served, readFileSync(join(pkg, 'split_exercises.wasm')).length, "the new build's part");
});
