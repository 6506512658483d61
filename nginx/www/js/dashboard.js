// The dashboard: your databases, one selected in detail (URL hash #<id>),
// the create wizard (js/wizard.js) and the one-time credentials (js/credentials.js).
// The detail's Backups block is js/backups.js, which polls its own list.
//
// Polling: the list (and the selected instance, for its live figures) every 2 s
// while something is provisioning or deleting or was just acted on, else every 15 s;
// nothing while the tab is hidden.

import { initBackups } from './backups.js';
import { h } from './dom.js';
import { fmtDate, fmtNumber, t, tn } from './i18n.js';
import { initCopyButtons, showCredentials } from './credentials.js';
import {
  MAX_INSTANCES, bytesText, cpuText, deleteInstance, diskText, fullCost, getInstance, hoursFor,
  hoursText, instanceAction, instanceErrorText, isBusy, lemons, listInstances, liveCount, memoryText,
  presetLabel, reasonText, resetPassword, sizeLabel, statusText, statusTone, typeLabel, uptimeText,
} from './instances.js';
import { getProfile, isLoggedIn, refreshProfile } from './session.js';
import { toast } from './toast.js';
import { initWizard } from './wizard.js';

const FAST_MS = 2000;
const SLOW_MS = 15000;
const AFTER_ACTION_MS = 20000; // poll fast this long after a start/stop/restart/delete/create
const PROFILE_EVERY_MS = 60000;

const $ = (id) => document.getElementById(id);

const state = {
  instances: [],
  loaded: false,
  listError: '',
  selectedId: null,
  detail: null, // the last GET /db/instances/<id> answer for the selected one (with metrics)
  detailAt: 0,
  statuses: new Map(), // id → last status seen, to notice provisioning → running
  fastUntil: 0,
  timer: null,
  acting: null, // the action in flight: "start" | "stop" | "restart"
  profileAt: 0,
};

// ---- Small view helpers ----------------------------------------------------------

function statusDot(status) {
  return h('span', { class: 'status-dot', dataset: { tone: statusTone(status) }, 'aria-hidden': 'true' });
}

function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
}

function formatDate(value) {
  const d = value ? new Date(value) : null;
  return d && !Number.isNaN(d.getTime()) ? fmtDate(d) : '–';
}

function balance() {
  const b = getProfile()?.lemonBalance;
  return Number.isFinite(b) ? b : null;
}

function selected() {
  const id = state.selectedId;
  if (!id) return null;
  const base = state.instances.find((i) => i.id === id) ?? null;
  const detail = state.detail?.id === id ? state.detail : null;
  if (base && detail) return { ...base, ...detail };
  return base ?? detail;
}

// ---- The list --------------------------------------------------------------------

function listItem(inst) {
  const isSelected = inst.id === state.selectedId;
  const cost = fullCost(inst.cost);
  const text = statusText(inst);
  return h('li', { id: `instance-${inst.id}`, class: `instance-item${isSelected ? ' is-selected' : ''}`, dataset: { status: inst.status } },
    h('a', { class: 'instance-link', href: `#${encodeURIComponent(inst.id)}`, 'aria-current': isSelected ? 'true' : null },
      h('span', { class: 'instance-name' }, inst.name),
      h('span', { class: 'instance-status', title: text }, statusDot(inst.status), h('span', { class: 'status-text' }, text)),
      h('span', { class: 'instance-meta' },
        h('span', {}, [typeLabel(inst.type), sizeLabel(inst.size)].filter(Boolean).join(' · ')),
        h('span', { class: 'instance-cost' }, Number.isFinite(cost.hourlyLemons) ? t('dashboard.per_hour_short', { n: fmtNumber(cost.hourlyLemons) }) : ''))));
}

function renderList() {
  const list = $('instance-list');
  const empty = state.loaded && state.instances.length === 0;
  list.replaceChildren(...state.instances.map(listItem));
  list.hidden = state.instances.length === 0;
  $('instance-loading').hidden = state.loaded || Boolean(state.listError);
  $('instance-empty').hidden = !empty;
  $('dashboard').classList.toggle('is-empty', empty);
  setText('instance-count', state.loaded ? t('dashboard.count', { n: liveCount(state.instances), max: MAX_INSTANCES }) : '');
  const status = $('dashboard-status');
  status.textContent = state.listError;
  status.hidden = !state.listError;
}

