// Accessibility and languages: axe-core over every page type of the app (exercises and their feedback,
// "Mon travail" included), in light and dark and in English; the keyboard alone reaches and works
// everything; the language follows the browser, the switch is kept.
// See: issue 6
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditAccessibility, cartable, launch, packSample, scratch, serve, visitWithWorker } from './harness.mjs';

/** Opens `url` in a new context with `options` (locale, colour scheme); records uncaught errors. */
async function open(browser, url, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(url);
  return page;
}

/** Waits for the app to show a course page, then audits it; returns the violations found. */
async function audited(page, label, ready) {
  await ready.waitFor();
  return (await auditAccessibility(page, label)).map((v) => `${label}: ${v.impact} ${v.id} at ${v.targets.join(', ')}`);
}

/** The course's pages, as a pupil sees them in `page`'s language. */
async function auditCoursePages(page, base, course, words) {
  const found = [];
  await page.goto(base);
  found.push(...await audited(page, 'home', page.getByRole('heading', { level: 2, name: words.lessons })));
  await page.goto(`${base}#/lecon/1`);
  await page.locator('article img').first().waitFor();
  await page.locator('article audio').first().waitFor();
  found.push(...await audited(page, 'lesson', page.getByRole('heading', { level: 1, name: course.manifest.lessons[0].title })));
  await page.goto(`${base}#/lecon/1/exercices`);
  const question = page.locator('form.question').first();
  found.push(...await audited(page, 'exercises', question));
  // Checked with nothing chosen: the feedback shows, and is audited too.
  await question.getByRole('button', { name: words.check }).click();
  found.push(...await audited(page, 'exercise feedback', question.getByRole('status')));
  await page.goto(`${base}#/travail`);
  found.push(...await audited(page, 'work', page.locator('#work-student')));
  await page.goto(`${base}#/cahier-de-textes`);
  found.push(...await audited(page, 'agenda', page.locator('.agenda time').first()));
  await page.locator('.sources summary').click();
  found.push(...await audited(page, 'sources', page.locator('.sources[open] ul')));
  return found;
}

test('axe finds no serious or critical violation on any page, in light, dark and English', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const browser = await launch(t);
  const found = [];
  const french = { lessons: 'Leçons', check: 'Vérifier' };
  for (const colorScheme of ['light', 'dark']) {
    const page = await open(browser, server.url, { colorScheme, locale: 'fr-FR' });
    found.push(...(await auditCoursePages(page, server.url, course, french)).map((v) => `${colorScheme} ${v}`));
    assert.deepEqual(page.errors, []);
  }
  const english = await open(browser, server.url, { locale: 'en-GB' });
  found.push(...(await auditCoursePages(english, server.url, course, { lessons: 'Lessons', check: 'Check' })).map((v) => `en ${v}`));
  assert.deepEqual(found, []);
});

test('axe: the saved-for-offline state, the offline copy and an unverified course', async (t) => {
  const { page, context, server } = await visitWithWorker(t);
  const found = [];
  await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).click();
  found.push(...await audited(page, 'saved', page.getByText('Ce cours est disponible hors ligne.')));
  await context.setOffline(true);
  await page.reload();
  found.push(...await audited(page, 'offline copy', page.locator('.offline-banner')));
  await page.emulateMedia({ colorScheme: 'dark' });
  found.push(...await audited(page, 'offline copy, dark', page.locator('.offline-banner')));
  await context.setOffline(false);

  // A page pinning another school's key: the error panel.
  const dir = scratch(t);
  cartable('keygen', join(dir, 'other-school'));
  const otherKey = readFileSync(join(dir, 'other-school.pub'), 'utf8').trim();
  const other = await (await launch(t)).newPage();
  await other.route(server.url, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/"key": "[^"]*"/, `"key": "${otherKey}"`);
    await route.fulfill({ response, body });
  });
  await other.goto(server.url);
  found.push(...await audited(other, 'unverified', other.getByRole('alert')));
  assert.deepEqual(found, []);
});

test('the keyboard alone: skip link, language switch, a lesson opened with Enter, visible focus', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const page = await open(await launch(t), server.url, { locale: 'fr-FR' });
  await page.getByRole('heading', { level: 2, name: 'Leçons' }).waitFor();

  await page.keyboard.press('Tab');
  const skip = await page.evaluate(() => ({ text: document.activeElement.textContent, href: document.activeElement.getAttribute('href') }));
  assert.equal(skip.text, 'Aller au contenu');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'contenu');

  // Tab on to the first lesson, noting that each stop shows a focus ring.
  const title = course.manifest.lessons[0].title;
  for (let stops = 0; ; stops += 1) {
    assert.ok(stops < 20, `the first lesson is reached within 20 tabs`);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      const style = getComputedStyle(element);
      return { text: element.textContent.trim(), ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
    });
    assert.ok(focused.ring, `"${focused.text}" shows where the focus is`);
    if (focused.text === title) break;
  }
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: title }).waitFor();

  await page.getByRole('button', { name: 'English' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('link', { name: 'Homework', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
});

test('the language follows the browser, French otherwise; the switch is kept and dates follow it', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const browser = await launch(t);

  const german = await open(browser, `${server.url}#/cahier-de-textes`, { locale: 'de-DE' });
  await german.getByRole('heading', { name: 'Cahier de textes' }).waitFor();
  assert.equal(await german.evaluate(() => document.documentElement.lang), 'fr');
  const frenchDate = await german.locator('.agenda time').first().innerText();
  assert.match(frenchDate, /^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) /);

  const page = await open(browser, `${server.url}#/cahier-de-textes`, { locale: 'en-US' });
  await page.getByRole('heading', { name: 'Homework' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.match(await page.locator('.agenda time').first().innerText(), /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) /);

  // The pupil's choice wins over the browser's, and is kept for the next visit.
  await page.getByRole('button', { name: 'Français' }).click();
  await page.getByRole('heading', { name: 'Cahier de textes' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr');
  await page.reload();
  await page.getByRole('heading', { name: 'Cahier de textes' }).waitFor();
  assert.equal(await page.locator('.agenda time').first().innerText(), frenchDate);
  assert.deepEqual([...german.errors, ...page.errors], []);
});

test('a lesson prints as a lesson: black on white, even in dark mode, without the app around it', async (t) => {
  const course = packSample(scratch(t));
  const server = await serve(t, course);
  const page = await open(await launch(t), `${server.url}#/lecon/1`, { colorScheme: 'dark' });
  await page.getByRole('heading', { level: 1, name: course.manifest.lessons[0].title }).waitFor();
  await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
  const printed = await page.evaluate(() => {
    const style = (selector) => getComputedStyle(document.querySelector(selector));
    return {
      ink: style('body').color,
      paper: style('body').backgroundColor,
      hidden: ['.toolbar', '.skip-link', '.course-header nav'].map((selector) => style(selector).display),
      lesson: style('.lesson-body').display,
      // The reading-aid boxes keep their light tint: a dark band would print as a black block.
      boxes: [style('.lesson-body blockquote').backgroundColor, style('.lesson-body thead th').backgroundColor],
    };
  });
  assert.deepEqual(printed, {
    ink: 'rgb(0, 0, 0)', paper: 'rgb(255, 255, 255)', hidden: ['none', 'none', 'none'], lesson: 'block',
    boxes: ['rgb(241, 241, 241)', 'rgb(241, 241, 241)'],
  });
});
