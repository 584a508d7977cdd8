// Starts cartable inside another site's iframe. The course and the school key it must be signed with come
// from this page's address, `embed.html?manifest=<url>&key=ed25519:<base64>[&lang=en][&mirror=<url>…]`:
// whoever writes the iframe's address (the school's site) chooses the key, as the config block of
// index.html does for a self-hosted copy. index.html never reads its address.
import { start } from './start.js';

await start(document.getElementById('cartable'), () => {
  const query = new URLSearchParams(location.search);
  const [manifest, key] = [query.get('manifest'), query.get('key')];
  if (!manifest || !key) throw new Error("l'adresse de la page doit donner manifest et key");
  return { manifest, key, lang: query.get('lang') ?? undefined, mirrors: query.getAll('mirror') };
});