// ---- The detail ------------------------------------------------------------------

// Statuses with a notice ('dashboard.notice.<status>').
const NOTICES = ['provisioning', 'paused', 'stopped', 'error', 'deleting', 'backing_up', 'restoring'];

function usernameFrom(uri) {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^:@/]*)(?::[^@]*)?@/i.exec(uri || '');
  return m && m[1] ? m[1] : '';
}

function renderActions(inst) {
  const s = inst.status;
  const want = inst.desiredStatus ?? s;
  const settled = s === 'running' || s === 'stopped' || s === 'paused';
  const show = {
    'action-start': settled && (want === 'stopped' || want === 'paused'),
    'action-stop': settled && want === 'running',
    'action-restart': s === 'running' && want === 'running',
    'action-reset': s !== 'error' && s !== 'deleting' && s !== 'restoring',
    'action-delete': s !== 'deleting',
  };
  const busyLabels = { start: 'instances.starting', stop: 'instances.stopping', restart: 'dashboard.restarting' };
  for (const [id, visible] of Object.entries(show)) {
    const button = $(id);
    button.hidden = !visible;
    button.disabled = Boolean(state.acting);
    const act = button.dataset.act;
    const label = t(state.acting && act === state.acting ? busyLabels[act] : button.dataset.i18n);
    if (label && button.textContent !== label) button.textContent = label;
  }
  $('detail-actions').setAttribute('aria-busy', String(Boolean(state.acting)));
}

function renderMetrics(inst) {
  const m = inst.metrics && typeof inst.metrics === 'object' ? inst.metrics : null;
  setText('metric-connections', m && Number.isFinite(m.connections) ? fmtNumber(m.connections) : '—');
  setText('metric-storage', m ? bytesText(m.storageBytes) : '—');
  setText('metric-memory', m ? bytesText(m.memoryBytes) : '—');
  setText('metric-uptime', m ? uptimeText(m.uptimeSeconds) : '—');
  let note;
  if (m) note = state.detailAt ? t('dashboard.updated_at', { time: fmtDate(state.detailAt, { timeStyle: 'medium' }) }) : '';
  else note = t(inst.status === 'running' ? 'dashboard.metrics_unavailable' : 'dashboard.metrics_when_running');
  setText('metrics-note', note);
}

function renderConnection(inst) {
  const uri = inst.externalUriTemplate || '';
  const user = usernameFrom(uri);
  setText('detail-host', inst.externalHost || '–');
  const port = inst.externalPort ?? inst.port;
  setText('detail-port', port ? String(port) : '–');
  setText('detail-user', user || '–');
  $('detail-user-row').hidden = !user;
  setText('detail-uri', uri || t('dashboard.uri_pending'));
  $('detail-uri').classList.toggle('is-placeholder', !uri);
  $('detail-uri-copy').disabled = !uri;
  $('detail-uri-hint').hidden = !uri;
  const verify = inst.externalUriTemplateVerifyFull || '';
  setText('detail-uri-verify', verify || t('dashboard.uri_pending'));
  $('detail-uri-verify').classList.toggle('is-placeholder', !verify);
  $('detail-uri-verify-copy').disabled = !verify;
  $('detail-tls').hidden = inst.tls !== true;
  $('detail-ca-redis').hidden = inst.type !== 'redis';
}

function renderCost(inst) {
  const cost = fullCost(inst.cost);
  setText('detail-hourly', lemons(cost.hourlyLemons));
  setText('detail-daily', lemons(cost.dailyLemons));
  setText('detail-monthly', lemons(cost.monthlyLemons));
  setText('detail-creation', lemons(cost.creationCost));
  const bal = balance();
  const hours = hoursFor(bal, cost.hourlyLemons);
  setText('detail-hours-left', hoursText(hours));
  let note = '';
  if (bal != null && Number.isFinite(cost.hourlyLemons)) {
    const vars = { lemons: tn('unit.lemons', bal), hourly: fmtNumber(cost.hourlyLemons), days: tn('unit.days', Math.floor(hours / 24)) };
    note = t(hours >= 48 ? 'dashboard.hours_note_days' : 'dashboard.hours_note', vars);
    if (inst.status === 'stopped') note += t('dashboard.stopped_not_billed');
    else if (hours === 0) note += t('dashboard.harvest_to_keep');
  }
  setText('detail-hours-note', note);
}

