// The page a mail's backup link opens: the token stays in the fragment (no
// server, proxy or mail scanner sees it, so none can spend it) until the
// person presses Download.
import { applyI18n, t } from './i18n.js';

applyI18n(document);
const token = location.hash.slice(1);
const button = document.getElementById('download-button');
if (/^[A-Za-z0-9-]{43}$/.test(token)) {
  button.href = '/api/db/backups/download/' + token;
  button.addEventListener('click', () => {
    button.setAttribute('aria-disabled', 'true');
    button.textContent = t('backup.downloading');
  });
} else {
  button.hidden = true;
  document.getElementById('download-missing').hidden = false;
}
