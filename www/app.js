// Starts cartable on the standalone page: reads the pinned course and key, loads the wasm, mounts.
import init, { mount } from './pkg/cartable.js';

const root = document.getElementById('cartable');
try {
  const config = JSON.parse(document.getElementById('cartable-config').textContent);
  await init();
  mount(root, config);
} catch (error) {
  root.textContent = "cartable n'a pas pu démarrer : " + error.message +
    '. Rechargez la page ; si cela continue, prévenez votre établissement.';
  root.classList.add('fatal');
}