function renderSpecs(inst) {
  const r = inst.resources ?? {};
  setText('detail-cpu', cpuText(r.cpu));
  setText('detail-memory', memoryText(r.memory));
  setText('detail-disk', diskText(r.disk));
  setText('detail-created', formatDate(inst.createdAt));
  setText('detail-preset', inst.createdFromPreset ? presetLabel(inst.createdFromPreset) : t('dashboard.custom_size'));
  $('detail-paused-row').hidden = !inst.pausedAt;
  setText('detail-paused-at', formatDate(inst.pausedAt));
}

function renderDetail() {
  const inst = selected();
  const detail = $('instance-detail');
  const nothing = !inst;
  detail.hidden = nothing;
  $('detail-placeholder').hidden = !nothing || !state.loaded || state.instances.length === 0;
  backups.show(inst);
  if (nothing) return;

  setText('detail-name', inst.name);
  setText('detail-kind', [typeLabel(inst.type), sizeLabel(inst.size), inst.mode].filter(Boolean).join(' · '));
  const badge = $('detail-status');
  const shown = statusText(inst);
  if (badge.dataset.status !== inst.status || badge.dataset.text !== shown || !badge.firstChild) { // a live region: only real changes
    badge.dataset.status = inst.status;
    badge.dataset.text = shown;
    badge.replaceChildren(statusDot(inst.status), h('span', {}, shown));
  }
  const reason = reasonText(inst.statusReason);
  setText('detail-reason', reason ? t('dashboard.reason', { reason }) : '');
  $('detail-reason').hidden = !reason;
  const notice = NOTICES.includes(inst.status) ? t(`dashboard.notice.${inst.status}`) : '';
  setText('detail-notice', notice);
  $('detail-notice').hidden = !notice;
  $('detail-notice').dataset.status = inst.status;

  renderActions(inst);
  renderConnection(inst);
  renderMetrics(inst);
  renderCost(inst);
  renderSpecs(inst);
}

function render() {
  renderList();
  renderDetail();
  wizard.refresh();
}

function showDetailError(text) {
  $('detail-error').textContent = text;
  $('detail-error').hidden = !text;
}

// ---- Selection (URL hash) --------------------------------------------------------

function hashId() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return '';
  }
}

