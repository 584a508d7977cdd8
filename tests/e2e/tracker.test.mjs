// The tracker protocol against both trackers: the real `cartable tracker` and the reference npm
// `bittorrent-tracker` server. Two fake browsers announce the same course's swarm, one offers, the other
// receives the offer with the offerer's peer_id and answers, the answer comes back. The same client
// messages work on both, and both relay alike. And a real page cut off from the others in its swarm
// announces again, with fresh offers, well before the tracker's interval.
import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocketPackage from 'ws';

import { cartableTracker, launch, npmTracker, openPage, packSample, scratch, serve } from './harness.mjs';

// Node 22 has a global WebSocket; Node 20 needs the `ws` package (which bittorrent-tracker uses too).
const WebSocketClass = globalThis.WebSocket ?? WebSocketPackage;

/** Bytes as a JavaScript binary string, as the protocol carries 20-byte ids. */
const binary = (bytes) => String.fromCharCode(...bytes);

/** The swarm of a course, computed as the core's `tracker::info_hash` does. */
const infoHash = (courseId) => binary(createHash('sha256').update(`cartable-swarm:${courseId}`).digest().subarray(0, 20));

/** A client: `send(message)`, and `next(predicate)` resolving to the next JSON message that matches. */
async function client(url) {
  const socket = new WebSocketClass(url);
  const inbox = [];
  const waiting = [];
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(typeof event.data === 'string' ? event.data : event.data.toString());
    const i = waiting.findIndex((w) => w.wanted(message));
    if (i >= 0) waiting.splice(i, 1)[0].found(message);
    else inbox.push(message);
  });
  await new Promise((open, failed) => {
    socket.addEventListener('open', open);
    socket.addEventListener('error', () => failed(new Error(`cannot connect to ${url}`)));
  });
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    next: (wanted = () => true) => {
      const i = inbox.findIndex(wanted);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      return new Promise((found, failed) => {
        const timer = setTimeout(() => failed(new Error('no such message within 10 s')), 10_000);
        waiting.push({ wanted, found: (m) => { clearTimeout(timer); found(m); } });
      });
    },
    close: () => socket.close(),
  };
}

async function offerAndAnswer(url) {
  const swarm = infoHash('physique-3e-electricite');
  const [first, second] = [await client(url), await client(url)];
  const [firstId, secondId, offerId] = [binary(randomBytes(20)), binary(randomBytes(20)), binary(randomBytes(20))];
  try {
    first.send({ action: 'announce', info_hash: swarm, peer_id: firstId, numwant: 5, uploaded: 0, downloaded: 0,
      left: 1000, event: 'started', offers: [] });
    const reply = await first.next((m) => m.interval !== undefined);
    assert.equal(reply.action, 'announce');
    assert.equal(reply.info_hash, swarm);

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
    second.send({ action: 'announce', info_hash: swarm, peer_id: secondId, numwant: 1, uploaded: 0, downloaded: 0,
      left: 1000, event: 'started', offers: [{ offer_id: offerId, offer }] });
    const relayed = await first.next((m) => m.offer !== undefined);
    assert.deepEqual(relayed.offer, offer);
    assert.equal(relayed.peer_id, secondId, 'the offer carries the offerer');
    assert.equal(relayed.offer_id, offerId);
    assert.equal(relayed.info_hash, swarm);

    const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n' };
    first.send({ action: 'announce', info_hash: swarm, peer_id: firstId, to_peer_id: relayed.peer_id, answer,
      offer_id: relayed.offer_id });
    const back = await second.next((m) => m.answer !== undefined);
    assert.deepEqual(back.answer, answer);
    assert.equal(back.peer_id, firstId, 'the answer carries the answerer');
    assert.equal(back.offer_id, offerId);
    assert.equal(back.info_hash, swarm);
  } finally {
    first.close();
    second.close();
  }
}

for (const [name, start] of [['cartable tracker', cartableTracker], ['npm bittorrent-tracker', npmTracker]]) {
  test(`${name}: an offer reaches the other client and the answer comes back`, async (t) => {
    const { url } = await start(t);
    await offerAndAnswer(url);
  });

  test(`${name}: a malformed announce gets a failure reason`, async (t) => {
    const { url } = await start(t);
    const lone = await client(url);
    lone.send({ action: 'announce', info_hash: 'too short', peer_id: binary(randomBytes(20)) });
    const failure = await lone.next();
    assert.equal(typeof failure['failure reason'], 'string');
    lone.close();
  });
}

test('cartable tracker counts what it relayed and prints it on exit', async (t) => {
  const tracker = await cartableTracker(t);
  await offerAndAnswer(tracker.url);
  assert.match(await tracker.summary(), /2 connections, 3 announces, 1 offers relayed, 1 answers relayed/);
});

// See: issue 15
test('a page cut off from the others in its swarm offers again within 20 s, not at the tracker\'s 2 minutes', async (t) => {
  const tracker = await cartableTracker(t);
  const course = packSample(scratch(t));
  // A classmate already in the swarm who never answers: the page's offers to it go nowhere.
  const silent = new WebSocketClass(tracker.url);
  t.after(() => silent.close());
  const offers = [];
  let interval;
  silent.addEventListener('message', (event) => {
    const message = JSON.parse(typeof event.data === 'string' ? event.data : event.data.toString());
    if (message.offer) offers.push(Date.now());
    interval ??= message.interval;
  });
  await new Promise((open) => silent.addEventListener('open', open));
  silent.send(JSON.stringify({ action: 'announce', info_hash: infoHash(course.manifest.course.id),
    peer_id: binary(randomBytes(20)), numwant: 5, uploaded: 0, downloaded: 0, left: 1000, event: 'started', offers: [] }));

  const origin = await serve(t, course, ['--tracker', tracker.url]);
  const page = await openPage(await launch(t), origin.url);
  await page.getByRole('heading', { level: 1 }).waitFor();
  // Offers sent by one announce arrive together: one 2 s slot each.
  const announces = () => [...new Set(offers.map((at) => Math.floor(at / 2_000)))];
  const deadline = Date.now() + 60_000;
  while (announces().length < 2 && Date.now() < deadline) {
    await new Promise((wait) => setTimeout(wait, 250));
  }
  assert.equal(interval, 120, "the tracker's interval");
  const batches = announces();
  assert.ok(batches.length >= 2, `offers came in ${batches.length} announce(s) within 60 s`);
  const gap = (batches[1] - batches[0]) * 2;
  assert.ok(gap >= 8 && gap <= 26, `the second announce came ${gap} s after the first`);
});
