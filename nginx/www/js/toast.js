// Small notifications in a corner, stacked, announced politely to screen readers.
//
//   toast('Saved', 'success');            kinds: info | success | warning | error
//   toast('Still working…', 'info', 0);   ms = 0 keeps it until dismissed
//   flash('Goodbye!', 'success');         shows on the next page this tab opens

import { h } from './dom.js';
import { t } from './i18n.js';

const MAX_TOASTS = 5;
const FLASH_KEY = 'dbtree.flash';
const KINDS = {
  info: { icon: 'i', label: 'toast.info' },
  success: { icon: '✓', label: 'toast.success' },
  warning: { icon: '!', label: 'toast.warning' },
  error: { icon: '×', label: 'toast.error' },
};

let region = null;

// The live region must exist before text is put in it, or screen readers may miss it.
function getRegion() {
  if (!region || !region.isConnected) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  return region;
}
if (document.body) getRegion();

export function toast(message, kind = 'info', ms = 4000) {
  const style = KINDS[kind] ? kind : 'info';
  const item = h('div', { class: `toast toast-${style}` },
    h('span', { class: 'toast-icon', 'aria-hidden': 'true' }, KINDS[style].icon),
    h('span', { class: 'visually-hidden' }, t(KINDS[style].label)),
    h('p', { class: 'toast-text' }, String(message)),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), onclick: () => item.remove() }, '×'));

  const list = getRegion();
  list.append(item);
  while (list.children.length > MAX_TOASTS) list.firstElementChild.remove();

  if (ms > 0) {
    let timer = setTimeout(() => item.remove(), ms);
    // Hovering or focusing a toast keeps it open.
    const pause = () => clearTimeout(timer);
    const resume = () => { clearTimeout(timer); timer = setTimeout(() => item.remove(), ms); };
    item.addEventListener('mouseenter', pause);
    item.addEventListener('mouseleave', resume);
    item.addEventListener('focusin', pause);
    item.addEventListener('focusout', resume);
  }
  return item;
}

export function flash(message, kind = 'info') {
  try {
    sessionStorage.setItem(FLASH_KEY, JSON.stringify({ message, kind }));
  } catch { /* the message is lost, nothing breaks */ }
}

// Called by js/app.js on every page load.
export function showFlash() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(FLASH_KEY));
    sessionStorage.removeItem(FLASH_KEY);
    if (saved?.message) toast(saved.message, saved.kind);
  } catch { /* ignore a broken entry */ }
}