function clearHash() {
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

function select(id) {
  const next = id || null;
  if (next === state.selectedId) {
    renderDetail();
    return;
  }
  state.selectedId = next;
  state.detail = null;
  state.detailAt = 0;
  showDetailError('');
  render();
  if (next) refresh();
}

function deselect(message) {
  clearHash();
  select(null);
  if (message) toast(message, 'info');
}

function focusDetail() {
  requestAnimationFrame(() => {
    if (!$('instance-detail').hidden) $('detail-name').focus();
  });
}

// ---- Loading and polling ---------------------------------------------------------

// Notices provisioning → running (or → error) whichever answer shows it first.
function noteStatus(inst) {
  if (!inst?.id) return;
  const before = state.statuses.get(inst.id);
  if (before === 'provisioning' && inst.status === 'running') {
    toast(t('dashboard.ready', { name: inst.name }), 'success', 6000);
  } else if (before === 'provisioning' && inst.status === 'error') {
    toast(inst.statusReason ? t('dashboard.create_failed_reason', { name: inst.name, reason: reasonText(inst.statusReason) }) : t('dashboard.create_failed', { name: inst.name }), 'error', 0);
  }
  state.statuses.set(inst.id, inst.status);
}

function applyList(list) {
  const instances = Array.isArray(list) ? list.filter((i) => i && i.id) : [];
  instances.forEach(noteStatus);
  state.instances = instances;
  state.loaded = true;
  state.listError = '';
  if (state.selectedId && !instances.some((i) => i.id === state.selectedId)) {
    deselect(t('dashboard.not_in_list'));
  }
}

let inflight = null;
let queued = null;

async function load() {
  const id = state.selectedId;
  const [listRes, detailRes] = await Promise.allSettled([
    listInstances(),
    id ? getInstance(id) : Promise.resolve(null),
  ]);
  if (!isLoggedIn()) return;
  if (listRes.status === 'fulfilled') {
    applyList(listRes.value);
  } else if (listRes.reason?.status !== 401) {
    state.listError = t('dashboard.load_failed', { said: instanceErrorText(listRes.reason) });
  }
  if (id && id === state.selectedId) {
    if (detailRes.status === 'fulfilled' && detailRes.value) {
      noteStatus(detailRes.value);
      state.detail = detailRes.value;
      state.detailAt = Date.now();
    } else if (detailRes.status === 'rejected' && (detailRes.reason?.code === 1400 || detailRes.reason?.status === 404)) {
      deselect(t('dashboard.gone'));
    }
  }
  if (Date.now() - state.profileAt > PROFILE_EVERY_MS) {
    state.profileAt = Date.now();
    refreshProfile().catch(() => {});
  }
  render();
}

// Resolves after a load that started after this call (so an action's effect is seen).
function refresh() {
  if (!isLoggedIn()) return Promise.resolve();
  if (inflight) {
    queued ??= inflight.then(() => {
      queued = null;
      return refresh();
    });
    return queued;
  }
  clearTimeout(state.timer);
  inflight = load()
    .catch(() => { /* shown by load() */ })
    .finally(() => {
      inflight = null;
      schedule();
    });
  return inflight;
}

function schedule() {
  clearTimeout(state.timer);
  if (!isLoggedIn() || document.visibilityState === 'hidden') return;
  const fast = Date.now() < state.fastUntil || state.instances.some((i) => isBusy(i));
  state.timer = setTimeout(refresh, fast ? FAST_MS : SLOW_MS);
}

function hurry() {
  state.fastUntil = Date.now() + AFTER_ACTION_MS;
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') clearTimeout(state.timer);
  else refresh();
});

// ---- Actions ---------------------------------------------------------------------

const DONE = {
  start: (name) => t('dashboard.started', { name }),
  stop: (name) => t('dashboard.stopped', { name }),
  restart: (name) => t('dashboard.restarting_name', { name }),
};

async function runAction(act) {
  const inst = selected();
  if (!inst || state.acting) return;
  state.acting = act;
  showDetailError('');
  renderDetail();
  try {
    await instanceAction(inst.id, act);
    toast(DONE[act](inst.name), 'success');
    hurry();
    if (act !== 'stop') refreshProfile().catch(() => {}); // starting charges the first hour
  } catch (err) {
    const hourly = fullCost(inst.cost).hourlyLemons;
    showDetailError(instanceErrorText(err, { hourly }));
    if (err.code === 1502) refreshProfile().catch(() => {});
  } finally {
    state.acting = null;
    renderDetail();
    await refresh();
  }
}

for (const act of ['start', 'stop', 'restart']) {
  $(`action-${act}`).addEventListener('click', () => runAction(act));
}

// Delete: the person types the name to confirm.
const deleteDialog = $('delete-instance-dialog');
const deleteInput = $('delete-instance-confirm-input');
const deleteButton = $('delete-instance-confirm');
let deleteTarget = null;

function showDeleteError(text) {
  $('delete-instance-error').textContent = text;
  $('delete-instance-error').hidden = !text;
}

$('action-delete').addEventListener('click', () => {
  const inst = selected();
  if (!inst) return;
  deleteTarget = { id: inst.id, name: inst.name };
  $('delete-instance-form').reset();
  $('delete-instance-name').textContent = inst.name;
  $('delete-instance-name-2').textContent = inst.name;
  showDeleteError('');
  deleteButton.disabled = true;
  deleteButton.textContent = t('dashboard.delete_instance_confirm');
  deleteDialog.showModal();
  deleteInput.focus();
});

deleteInput.addEventListener('input', () => {
  deleteButton.disabled = deleteInput.value.trim() !== deleteTarget?.name;
});

