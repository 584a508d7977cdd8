// A slow line between Chromium and a local origin, for benchmarks: a TCP proxy that gives every byte the
// delay and the pace of a real access line (a pupil's 4 Mbit/s ADSL, say). It works below HTTP, so the
// service worker's own requests cross it too (the DevTools protocol's network emulation does not apply to
// a worker's fetches), and bytes cross it as the origin sends them, compressed.
//
// Each direction is a link shared by every connection, as a home line is: the bytes of all connections
// wait their turn for it in packets, the connections served in turn (as a router's fair queue shares a
// line), are sent at the line's rate, then arrive a one-way delay (half the round trip) later. A new
// connection first waits one round trip, its TCP handshake. Like WebPageTest's tsproxy, it does not model
// TCP's slow start nor losses: on a real line of this round trip a new connection starts slower.
import { createServer, connect } from 'node:net';
import { performance } from 'node:perf_hooks';

/** The most bytes sent at once: a TCP segment on Ethernet. Connections take turns packet by packet. */
const PACKET = 1460;
/** Marks the end of a connection's bytes in one direction; it travels with the delay of the line. */
const END = Symbol('end');

/**
 * One direction of the line: `bytesPerMs` of rate, then `delayMs`. `flow(write, end)` opens a
 * connection's way through it, `{ send(bytes), finish(), drop() }`: what is sent comes out through
 * `write`, in order, and `finish` through `end`; `drop` forgets what is still on the way.
 */
function direction(bytesPerMs, delayMs) {
  const turns = []; // the flows with bytes waiting to be sent, in the order they are served
  const arriving = []; // what was sent and has yet to arrive, as `{ at, flow, piece }`: `at` only grows
  let free = 0; // when the link will have sent all it took (performance.now() milliseconds)
  let timer = null;

  const pump = () => {
    clearTimeout(timer);
    timer = null;
    const now = performance.now();
    // Sends, in turn, what starts being sent by now. A late timer does not slow the line: `free` runs on.
    while (turns.length && free <= now) {
      const flow = turns.shift();
      const piece = flow.take();
      if (piece !== END) free += piece.length / bytesPerMs;
      arriving.push({ at: free + delayMs, flow, piece });
      if (flow.waiting.length) turns.push(flow);
    }
    while (arriving.length && arriving[0].at <= now) {
      const { flow, piece } = arriving.shift();
      if (!flow.dropped) flow.deliver(piece);
    }
    const next = Math.min(turns.length ? free : Infinity, arriving.length ? arriving[0].at : Infinity);
    if (next < Infinity) timer = setTimeout(pump, Math.max(0, next - now));
  };

  const flow = (write, end) => {
    const self = {
      waiting: [],
      dropped: false,
      take() {
        const head = self.waiting[0];
        if (head === END || head.length <= PACKET) return self.waiting.shift();
        self.waiting[0] = head.subarray(PACKET);
        return head.subarray(0, PACKET);
      },
      deliver: (piece) => (piece === END ? end() : write(piece)),
      queue(piece) {
        if (self.dropped) return;
        if (!turns.length) free = Math.max(free, performance.now()); // an idle link starts sending now
        if (!self.waiting.length) turns.push(self);
        self.waiting.push(piece);
        pump();
      },
      send: (bytes) => self.queue(bytes),
      finish: () => self.queue(END),
      drop() {
        self.dropped = true;
        self.waiting.length = 0;
        const at = turns.indexOf(self);
        if (at >= 0) turns.splice(at, 1);
      },
    };
    return self;
  };
  return { flow };
}

/**
 * A shaped line on a free loopback port towards `target` (`http://host:port/`): `mbitPerSecond` each way
 * and a round trip of `rttMs`. Closed when the test ends. Returns `{ url, received }`: `url` ends with `/`;
 * `received(at)` is the bytes from the origin that had reached the browser at `at` (a `Date.now()` time,
 * now by default).
 */
export async function shapedLine(t, target, { mbitPerSecond, rttMs }) {
  const { hostname, port } = new URL(target);
  const bytesPerMs = (mbitPerSecond * 1e6) / 8 / 1000;
  const upLink = direction(bytesPerMs, rttMs / 2);
  const downLink = direction(bytesPerMs, rttMs / 2);
  const arrivals = [[0, 0]]; // [when, bytes so far]: each delivery to the browser
  const received = (at = Date.now()) => {
    let i = arrivals.length - 1;
    while (arrivals[i][0] > at) i--;
    return arrivals[i][1];
  };
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const origin = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
    for (const socket of [client, origin]) socket.setNoDelay(true);
    const up = upLink.flow((bytes) => origin.write(bytes), () => origin.end());
    const back = downLink.flow((bytes) => {
      arrivals.push([Date.now(), arrivals.at(-1)[1] + bytes.length]);
      client.write(bytes);
    }, () => client.end());
    client.on('data', up.send);
    // The handshake: the browser's first bytes leave one round trip after it connected.
    client.pause();
    setTimeout(() => client.resume(), rttMs);
    client.on('end', up.finish);
    origin.on('data', back.send);
    origin.on('end', back.finish);
    const close = () => { up.drop(); back.drop(); client.destroy(); origin.destroy(); };
    for (const socket of [client, origin]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  t.after(() => new Promise((closed) => { server.close(closed); setTimeout(closed, 1000).unref(); }));
  return { url: `http://127.0.0.1:${server.address().port}/`, received };
}
