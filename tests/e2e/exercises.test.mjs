// Exercises graded offline: a pupil answers each kind of question in the real app, sees the grade, the
// attempts and the teacher's explanation at once, and finds the progress on the course home after a
// reload, also with the origin stopped.
// See: issue 6
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { visitWithWorker } from './harness.mjs';

const CHECK = 'Vérifier';
const RIGHT = 'Juste !';
const WRONG = "Ce n'est pas ça. Réessayez.";

/** The form of the question numbered `n` (from 1) on the page. */
function question(page, n) {
  return page.locator('form.question').nth(n - 1);
}

async function check(form, expected, attempts) {
  await form.getByRole('button', { name: CHECK }).click();
  await form.getByRole('status').getByText(expected, { exact: true }).waitFor();
  if (attempts !== undefined) await form.getByText(`Tentatives : ${attempts}`, { exact: true }).waitFor();
}

/**
 * Puts the items of an ordering question in `wanted` order with the keyboard: focus an item's "Monter"
 * button once, then press Enter until the item is in place; the focus stays on that button as it moves.
 */
async function order(page, form, wanted) {
  for (let target = 0; target < wanted.length; target++) {
    const shown = await form.locator('.ordering .item').allInnerTexts();
    let at = shown.indexOf(wanted[target]);
    if (at <= target) continue;
    const label = `Monter : ${wanted[target]}`;
    await form.getByRole('button', { name: label, exact: true }).focus();
    for (; at > target; at--) {
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), label);
    }
  }
  assert.deepEqual(await form.locator('.ordering .item').allInnerTexts(), wanted);
}

const STEPS = [
  'Ouvrir le circuit à l\'endroit de la mesure',
  'Insérer l\'ampèremètre (bornes A et COM) dans la boucle',
  'Choisir le plus grand calibre',
  'Fermer le circuit et lire la valeur',
];

test('a pupil answers each kind of question, is graded at once and finds the progress after reloading', async (t) => {
  const { page } = await visitWithWorker(t, { hash: '#/lecon/1/exercices' });
  await page.getByRole('heading', { name: /Exercices de la leçon/ }).waitFor();

  // Single choice: wrong, then right; the teacher's explanation after each check.
  const single = question(page, 1);
  await single.getByLabel('en watts (W)').check();
  await check(single, WRONG, 1);
  await single.getByText('La tension se note U et s\'exprime en volts (V).', { exact: false }).waitFor();
  await single.getByLabel('en volts (V)').check();
  await check(single, RIGHT, 2);

  // Multiple choice: one right choice of two is partly right; both is right.
  const multiple = question(page, 2);
  await multiple.getByLabel('Un ampèremètre se branche en série.', { exact: true }).check();
  await check(multiple, "C'est juste, mais il manque des réponses.", 1);
  await multiple.getByLabel('Un voltmètre se branche en dérivation aux bornes du dipôle.', { exact: true }).check();
  await check(multiple, RIGHT, 2);

  // Numeric with its unit shown: a word is not an attempt; a decimal comma and the unit are read.
  const numeric = question(page, 3);
  const field = numeric.getByLabel('Votre réponse (en V)');
  await field.fill('quatre');
  await check(numeric, 'Écrivez un nombre, par exemple 3,5.');
  assert.equal(await numeric.getByText(/Tentatives/).count(), 0, 'an unreadable answer is not an attempt');
  await field.fill('4,5 V');
  await check(numeric, RIGHT, 1);

  // Short text: case and accents folded.
  const short = question(page, 4);
  await short.getByLabel('Votre réponse').fill('  AMPEREMETRE ');
  await check(short, RIGHT, 1);

  // Ordering, by keyboard: shown out of order, then checked in order.
  const ordering = question(page, 5);
  assert.notDeepEqual(await ordering.locator('.ordering .item').allInnerTexts(), STEPS);
  await order(page, ordering, STEPS);
  await check(ordering, RIGHT, 1);

  // Free response: kept for the teacher, not graded.
  const free = question(page, 6);
  await free.getByLabel('Votre réponse').fill('Pour ne pas abîmer le multimètre.');
  await free.getByRole('button', { name: 'Garder ma réponse' }).click();
  await free.getByText('Réponse gardée pour le professeur.').waitFor();

  // After a reload, the page finds the last answers, and the course home sums them up.
  await page.reload();
  await question(page, 1).getByText('Tentatives : 2', { exact: true }).waitFor();
  assert.equal(await question(page, 6).getByLabel('Votre réponse').inputValue(), 'Pour ne pas abîmer le multimètre.');
  assert.ok(await question(page, 1).getByLabel('en volts (V)').isChecked());
  await page.getByRole('link', { name: 'Accueil' }).click();
  await page.getByText('6/6 questions faites · justes : 5 · tentatives : 8').waitFor();
  await page.reload();
  await page.getByText('6/6 questions faites · justes : 5 · tentatives : 8').waitFor();
  assert.deepEqual(page.errors, []);
});

test('exercises are graded and progress kept with the origin stopped, once the course is saved', async (t) => {
  const { server, page } = await visitWithWorker(t);
  await page.getByRole('button', { name: 'Enregistrer pour consulter hors ligne' }).click();
  await page.getByText('Ce cours est disponible hors ligne.').waitFor({ timeout: 60_000 });
  const lessonTwo = page.locator('.lesson-list li').nth(1);
  await lessonTwo.getByText('à faire').waitFor();

  await server.stop();
  await page.goto(`${page.url().split('#')[0]}#/lecon/2/exercices`);
  await page.reload();
  await page.getByText('Hors ligne : copie du').waitFor();
  const formula = question(page, 1);
  await formula.getByLabel('U = R × I').check();
  await check(formula, RIGHT, 1);
  await formula.getByText('la tension est proportionnelle à l\'intensité', { exact: false }).waitFor();
  const resistance = question(page, 3);
  await resistance.getByLabel('Votre réponse (en Ω)').fill('0,1 kΩ');
  await check(resistance, RIGHT, 1);
  const name = question(page, 4);
  await name.getByLabel('Votre réponse').fill('résistance');
  await check(name, WRONG, 1);

  await page.getByRole('link', { name: 'Accueil' }).click();
  await lessonTwo.getByText('3/5 questions faites · justes : 2 · tentatives : 3').waitFor();
  await page.reload();
  await page.locator('.lesson-list li').nth(1).getByText('3/5 questions faites · justes : 2 · tentatives : 3').waitFor();
  assert.deepEqual(page.errors, []);
});