$('delete-instance-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const target = deleteTarget;
  if (!target || deleteInput.value.trim() !== target.name) return;
  deleteButton.disabled = true;
  deleteButton.textContent = t('instances.deleting');
  showDeleteError('');
  try {
    await deleteInstance(target.id);
  } catch (err) {
    if (err.code !== 1400) {
      showDeleteError(instanceErrorText(err));
      deleteButton.textContent = t('dashboard.delete_instance_confirm');
      deleteButton.disabled = false;
      return;
    }
  }
  deleteDialog.close();
  toast(t('dashboard.deleted', { name: target.name }), 'success');
  state.instances = state.instances.filter((i) => i.id !== target.id);
  state.statuses.delete(target.id);
  if (state.selectedId === target.id) deselect();
  hurry();
  render();
  refresh();
});

// Reset password: confirm, then show the new credentials once.
const resetDialog = $('reset-password-dialog');
const resetButton = $('reset-password-confirm');
let resetTarget = null;

function showResetError(text) {
  $('reset-password-error').textContent = text;
  $('reset-password-error').hidden = !text;
}

$('action-reset').addEventListener('click', () => {
  const inst = selected();
  if (!inst) return;
  resetTarget = { id: inst.id, name: inst.name };
  $('reset-password-name').textContent = inst.name;
  showResetError('');
  resetButton.disabled = false;
  resetButton.textContent = t('dashboard.action_reset');
  resetDialog.showModal();
});

resetButton.addEventListener('click', async () => {
  const target = resetTarget;
  if (!target) return;
  resetButton.disabled = true;
  resetButton.textContent = t('dashboard.resetting');
  showResetError('');
  try {
    const credentials = await resetPassword(target.id);
    resetDialog.close();
    await showCredentials({ name: target.name, credentials, kind: 'reset' });
    $('action-reset').focus();
  } catch (err) {
    showResetError(instanceErrorText(err));
    resetButton.textContent = t('dashboard.action_reset');
    resetButton.disabled = false;
  }
});

for (const dialog of [deleteDialog, resetDialog]) {
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
}

// ---- Backups (js/backups.js) -------------------------------------------------------

// A backup or restore asked for: the instance's status moves soon, so look often.
const backups = initBackups({
  onAction() {
    hurry();
    refresh();
  },
});

// ---- Create ----------------------------------------------------------------------

const wizard = initWizard({
  instances: () => state.instances,
  onQuota: () => refresh(),
  async onCreated(answer) {
    const inst = {
      id: answer.id,
      name: answer.name,
      type: answer.type,
      status: answer.status || 'provisioning',
      resources: answer.resources,
      cost: fullCost(answer.cost),
      createdAt: answer.createdAt,
      mode: 'standalone',
    };
    state.instances = [inst, ...state.instances.filter((i) => i.id !== inst.id)];
    state.statuses.set(inst.id, inst.status);
    hurry();
    refreshProfile().catch(() => {});
    location.hash = encodeURIComponent(inst.id); // → hashchange → select()
    render();
    await showCredentials({ name: inst.name, credentials: answer.credentials, kind: 'created' });
    focusDetail();
  },
});

function openWizard() {
  if (!isLoggedIn()) return;
  wizard.open();
}

$('new-instance').addEventListener('click', openWizard);
$('create-first').addEventListener('click', openWizard);

// ---- Start -----------------------------------------------------------------------

initCopyButtons();

window.addEventListener('hashchange', () => select(hashId()));
$('instance-list').addEventListener('click', (event) => {
  const link = event.target.closest('.instance-link');
  if (!link) return;
  // hashchange (or nothing, if it was already selected) runs first.
  setTimeout(focusDetail, 0);
});

let started = false;

function start() {
  if (started || !isLoggedIn()) return;
  started = true;
  state.profileAt = Date.now(); // app.js refreshes the profile on load
  state.selectedId = hashId() || null;
  render();
  refresh();
}

window.addEventListener('dbtree:profile', () => {
  if (!started) start();
  else renderDetail();
  wizard.refresh();
});

window.addEventListener('dbtree:logout', () => {
  started = false;
  clearTimeout(state.timer);
  Object.assign(state, { instances: [], loaded: false, listError: '', detail: null, acting: null });
  state.statuses.clear();
  wizard.close();
  for (const dialog of [deleteDialog, resetDialog]) if (dialog.open) dialog.close();
  render();
});

render();
start();
