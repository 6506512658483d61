// The shared page header, rendered into <header id="site-header">.
// To add a page to the navigation, add it to LINKS.
// The language switch saves the choice (js/i18n.js) and reloads the page.

import { h } from './dom.js';
import { LANGS, fmtNumber, lang, setLang, t } from './i18n.js';
import { lemonIcon, moonIcon, sunIcon } from './icons.js';
import { getProfile, isLoggedIn, logout } from './session.js';
import { getTheme, toggleTheme } from './theme.js';

const LINKS = [
  { href: '/', label: 'nav.home', paths: ['/', '/index.html'] },
  { href: '/dashboard.html', label: 'nav.dashboard', paths: ['/dashboard.html', '/dashboard'] },
  { href: '/account.html', label: 'nav.account', paths: ['/account.html', '/account'] },
];

function brand() {
  return h('a', { class: 'brand', href: '/' }, lemonIcon('brand-icon'), h('span', {}, 'dbtree'));
}

function nav() {
  const here = location.pathname;
  return h('nav', { class: 'site-nav', 'aria-label': t('nav.label') },
    h('ul', {}, LINKS.map((link) => h('li', {},
      h('a', { href: link.href, 'aria-current': link.paths.includes(here) ? 'page' : null }, t(link.label))))));
}

function themeButton() {
  const button = h('button', { type: 'button', id: 'theme-toggle', class: 'icon-btn', onclick: toggleTheme });
  updateThemeButton(button);
  return button;
}

function updateThemeButton(button = document.getElementById('theme-toggle')) {
  if (!button) return;
  const dark = getTheme() === 'dark';
  const label = t(dark ? 'header.theme_light' : 'header.theme_dark');
  button.setAttribute('aria-label', label);
  button.title = label;
  button.replaceChildren(dark ? sunIcon() : moonIcon());
}

function userInfo(profile) {
  const balance = Number.isFinite(profile?.lemonBalance) ? fmtNumber(profile.lemonBalance) : '–';
  return h('div', { class: 'header-user' },
    h('a', { id: 'header-email', class: 'header-email', href: '/account.html', title: profile?.email ?? null },
      profile?.email ?? t('header.your_account')),
    h('span', { class: 'balance', title: t('header.your_lemons') },
      h('span', { class: 'visually-hidden' }, t('header.balance_label')),
      h('span', { id: 'header-balance' }, `🍋 ${balance}`)));
}

let loggingOut = false;

async function onLogout() {
  if (loggingOut) return; // (not disabling the button keeps keyboard focus in the header)
  loggingOut = true;
  try {
    await logout(); // fires "dbtree:logout", which re-renders the header
  } finally {
    loggingOut = false;
  }
}

function controls(loggedIn) {
  const account = loggedIn
    ? h('button', { type: 'button', id: 'logout-button', class: 'btn btn-ghost', onclick: onLogout }, t('header.logout'))
    : h('button', { type: 'button', id: 'login-button', class: 'btn btn-primary', dataset: { action: 'login' } }, t('header.login'));
  return h('div', { class: 'header-controls' }, langSelect(), themeButton(), account);
}

// Each language is named in itself ('lang.ko' is "한국어" in every catalogue).
function langSelect() {
  const select = h('select', { id: 'lang-select', class: 'lang-select', 'aria-label': t('header.language'), title: t('header.language') },
    LANGS.map((code) => h('option', { value: code, lang: code, selected: code === lang() }, t(`lang.${code}`))));
  select.addEventListener('change', () => {
    setLang(select.value);
    location.reload();
  });
  return select;
}

export function renderHeader() {
  const root = document.getElementById('site-header');
  if (!root) return;
  const focusedId = root.contains(document.activeElement) ? document.activeElement.id : '';
  const loggedIn = isLoggedIn();

  root.replaceChildren(h('div', { class: 'header-inner container' },
    brand(), nav(), loggedIn ? userInfo(getProfile()) : null, controls(loggedIn)));

  // Keep keyboard focus in the header when the button under it was replaced.
  if (focusedId) {
    const target = document.getElementById(focusedId) ?? root.querySelector('#login-button, #logout-button');
    target?.focus();
  }
}

export function initHeader() {
  renderHeader();
  window.addEventListener('dbtree:profile', () => renderHeader());
  window.addEventListener('dbtree:logout', () => renderHeader());
  window.addEventListener('dbtree:theme', () => updateThemeButton());
}
