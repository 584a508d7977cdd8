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
  root.textContent = "cartable n'a pas pu démarrer : " + error.message +
    '. Rechargez la page ; si cela continue, prévenez votre établissement.';
  root.classList.add('fatal');
}
