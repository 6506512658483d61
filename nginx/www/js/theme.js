// Light/dark theme. The choice is saved per browser in localStorage "dbtree.theme";
// without a saved choice the system preference (prefers-color-scheme) is followed.
// js/boot.js applies the theme before first paint; this module keeps it up to date.
// Fires window event "dbtree:theme" with detail { theme } whenever it changes.

const KEY = 'dbtree.theme';
const systemDark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

function savedTheme() {
  try {
    const theme = localStorage.getItem(KEY);
    return theme === 'light' || theme === 'dark' ? theme : null;
  } catch {
    return null;
  }
}

function preferredTheme() {
  return savedTheme() ?? (systemDark?.matches ? 'dark' : 'light');
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  window.dispatchEvent(new CustomEvent('dbtree:theme', { detail: { theme } }));
}

export function getTheme() {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

export function setTheme(theme) {
  try {
    localStorage.setItem(KEY, theme);
  } catch { /* not saved, still applied */ }
  applyTheme(theme);
}

export function toggleTheme() {
  setTheme(getTheme() === 'dark' ? 'light' : 'dark');
}

export function initTheme() {
  applyTheme(preferredTheme());
  systemDark?.addEventListener('change', () => {
    if (!savedTheme()) applyTheme(preferredTheme());
  });
  // Another tab changed the theme.
  window.addEventListener('storage', (event) => {
    if (event.key === KEY || event.key === null) applyTheme(preferredTheme());
  });
}
