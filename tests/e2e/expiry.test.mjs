// Stale copies: an expired manifest is shown as expired, never silently used, online or offline.
// See: issue 3
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { visitWithWorker } from './harness.mjs';

test('an expired course is shown as expired, online and from the stored copy', async (t) => {
  const { course, context, page } = await visitWithWorker(t, { hash: '#/lecon/1' });
  await page.getByText('Pendant la fermeture du collège').waitFor();

  // The sample course is valid 60 days: 61 days later, neither copy may be used.
  await page.clock.setFixedTime(new Date(course.manifest.expires_at * 1000 + 86_400_000));
  for (const offline of [false, true]) {
    await context.setOffline(offline);
    await page.reload();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Ce cours a expiré/, offline ? 'stored copy' : 'online');
    assert.equal(await page.getByText('Pendant la fermeture du collège').count(), 0);
  }
});
