// The shared page header, rendered into <header id="site-header">.
// To add a page to the navigation, add it to LINKS.

import { h } from './dom.js';
import { lemonIcon, moonIcon, sunIcon } from './icons.js';
import { getProfile, isLoggedIn, logout } from './session.js';
import { getTheme, toggleTheme } from './theme.js';

const LINKS = [
  { href: '/', label: 'Home', paths: ['/', '/index.html'] },
  { href: '/dashboard.html', label: 'Dashboard', paths: ['/dashboard.html', '/dashboard'] },
  { href: '/account.html', label: 'Account', paths: ['/account.html', '/account'] },
];

const numbers = new Intl.NumberFormat();

function brand() {
  return h('a', { class: 'brand', href: '/' }, lemonIcon('brand-icon'), h('span', {}, 'dbtree'));
}

function nav() {
  const here = location.pathname;
  return h('nav', { class: 'site-nav', 'aria-label': 'Main' },
    h('ul', {}, LINKS.map((link) => h('li', {},
      h('a', { href: link.href, 'aria-current': link.paths.includes(here) ? 'page' : null }, link.label)))));
}

function themeButton() {
  const button = h('button', { type: 'button', id: 'theme-toggle', class: 'icon-btn', onclick: toggleTheme });
  updateThemeButton(button);
  return button;
}

function updateThemeButton(button = document.getElementById('theme-toggle')) {
  if (!button) return;
  const dark = getTheme() === 'dark';
  const label = dark ? 'Switch to light theme' : 'Switch to dark theme';
  button.setAttribute('aria-label', label);
  button.title = label;
  button.replaceChildren(dark ? sunIcon() : moonIcon());
}

function userInfo(profile) {
  const balance = Number.isFinite(profile?.lemonBalance) ? numbers.format(profile.lemonBalance) : '–';
  return h('div', { class: 'header-user' },
    h('a', { id: 'header-email', class: 'header-email', href: '/account.html', title: profile?.email ?? null },
      profile?.email ?? 'Your account'),
    h('span', { class: 'balance', title: 'Your lemons' },
      h('span', { class: 'visually-hidden' }, 'Lemon balance: '),
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
    ? h('button', { type: 'button', id: 'logout-button', class: 'btn btn-ghost', onclick: onLogout }, 'Log out')
    : h('button', { type: 'button', id: 'login-button', class: 'btn btn-primary', dataset: { action: 'login' } }, 'Log in');
  return h('div', { class: 'header-controls' }, themeButton(), account);
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
