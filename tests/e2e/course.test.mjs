// The sample course served by a real `cartable serve`, rendered by the real app in Chromium.
// See: issue 2
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launch, openPage, packSample, scratch, serve } from './harness.mjs';

const PICTURE_ALT = "Schéma d'un circuit en série";
const METER_ALT = "Illustration d'un compteur électrique communicant";

/** Waits until the picture whose alternative text starts with `alt` is decoded; returns its size. */
async function decodedPicture(page, alt) {
  const image = page.locator(`article img[alt^="${alt}"]`);
  await image.waitFor();
  await page.waitForFunction((a) => {
    const img = [...document.querySelectorAll('article img')].find((i) => i.alt.startsWith(a));
    return img && img.complete && img.naturalWidth > 0;
  }, alt);
  return image.evaluate((img) => ({ src: img.src, width: img.naturalWidth }));
}

test('the course home, a lesson with its text and picture, and the agenda in date order', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const page = await openPage(await launch(t), server.url);

  await page.getByRole('heading', { level: 1, name: course.manifest.course.title }).waitFor();
  for (const lesson of course.manifest.lessons) {
    await page.getByRole('link', { name: lesson.title }).waitFor();
  }

  await page.getByRole('link', { name: course.manifest.lessons[0].title }).click();
  await page.getByText('Pendant la fermeture du collège').waitFor();
  assert.equal(await page.title(), `${course.manifest.lessons[0].title} · ${course.manifest.course.title}`);
  const picture = await decodedPicture(page, PICTURE_ALT);
  assert.match(picture.src, /^blob:/, 'the picture comes from verified bytes');

  // A picture larger than one chunk is put back together from its verified chunks.
  await page.goto(`${server.url}#/lecon/3`);
  await page.getByRole('heading', { level: 1, name: course.manifest.lessons[2].title }).waitFor();
  assert.equal((await decodedPicture(page, METER_ALT)).width, 1600);

  await page.getByRole('link', { name: 'Cahier de textes', exact: true }).click();
  await page.locator('.agenda time').first().waitFor();
  const dates = await page.locator('.agenda time').evaluateAll((times) => times.map((t) => t.dateTime));
  assert.equal(dates.length, course.manifest.agenda.length);
  assert.deepEqual(dates, [...dates].sort(), 'homework is listed by due date');
  const pdf = page.getByRole('link', { name: 'fiche-exercices.pdf' }).first();
  await page.waitForFunction(() => [...document.querySelectorAll('.agenda a')].some((a) => a.href.startsWith('blob:')));
  assert.match(await pdf.getAttribute('href'), /^blob:/);

  assert.deepEqual(page.errors, []);
});

test('the interface switches to English and back', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const page = await openPage(await launch(t), server.url);

  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('link', { name: 'Homework', exact: true }).waitFor();
  await page.getByRole('heading', { name: 'Lessons' }).waitFor();
  await page.getByRole('button', { name: 'Français' }).click();
  await page.getByRole('link', { name: 'Cahier de textes', exact: true }).waitFor();
  assert.deepEqual(page.errors, []);
});
