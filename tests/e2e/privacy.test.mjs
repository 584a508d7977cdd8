// The privacy side of the classmates' swarm: the school can turn sharing off in the signed manifest, the
// pupil can turn it off with a switch in the sources panel, and the school can make classmates connect
// through its TURN relay only, so that none learns another's address. "Off" is checked where it matters:
// the tracker (a real `cartable tracker`) never hears from the page.
// See: issue 5
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cartableTracker, launch, packSampleWith, serve, turnRelay } from './harness.mjs';

const SAVE_BUTTON = 'Enregistrer pour consulter hors ligne';
const SAVED_TEXT = 'Ce cours est disponible hors ligne.';
const SWITCH = 'Partager avec mes camarades';
const LATER = "Le changement s'appliquera à la prochaine ouverture de la page.";
const SCHOOL_OFF = "L'établissement n'a pas activé le partage entre camarades.";
const PUPIL_OFF = 'vous avez désactivé le partage sur cet appareil.';

/** Records every RTCPeerConnection the page makes, with the configuration it was given, in `__rtc`. */
function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__rtc = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config) {
      super(config);
      window.__rtc.push({ config: JSON.parse(JSON.stringify(config ?? {})), connection: this });
    }
  };
}

/** A pupil's page in a fresh context, counting the WebSockets it opens (`page.sockets`). */
async function pupil(browser, url) {
  const context = await browser.newContext();
  await context.addInitScript(recordPeerConnections);
  const page = await context.newPage();
  page.errors = [];
  page.sockets = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  page.on('websocket', (socket) => page.sockets.push(socket.url()));
  await page.goto(url);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return page;
}

async function save(page) {
  await page.getByRole('button', { name: SAVE_BUTTON }).click();
  await page.getByText(SAVED_TEXT).waitFor({ timeout: 120_000 });
}

async function openSources(page) {
  await page.locator('details.sources summary').click();
  return page.locator('details.sources');
}

/** The tracker's closing line: `N connections, N announces, ...`. */
async function trackerConnections(tracker) {
  const summary = await tracker.summary();
  const match = summary.match(/(\d+) connections, (\d+) announces/);
  assert.ok(match, `the tracker printed its summary: ${summary}`);
  return Number(match[1]);
}

test('when the school turns sharing off, the page never contacts the tracker and says why', async (t) => {
  const course = packSampleWith(t, '[peers]\nsharing = false\n');
  assert.equal(course.manifest.peers.sharing, false);
  const tracker = await cartableTracker(t);
  const origin = await serve(t, course, ['--tracker', tracker.url]);
  const page = await pupil(await launch(t), origin.url);
  await save(page);
  await page.reload();
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForTimeout(1_000);

  const sources = await openSources(page);
  await sources.getByText(SCHOOL_OFF).waitFor();
  assert.equal(await sources.getByRole('checkbox').count(), 0, 'the pupil cannot turn on what the school turned off');
  assert.equal(await sources.locator('.privacy').count(), 0, 'no sentence about what classmates see');
  assert.deepEqual(page.sockets, []);
  assert.equal(await page.evaluate(() => window.__rtc.length), 0);
  assert.deepEqual(page.errors, []);
  assert.equal(await trackerConnections(tracker), 0);
});

test("the pupil's switch turns sharing off from the next page open, and back on", async (t) => {
  const course = packSampleWith(t, '');
  const tracker = await cartableTracker(t);
  const origin = await serve(t, course, ['--tracker', tracker.url]);
  const page = await pupil(await launch(t), origin.url);
  // Sharing is on by default: the page joins the swarm through the tracker.
  await page.waitForFunction(() => window.__rtc.length > 0, null, { timeout: 20_000 });
  assert.equal(page.sockets.length, 1);
  assert.ok(page.sockets[0].startsWith(tracker.url.replace(/\/$/, '')), `${page.sockets[0]} is the tracker`);

  let sources = await openSources(page);
  const toggle = sources.getByRole('checkbox', { name: SWITCH });
  assert.equal(await toggle.isChecked(), true);
  await sources.locator('.privacy').waitFor();
  await toggle.uncheck();
  await sources.getByText(LATER).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('cartable.peers')), 'off');

  page.sockets.length = 0;
  await page.reload();
  await page.getByRole('heading', { level: 1 }).waitFor();
  await save(page);
  assert.deepEqual(page.sockets, [], 'with the switch off, the reloaded page opens no WebSocket');
  assert.equal(await page.evaluate(() => window.__rtc.length), 0, 'nor any peer connection');

  sources = await openSources(page);
  await sources.getByText(PUPIL_OFF).waitFor();
  assert.equal(await sources.getByText(LATER).count(), 0);
  const again = sources.getByRole('checkbox', { name: SWITCH });
  assert.equal(await again.isChecked(), false);
  await again.check();
  await sources.getByText(LATER).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('cartable.peers')), null);
  assert.deepEqual(page.errors, []);
  assert.equal(await trackerConnections(tracker), 1, 'only the page that opened with sharing on connected');
});

