// Copy buttons and the one-time credentials dialog (<dialog id="credentials-dialog">).
//
//   <code id="x">text</code> <button class="copy-button" data-copy-target="x">Copy</button>
//   initCopyButtons();            // once per page: every .copy-button copies its target's text
//   showCredentials({ name, credentials, kind: 'created' | 'reset' });

import { toast } from './toast.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

// Puts the text of `el` in a selection, so the person can copy it by hand.
function selectText(el) {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    el.focus();
    el.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(el);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

export async function copyFrom(el) {
  if (!el) return false;
  const text = 'value' in el && typeof el.value === 'string' ? el.value : el.textContent;
  try {
    if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    toast(t('copy.copied'), 'success', 2000);
    return true;
  } catch {
    // No clipboard permission (or not a secure page): select the text instead.
    selectText(el);
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch { /* old API, may be gone */ }
    if (copied) toast(t('copy.copied'), 'success', 2000);
    else toast(t('copy.selected'), 'info');
    return copied;
  }
}

let copyWired = false;

export function initCopyButtons() {
  if (copyWired) return;
  copyWired = true;
  document.addEventListener('click', (event) => {
    const button = event.target.closest('.copy-button');
    if (!button || button.disabled) return;
    event.preventDefault();
    copyFrom($(button.dataset.copyTarget));
  });
}

// ---- The credentials dialog ------------------------------------------------------

let wired = false;

function wire(dialog) {
  if (wired) return;
  wired = true;
  // The password is never shown again: only "I saved it" closes the dialog,
  // not Escape and not a click beside it.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  $('credentials-done').addEventListener('click', () => dialog.close());
}

function put(id, value) {
  const el = $(id);
  const text = value == null || value === '' ? '' : String(value);
  el.textContent = text || '–';
  // Nothing to copy for a missing value.
  const row = el.closest('.credential-row');
  const button = row?.querySelector('.copy-button');
  if (button) button.disabled = !text;
}

// kind: "created" (after POST /db/instances) or "reset" (after a password reset).
export function showCredentials({ name, credentials, kind = 'created' }) {
  const dialog = $('credentials-dialog');
  wire(dialog);
  const c = credentials ?? {};
  $('credentials-title').textContent = t(`credentials.${kind}_title`, { name });
  $('credentials-intro').textContent = t(`credentials.${kind}_intro`);
  put('credentials-username', c.username);
  put('credentials-password', c.password);
  put('credentials-host', c.externalHost);
  put('credentials-port', c.externalPort);
  put('credentials-uri', c.externalUri);
  put('credentials-uri-verify', c.externalUriVerifyFull);
  if (!dialog.open) dialog.showModal();
  $('credentials-password').closest('.credential-row')?.querySelector('.copy-button')?.focus();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(), { once: true }));
}
