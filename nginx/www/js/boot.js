// Runs before first paint (a classic, blocking <script> in every page's <head>):
// sets html[data-theme] ("light" | "dark"), html[data-auth] ("in" | "out") and
// <html lang> ("en" | "ko": the saved choice, else the first of the browser's
// languages we speak) so the page never flashes the wrong theme, the wrong
// logged-in/out content or the wrong language: pages are written in English, so
// another language hides the body (html.i18n-pending) until js/i18n.js has
// filled it in (at most 2 s, should a module fail to load).
// Keep this file tiny and free of imports; js/theme.js, js/session.js and
// js/i18n.js take over later.
(function () {
  var root = document.documentElement;
  var theme = null;
  var auth = 'out';
  var lang = null;
  try {
    theme = localStorage.getItem('dbtree.theme');
    lang = localStorage.getItem('dbtree.lang');
    var token = localStorage.getItem('dbtree.token');
    var expiresAt = Number(localStorage.getItem('dbtree.expiresAt'));
    if (token && (!expiresAt || Date.now() < expiresAt)) auth = 'in';
  } catch (e) { /* storage blocked: use the defaults */ }
  if (theme !== 'light' && theme !== 'dark') {
    var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    theme = dark ? 'dark' : 'light';
  }
  if (lang !== 'en' && lang !== 'ko') {
    var langs = navigator.languages || [navigator.language || 'en'];
    lang = 'en';
    for (var i = 0; i < langs.length; i++) {
      var code = String(langs[i]).toLowerCase().slice(0, 2);
      if (code === 'en' || code === 'ko') { lang = code; break; }
    }
  }
  root.setAttribute('lang', lang);
  if (lang !== 'en') {
    root.classList.add('i18n-pending');
    setTimeout(function () { root.classList.remove('i18n-pending'); }, 2000);
  }
  root.setAttribute('data-theme', theme);
  root.setAttribute('data-auth', auth);
})();
