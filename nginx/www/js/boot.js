// Runs before first paint (a classic, blocking <script> in every page's <head>):
// sets html[data-theme] ("light" | "dark") and html[data-auth] ("in" | "out")
// so the page never flashes the wrong theme or the wrong logged-in/out content.
// Keep this file tiny and free of imports; js/theme.js and js/session.js take over later.
(function () {
  var root = document.documentElement;
  var theme = null;
  var auth = 'out';
  try {
    theme = localStorage.getItem('dbtree.theme');
    var token = localStorage.getItem('dbtree.token');
    var expiresAt = Number(localStorage.getItem('dbtree.expiresAt'));
    if (token && (!expiresAt || Date.now() < expiresAt)) auth = 'in';
  } catch (e) { /* storage blocked: use the defaults */ }
  if (theme !== 'light' && theme !== 'dark') {
    var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    theme = dark ? 'dark' : 'light';
  }
  root.setAttribute('data-theme', theme);
  root.setAttribute('data-auth', auth);
})();
