// Starts cartable on the standalone page: reads the pinned course and key, loads the wasm, mounts.
const root = document.getElementById('cartable');
// A stored lesson the service worker put in the page, and the address names, is painted before the wasm
// starts: compiling and starting it would otherwise hold the main thread first.
if (document.querySelector('.cartable-prerender > section:not([hidden])')) {
  await new Promise((painted) => requestAnimationFrame(() => setTimeout(painted, 0)));
}
try {
  const config = JSON.parse(document.getElementById('cartable-config').textContent);
  const { default: init, mount } = await import('./pkg/cartable.js');
  await init();
  mount(root, config);
} catch (error) {
  for (const early of document.querySelectorAll('.cartable-prerender')) early.remove();
  // The app's strings are in the wasm that failed: French, or English for a browser that prefers it.
  let chosen = null;
  try { chosen = localStorage.getItem('cartable.lang'); } catch { /* storage refused: the browser's choice */ }
  const english = /^en\b/i.test(chosen ?? navigator.languages.find((tag) => /^(fr|en)\b/i.test(tag)) ?? '');
  root.textContent = english
    ? `cartable could not start: ${error.message}. Reload the page; if this goes on, tell your school.`
    : `cartable n'a pas pu démarrer : ${error.message}. Rechargez la page ; si cela continue, prévenez votre établissement.`;
  root.classList.add('fatal');
}
