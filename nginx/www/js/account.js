// The account page: profile figures, the last copies of deleted databases
// (js/backups.js) and "Delete account".
// Which sections show is decided by CSS (data-show + html[data-auth]); this module fills them in.

import { renderAchievements, renderStreak, watchAchievements } from './achievements.js';
import { api, messageFor } from './api.js';
import { initFinalBackups } from './backups.js';
import { h } from './dom.js';
import { fmtDate, fmtNumber, t } from './i18n.js';
import { initHarvestChart } from './harvest-chart.js';
import { initLedger } from './ledger.js';
import { clearSession, getProfile, isLoggedIn, refreshProfile } from './session.js';
import { flash, toast } from './toast.js';

const $ = (id) => document.getElementById(id);
const dateAndTime = { dateStyle: 'medium', timeStyle: 'short' };
const dateOnly = { dateStyle: 'long' };

function showNumber(id, value) {
  $(id).textContent = Number.isFinite(value) ? fmtNumber(value) : '–';
}

function showDate(id, value, opts, whenEmpty) {
  const date = value ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    $(id).textContent = value ? '–' : whenEmpty;
    return;
  }
  $(id).replaceChildren(h('time', { datetime: value, title: date.toString() }, fmtDate(date, opts)));
}

function showStatus(text) {
  $('account-status').textContent = text;
  $('account-status').hidden = !text;
}

function renderProfile() {
  const profile = isLoggedIn() ? getProfile() : null;
  if (!profile) return;
  $('account-email').textContent = profile.email ?? '–';
  showNumber('account-balance', profile.lemonBalance);
  showNumber('account-earned', profile.totalEarnedLemons);
  showNumber('account-spent', profile.totalSpentLemons);
  showDate('account-last-harvest', profile.lastHarvestAt, dateAndTime, t('account.never'));
  showDate('account-joined', profile.joinedAt, dateOnly, '–');
  renderStreak($('streak-box'), profile.streak);
}

// ---- Achievements (the list js/app.js fetches on every page) ------------------

function showAchievements(list) {
  $('achievements-error').hidden = true;
  renderAchievements($('achievements-box'), list);
}

watchAchievements(showAchievements, (said) => {
  $('achievements-error').textContent = t('achievements.load_failed', { said });
  $('achievements-error').hidden = false;
});

async function loadProfile() {
  if (!isLoggedIn()) return;
  try {
    await refreshProfile(); // fires "dbtree:profile", which re-renders
    showStatus('');
  } catch (err) {
    if (err.status !== 401) showStatus(t('account.load_failed', { said: messageFor(err) }));
  }
}

// ---- Delete account ----------------------------------------------------------

const dialog = $('delete-dialog');
const form = $('delete-form');
const input = $('delete-confirm-input');
const confirmButton = $('delete-confirm-button');
const errorBox = $('delete-error');

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

function confirmed() {
  return input.value.trim() === 'DELETE';
}

function openDeleteDialog() {
  form.reset();
  showError('');
  confirmButton.disabled = true;
  dialog.showModal();
  input.focus();
}

async function deleteAccount(event) {
  event.preventDefault();
  if (!confirmed()) return;
  showError('');
  confirmButton.disabled = true;
  confirmButton.textContent = t('account.deleting');
  try {
    await api('DELETE', '/user');
  } catch (err) {
    showError(messageFor(err));
    confirmButton.textContent = t('account.delete_confirm_button');
    confirmButton.disabled = !confirmed();
    return;
  }
  const goodbye = t('account.goodbye');
  clearSession('deleted'); // the server already ended the session
  dialog.close();
  toast(goodbye, 'success');
  flash(goodbye, 'success'); // shown again on the home page
  setTimeout(() => location.assign('/'), 1500);
}

$('delete-account-button').addEventListener('click', openDeleteDialog);
for (const button of dialog.querySelectorAll('[data-close]')) {
  button.addEventListener('click', () => dialog.close());
}
input.addEventListener('input', () => { confirmButton.disabled = !confirmed(); });
form.addEventListener('submit', deleteAccount);

// ---- Harvest chart and ledger ------------------------------------------------

const chart = initHarvestChart();
const ledger = initLedger();
const finals = initFinalBackups();
let historyLoaded = false;

function loadHistory() {
  if (historyLoaded || !isLoggedIn()) return;
  historyLoaded = true;
  chart.load();
  ledger.load();
  finals.load();
}

// ---- Start -------------------------------------------------------------------

window.addEventListener('dbtree:profile', () => {
  renderProfile();
  loadHistory(); // someone just logged in on this page
});
window.addEventListener('dbtree:logout', (event) => {
  showStatus('');
  if (dialog.open && event.detail?.reason !== 'deleted') dialog.close();
  historyLoaded = false;
  chart.clear();
  ledger.clear();
  finals.clear();
});

renderProfile();
loadProfile();
loadHistory();
