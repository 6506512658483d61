// Page bootstrap: every page loads this module. It sets up the theme, the header,
// the login dialog, toasts, and keeps the session fresh.
//
// Adding a page (say /quotas.html):
//   1. Copy account.html: keep its <head> (boot.js, app.css, app.js),
//      the skip link, <header id="site-header"> and <main id="main">.
//   2. Put the page's logic in js/quotas.js and load it with <script type="module">.
//      Call the server only through api() from js/api.js; show errors with messageFor().
//   3. Add the page to LINKS in js/header.js.
//   Content only for logged-in (or logged-out) people: data-show="logged-in" / "logged-out".
//   A button that opens the login dialog: data-action="login".
//   Text: data-i18n="key" / data-i18n-attr="attr:key;..." in the HTML, t('key') in
//   js, each key in js/i18n/en.js and ko.js (tests/browser check both).

import { initAchievements } from './achievements.js';
import { initHeader } from './header.js';
import { applyI18n, t } from './i18n.js';
import { initLogin, openLogin } from './login.js';
import { getToken, initSession, isLoggedIn, refreshProfile, clearSession } from './session.js';
import { initTheme } from './theme.js';
import { showFlash, toast } from './toast.js';

const LOGOUT_MESSAGES = {
  user: 'app.logged_out',
  'other-tab': 'app.logged_out',
  unauthorized: 'app.logged_out_again',
  expired: 'app.logged_out_expired',
};

// html[data-auth] drives the data-show="logged-in|logged-out" CSS rules.
function updateAuthFlag() {
  document.documentElement.dataset.auth = isLoggedIn() ? 'in' : 'out';
}

applyI18n(document);
initTheme();
initSession();
initHeader();
initLogin();
updateAuthFlag();

document.addEventListener('click', (event) => {
  const trigger = event.target.closest('[data-action="login"]');
  if (!trigger) return;
  event.preventDefault();
  openLogin();
});

window.addEventListener('dbtree:profile', updateAuthFlag);
window.addEventListener('dbtree:logout', (event) => {
  updateAuthFlag();
  const message = LOGOUT_MESSAGES[event.detail?.reason];
  if (message) toast(t(message), 'info');
});

showFlash();
initAchievements();

if (isLoggedIn()) {
  refreshProfile().catch(() => { /* a 401 logs out in api.js; other failures keep the cached profile */ });
} else if (getToken()) {
  clearSession('expired'); // the token ran out while no page was open
}
