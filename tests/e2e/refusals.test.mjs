// What the app refuses to show, and how it tells the pupil: tampered chunks, a foreign signature, a silent
// server. The tampered bytes must never reach the page.
// See: issue 2
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cartable, chunkFile, launch, openPage, packSample, scratch, serve, tamper } from './harness.mjs';
import { join } from 'node:path';

const MARKER = 'TEXTE-FALSIFIE-PAR-UN-MIROIR';

test('a lesson with a tampered chunk is refused: the error is shown, none of its text is', async (t) => {
  const course = packSample(scratch(t));
  const lesson = course.manifest.lessons[0];
  tamper(chunkFile(course, lesson.body), MARKER);
  const server = await serve(t, course);
  const page = await openPage(await launch(t), `${server.url}#/lecon/1`);

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Un fichier est corrompu/);
  assert.match(await alert.innerText(), new RegExp(lesson.body));
  const text = await page.locator('body').innerText();
  assert.ok(!text.includes(MARKER), 'tampered bytes are not on the page');
  assert.ok(!text.includes('Pendant la fermeture du collège'), 'no part of the refused file is shown');
  assert.deepEqual(page.errors, []);
});

test('a picture with a tampered chunk is refused while the lesson text still shows', async (t) => {
  const course = packSample(scratch(t));
  const meter = 'images/compteur-electrique.png';
  tamper(chunkFile(course, meter, 1), MARKER);
  const server = await serve(t, course);
  const page = await openPage(await launch(t), `${server.url}#/lecon/3`);

  const alert = page.getByRole('alert').filter({ hasText: 'compteur-electrique.png' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /Un fichier est corrompu/);
  await page.getByRole('heading', { level: 1, name: course.manifest.lessons[2].title }).waitFor();
  assert.equal(await page.locator('article img[alt^="Illustration d\'un compteur"]').count(), 0);
  // The other picture of the lesson is intact and shown.
  await page.locator('article img[alt^="Diagramme en barres"]').waitFor({ state: 'attached' });
  assert.deepEqual(page.errors, []);
});

test('a course signed by a key the page does not pin is not shown', async (t) => {
  const dir = scratch(t);
  const course = packSample(dir);
  cartable('keygen', join(dir, 'other-school'));
  const otherKey = readFileSync(join(dir, 'other-school.pub'), 'utf8').trim();
  const server = await serve(t, course);
  const browser = await launch(t);
  const page = await browser.newPage();
  // The page pins another school's key, as a page of another school would.
  await page.route(server.url, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/"key": "[^"]*"/, `"key": "${otherKey}"`);
    await route.fulfill({ response, body });
  });
  await page.goto(server.url);

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Ce cours n'a pas pu être vérifié/);
  assert.ok(!(await page.locator('body').innerText()).includes(course.manifest.course.title));
});

test('a server that stops answering is reported in plain French, with a way to retry', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const page = await openPage(await launch(t), server.url);
  await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();

  await server.stop();
  await page.getByRole('link', { name: course.manifest.lessons[1].title }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Le serveur ne répond pas/);
  assert.deepEqual(page.errors, []);
});