test('in relay-only mode every peer connection is made with iceTransportPolicy "relay" and the school\'s TURN server', async (t) => {
  const toml = '[peers]\nrelay_only = true\n\n[[peers.ice]]\nurls = ["turn:127.0.0.1:9"]\n' +
    'username = "pupil"\ncredential = "s3cret"\n';
  const course = packSampleWith(t, toml);
  const origin = await serve(t, course);
  const page = await pupil(await launch(t), origin.url);
  await page.waitForFunction(() => window.__rtc.length > 0, null, { timeout: 20_000 });
  const configs = await page.evaluate(() => window.__rtc.map((made) => made.config));
  for (const config of configs) {
    assert.equal(config.iceTransportPolicy, 'relay');
    assert.deepEqual(config.iceServers, [{ urls: ['turn:127.0.0.1:9'], username: 'pupil', credential: 's3cret' }]);
  }
  const sources = await openSources(page);
  await sources.getByText('mais pas son adresse réseau').waitFor();
  assert.deepEqual(page.errors, []);
});

test('two pupils pass the course to each other through the school\'s TURN relay only', async (t) => {
  const relay = await turnRelay(t);
  const toml = `[peers]\nrelay_only = true\n\n[[peers.ice]]\nurls = ["${relay.url}"]\n` +
    `username = "${relay.username}"\ncredential = "${relay.credential}"\n`;
  const course = packSampleWith(t, toml);
  const origin = await serve(t, course, ['--max-concurrent', '1', '--retry-after', '2']);
  const browser = await launch(t);
  const first = await pupil(browser, origin.url);
  await save(first);
  const second = await pupil(browser, origin.url);
  // Reaching each other through the relay takes a TURN allocation on each side: on a loaded machine it
  // can outlast a save from the origin, so the second pupil saves once connected and once it has heard
  // the first's Hello and Bitfield (two messages on the data channel): it then knows who holds the course.
  const heard = () => second.evaluate(async () => {
    for (const { connection } of window.__rtc) {
      if (connection.connectionState !== 'connected') continue;
      const stats = [...(await connection.getStats()).values()];
      if (stats.some((s) => s.type === 'data-channel' && s.messagesReceived >= 2)) return true;
    }
    return false;
  });
  for (let waited = 0; !(await heard()); waited += 250) {
    assert.ok(waited < 60_000, 'the second pupil heard the first through the relay');
    await second.waitForTimeout(250);
  }
  await save(second);

  // The second pupil's connection to the first: ICE chose a relayed candidate on its side, and chunks
  // came through it.
  const relayed = await second.evaluate(async () => {
    const found = [];
    for (const { connection } of window.__rtc) {
      if (connection.connectionState !== 'connected') continue;
      const stats = [...(await connection.getStats()).values()];
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
      const local = stats.find((s) => s.id === pair?.localCandidateId);
      const remote = stats.find((s) => s.id === pair?.remoteCandidateId);
      found.push({ local: local?.candidateType, remote: remote?.candidateType, received: pair?.bytesReceived ?? 0 });
    }
    return found;
  });
  t.diagnostic(`second pupil's connections: ${JSON.stringify(relayed)}`);
  assert.ok(relayed.length >= 1, 'the second pupil connected to the first');
  for (const pair of relayed) assert.equal(pair.local, 'relay');
  assert.ok(relayed.some((pair) => pair.received > 10_000), 'chunks came through the relay');
  const sources = await openSources(second);
  const classmates = await sources.locator('li').filter({ hasText: 'Camarades' }).innerText();
  assert.doesNotMatch(classmates, /^Camarades : 0 o reçus/, classmates);
  assert.deepEqual([...first.errors, ...second.errors], []);
});
