// Starts cartable on the standalone page, with the pinned course and key of its config block.
import { start } from './start.js';

const root = document.getElementById('cartable');
// A stored lesson the service worker put in the page, and the address names, is painted before the wasm
// starts: compiling and starting it would otherwise hold the main thread first.
if (document.querySelector('.cartable-prerender > section:not([hidden])')) {
  await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted, 0)));
}
await start(root, () => JSON.parse(document.getElementById('cartable-config').textContent));
