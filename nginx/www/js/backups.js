// Backups: the dashboard's "Backups" block in the instance detail, and the
// account page's "Last copies of deleted databases" (section#backups).
//
//   const panel = initBackups({ onAction });  // dashboard, once
//   panel.show(inst);   // on every render of the selected instance (cheap if nothing changed)
//   panel.show(null);   // nothing selected
//   const finals = initFinalBackups();        // account page, once; finals.load(), finals.clear()
//
// The API (fcgi-bin/backups.c); a backup is
//   {id, instanceId, instanceName, type, kind: manual|daily|pre_restore|final,
//    state: queued|running|done|failed, sizeBytes, cost, createdAt, finishedAt?, expiresAt?, reason?}
//
// The backups job does the work (every few seconds in production). The list is
// polled every 2 s while a backup is queued or running or a restore is on its
// way, and otherwise reloaded when the instance's status changes (a daily
// backup shows as "backing_up" first).
//
// A download asks for a one-use link, then follows it; the server answers
// with the file as an attachment, so the page stays where it is.

import { api, ApiError } from './api.js';
import { fmtDate, t, tn } from './i18n.js';
import { h } from './dom.js';
import { bytesText, getInstance, instanceErrorText, isBackupBusy } from './instances.js';
import { getProfile, isLoggedIn, refreshProfile } from './session.js';
import { toast } from './toast.js';

const FAST_MS = 2000;
const FINALS_MS = 5000;
const RESTORE_WATCH_MS = 15 * 60 * 1000; // stop waiting for a restore's end after this
const DEFAULT_COST = 1; // DBTREE_BACKUP_COST's default; learnt from the list when it can be
const DOWNLOAD_PATH = /^\/api\/db\/backups\/download\/[A-Za-z0-9-]+$/;

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

// ---- API ---------------------------------------------------------------------

const base = (id) => `/db/instances/${enc(id)}/backups`;
export const listBackups = (id) => api('GET', base(id));
export const takeBackup = (id) => api('POST', base(id));
export const backupLink = (id, bid) => api('POST', `${base(id)}/${enc(bid)}/link`);
export const restoreBackup = (id, bid) => api('POST', `${base(id)}/${enc(bid)}/restore`);
export const listFinalBackups = () => api('GET', '/db/backups');
export const finalBackupLink = (bid) => api('POST', `/db/backups/${enc(bid)}/link`);
export const listRestores = (id) => api('GET', `/db/instances/${enc(id)}/restores`);

// ---- Words ---------------------------------------------------------------------

// Words: 'backups.kind.<kind>' and 'backups.state.<state>' in the catalogues.
const KINDS = ['manual', 'daily', 'pre_restore', 'final'];

const STATES = {
  queued: { tone: 'busy' },
  running: { tone: 'busy' },
  done: { tone: 'good' },
  failed: { tone: 'bad' },
};

const isPending = (b) => b.state === 'queued' || b.state === 'running';

function when(value) {
  const d = value ? new Date(value) : null;
  return d && !Number.isNaN(d.getTime()) ? fmtDate(d) : '–';
}

function costText(cost) {
  return cost > 0 ? t('backups.costs', { lemons: tn('unit.lemons', cost) }) : t('backups.free');
}

// ctx: { cost } for the "not enough lemons" sentence.
export function backupErrorText(err, ctx = {}) {
  if (!(err instanceof ApiError)) return instanceErrorText(err);
  switch (err.code) {
    case 1400:
      return err.data?.resourceName === 'backup'
        ? t('backups.err.gone')
        : instanceErrorText(err);
    case 1502: {
      const cost = Number(err.data?.required ?? ctx.cost);
      return Number.isFinite(cost)
        ? t('backups.err.lemons', { lemons: tn('unit.lemons', cost) })
        : instanceErrorText(err);
    }
    case 1700:
      return t('backups.err.not_running');
    case 1706:
      return t('backups.err.in_progress');
    case 1707:
      return t('backups.err.storage_full');
    case 1708:
      return t('backups.err.not_ready');
    case 1709:
      return t('backups.err.restoring');
    default:
      return instanceErrorText(err);
  }
}

// ---- One row ------------------------------------------------------------------

function stateLine(b) {
  const s = STATES[b.state] ?? { tone: 'idle' };
  const label = STATES[b.state] ? t(`backups.state.${b.state}`) : String(b.state ?? 'unknown');
  return h('p', { class: 'backup-state' },
    h('span', { class: 'status-dot', dataset: { tone: s.tone }, 'aria-hidden': 'true' }),
    h('span', {}, label),
    b.state === 'failed' && b.reason ? h('span', { class: 'backup-reason' }, t('quiz.why', { text: b.reason })) : null);
}

// title: the row's heading text; actions: buttons (already built).
function backupItem(b, title, actions) {
  const facts = [KINDS.includes(b.kind) ? t(`backups.kind.${b.kind}`) : String(b.kind ?? '')];
  if (b.state === 'done') facts.push(bytesText(Number(b.sizeBytes)));
  if (b.expiresAt) facts.push(t('backups.kept_until', { when: when(b.expiresAt) }));
  return h('li', { class: 'backup-item', dataset: { backupId: b.id, state: b.state, kind: b.kind } },
    h('div', { class: 'backup-main' },
      h('p', { class: 'backup-title' }, title),
      h('p', { class: 'backup-facts' }, facts.join(' · ')),
      stateLine(b)),
    actions.length ? h('div', { class: 'backup-actions' }, actions) : null);
}

function timeEl(value) {
  return h('time', { datetime: value }, when(value));
}

// Everything a row shows: rebuilt only when this changes, so focus survives polling.
function signature(b) {
  return JSON.stringify([b.state, b.kind, b.sizeBytes, b.reason, b.expiresAt, b.createdAt]);
}

// Keeps list's children in the order of rows, reusing unchanged <li>s.
// build(b) makes a row; cache: Map id → { sig, el }.
function reconcile(list, rows, cache, build) {
  const seen = new Set();
  rows.forEach((b, i) => {
    seen.add(b.id);
    const sig = signature(b);
    let entry = cache.get(b.id);
    if (!entry || entry.sig !== sig) {
      const el = build(b);
      const focused = entry?.el.contains(document.activeElement) ? document.activeElement.dataset.act : null;
      if (entry) entry.el.replaceWith(el);
      entry = { sig, el };
      cache.set(b.id, entry);
      if (focused) el.querySelector(`[data-act="${focused}"]`)?.focus();
    }
    if (list.children[i] !== entry.el) list.insertBefore(entry.el, list.children[i] ?? null);
  });
  for (const [id, entry] of cache) {
    if (!seen.has(id)) {
      entry.el.remove();
      cache.delete(id);
    }
  }
}

// Asks for a one-use link and follows it (the server sends an attachment).
async function download(button, getLink) {
  if (button.disabled) return;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = t('backups.preparing');
  try {
    const link = await getLink();
    if (!DOWNLOAD_PATH.test(link?.path ?? '')) throw new Error('unexpected download path');
    const a = h('a', { href: link.path, download: '', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    toast(t('backups.download_started'), 'success');
  } catch (err) {
    toast(t('backups.download_failed', { said: backupErrorText(err) }), 'error', 0);
  } finally {
    button.textContent = label;
    button.disabled = false;
  }
}

// ---- The dashboard's block ------------------------------------------------------

export function initBackups({ onAction = () => {} } = {}) {
  const list = $('backup-list');
  const takeButton = $('backup-now');
  const restoreDialog = $('restore-backup-dialog');
  const restoreConfirm = $('restore-backup-confirm');
  const cache = new Map();
  const state = {
    inst: null, // { id, name, status, desired } of the instance shown
    rows: [],
    loaded: false,
    error: '',
    cost: DEFAULT_COST,
    taking: false,
    timer: null,
    seq: 0,
    inflight: null,
    again: false,
    announced: new Map(), // backup id → state last seen, to tell about ends
    restore: null, // { instanceId, name, from, before: Set, at }: a restore asked for
    target: null, // the backup the restore dialog is about
  };

  function showError(text, loading = false) {
    state.error = text;
    state.loadError = loading;
    $('backups-error').textContent = text;
    $('backups-error').hidden = !text;
  }

  function running() {
    return state.inst?.status === 'running' && state.inst.desired !== 'stopped' && state.inst.desired !== 'deleted';
  }

  function restoreWaiting() {
    const r = state.restore;
    return Boolean(r && r.instanceId === state.inst?.id && Date.now() - r.at < RESTORE_WATCH_MS);
  }

  function busy() {
    return state.rows.some(isPending) || isBackupBusy(state.inst?.status) || restoreWaiting();
  }

  // Why "Back up now" (and Restore) cannot be used now: { text, hard }, text '' when
  // they can. A short balance is only a warning (hard: false): the profile may be
  // stale, and the server has the last word.
  function blocker() {
    const status = state.inst?.status;
    const hard = (text) => ({ text, hard: true });
    if (status === 'backing_up') return hard(t('backups.block.backing_up'));
    if (status === 'restoring' || restoreWaiting()) return hard(t('backups.block.restoring'));
    if (!running()) return hard(t('backups.block.not_running'));
    if (state.rows.some(isPending)) return hard(t('backups.block.pending'));
    const balance = getProfile()?.lemonBalance;
    if (Number.isFinite(balance) && balance < state.cost) {
      return { text: t('backups.block.balance', { lemons: tn('unit.lemons', balance), cost: costText(state.cost) }), hard: false };
    }
    return { text: '', hard: false };
  }

  function restoreButton(b) {
    return h('button', {
      type: 'button', class: 'btn btn-ghost', dataset: { act: 'restore' },
      'aria-label': t('backups.restore_label', { when: when(b.createdAt) }),
      onclick: () => openRestore(b),
    }, t('backups.restore_button'));
  }

  function downloadButton(b) {
    return h('button', {
      type: 'button', class: 'btn btn-ghost', dataset: { act: 'download' },
      'aria-label': t('backups.download_label', { when: when(b.createdAt) }),
      onclick: (event) => download(event.currentTarget, () => backupLink(b.instanceId || state.inst.id, b.id)),
    }, t('backup.download_button'));
  }

  function buildRow(b) {
    const actions = b.state === 'done' ? [downloadButton(b), restoreButton(b)] : [];
    return backupItem(b, timeEl(b.createdAt), actions);
  }

  function render() {
    if (!state.inst) return;
    const why = blocker();
    takeButton.disabled = state.taking || why.hard;
    takeButton.textContent = state.taking ? t('backups.asking') : t('dashboard.backup_now');
    $('backup-cost').textContent = `(${costText(state.cost)})`;
    const hint = $('backups-hint');
    if (hint.textContent !== why.text) hint.textContent = why.text;
    hint.hidden = !why.text;
    $('backups-loading').hidden = state.loaded || Boolean(state.error);
    $('backups-empty').hidden = !state.loaded || state.rows.length > 0;
    reconcile(list, state.rows, cache, buildRow);
    list.hidden = state.rows.length === 0;
    // restoring costs nothing: only a hard reason stops it
    for (const button of list.querySelectorAll('[data-act="restore"]')) button.disabled = why.hard;
  }

  // Tells about the ends of manual backups seen under way, and of a restore asked for.
  // status: the instance's, read after rows (null if not read). A restore keeps the
  // current data while the instance is "restoring", so a new pre_restore backup
  // that has ended, then "running", means the restore has ended.
  function announce(rows, status) {
    const name = state.inst?.name ?? '';
    for (const b of rows) {
      const before = state.announced.get(b.id);
      state.announced.set(b.id, b.state);
      if (!before || !isPending({ state: before }) || isPending(b) || b.kind !== 'manual') continue;
      if (b.state === 'done') toast(t('backups.ready', { name, size: bytesText(Number(b.sizeBytes)) }), 'success', 6000);
      else if (b.state === 'failed') {
        const failed = b.reason ? t('backups.failed_reason', { name, reason: b.reason }) : t('backups.failed', { name });
        toast(failed + (Number(b.cost) > 0 ? t('backups.refunded') : ''), 'error', 0);
      }
    }
    const r = state.restore;
    if (!r || r.instanceId !== state.inst?.id) return;
    const pre = rows.find((b) => b.kind === 'pre_restore' && !r.before.has(b.id) && !isPending(b));
    if (pre?.state === 'failed') {
      state.restore = null;
      toast(pre.reason ? t('backups.nothing_restored_reason', { name: r.name, reason: pre.reason }) : t('backups.nothing_restored', { name: r.name }), 'error', 0);
    } else if (pre && status === 'running') {
      state.restore = null;
      tellRestore(r);
      onAction();
    }
  }

  // How the restore went, as GET .../restores says (the newest first).
  async function tellRestore(r) {
    const last = await listRestores(r.instanceId).then((l) => (Array.isArray(l) ? l[0] : null)).catch(() => null);
    if (last?.state === 'failed') {
      toast(t(last.reason ? 'backups.restore_failed_reason' : 'backups.restore_failed', { name: r.name, from: r.from, reason: last.reason }), 'error', 0);
    } else if (last?.state === 'done') {
      toast(t('backups.restored', { name: r.name, from: r.from }), 'success', 8000);
    } else {
      toast(t('backups.restore_ended', { name: r.name, from: r.from }), 'info', 8000);
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    if (!state.inst || !isLoggedIn() || document.visibilityState === 'hidden' || !busy()) return;
    state.timer = setTimeout(load, FAST_MS);
  }

  async function fetchOnce() {
    const id = state.inst?.id;
    if (!id || !isLoggedIn()) return;
    const seq = ++state.seq;
    try {
      const rows = await listBackups(id);
      // after the list, so that it is at least as new (the dashboard's may be older)
      const fresh = restoreWaiting() ? await getInstance(id).catch(() => null) : null;
      if (seq !== state.seq || id !== state.inst?.id) return;
      state.rows = Array.isArray(rows) ? rows.filter((b) => b && b.id) : [];
      state.loaded = true;
      const manual = state.rows.find((b) => b.kind === 'manual' && b.state === 'done' && Number.isFinite(b.cost));
      if (manual) state.cost = manual.cost;
      if (state.loadError) showError('');
      announce(state.rows, fresh?.status ?? null);
    } catch (err) {
      if (seq !== state.seq || id !== state.inst?.id) return;
      if (err.status !== 401 && err.code !== 1400) showError(t('backups.load_failed', { said: backupErrorText(err) }), true);
    }
  }

  // One load at a time; a call during one runs another after it.
  function load() {
    clearTimeout(state.timer);
    if (state.inflight) {
      state.again = true;
      return state.inflight;
    }
    state.inflight = fetchOnce().finally(() => {
      state.inflight = null;
      render();
      if (state.again) {
        state.again = false;
        load();
      } else schedule();
    });
    return state.inflight;
  }

  function reset() {
    clearTimeout(state.timer);
    state.seq++;
    Object.assign(state, { inst: null, rows: [], loaded: false, taking: false, again: false });
    state.announced.clear();
    cache.clear();
    list.replaceChildren();
    showError('');
    if (restoreDialog.open) restoreDialog.close();
  }

  function show(inst) {
    if (!inst) {
      if (state.inst) reset();
      return;
    }
    const next = { id: inst.id, name: inst.name, status: inst.status, desired: inst.desiredStatus ?? inst.status };
    const prev = state.inst;
    if (prev?.id !== inst.id) {
      reset();
      state.inst = next;
      render();
      load();
      return;
    }
    state.inst = next;
    render();
    if (prev.status !== next.status) load(); // e.g. backing_up → running: a backup ended
  }

  // ---- Back up now ----

  takeButton.addEventListener('click', async () => {
    const inst = state.inst;
    if (!inst || state.taking) return;
    state.taking = true;
    showError('');
    render();
    try {
      const b = await takeBackup(inst.id);
      if (b?.id && inst.id === state.inst?.id) {
        state.rows = [b, ...state.rows.filter((x) => x.id !== b.id)];
        state.announced.set(b.id, b.state);
        if (Number.isFinite(b.cost)) state.cost = b.cost;
      }
      toast(t('backups.on_its_way', { name: inst.name }), 'info');
      refreshProfile().catch(() => {}); // it was paid for
      onAction();
    } catch (err) {
      if (inst.id === state.inst?.id) showError(backupErrorText(err, { cost: state.cost }));
      if (err.code === 1502) refreshProfile().catch(() => {});
    } finally {
      state.taking = false;
      render();
      load();
    }
  });

  // ---- Restore ----

  function showRestoreError(text) {
    $('restore-backup-error').textContent = text;
    $('restore-backup-error').hidden = !text;
  }

  function openRestore(b) {
    const inst = state.inst;
    if (!inst) return;
    state.target = { id: b.id, instanceId: inst.id, name: inst.name, from: when(b.createdAt), createdAt: b.createdAt };
    $('restore-backup-name').textContent = inst.name;
    $('restore-backup-name-2').textContent = inst.name;
    $('restore-backup-when').replaceChildren(timeEl(b.createdAt));
    showRestoreError('');
    restoreConfirm.disabled = false;
    restoreConfirm.textContent = t('dashboard.restore_backup_confirm');
    restoreDialog.showModal();
    $('restore-backup-cancel').focus(); // the safe choice first
  }

  restoreConfirm.addEventListener('click', async () => {
    const target = state.target;
    if (!target) return;
    restoreConfirm.disabled = true;
    restoreConfirm.textContent = t('backups.restoring');
    showRestoreError('');
    const before = new Set(state.rows.filter((b) => b.kind === 'pre_restore').map((b) => b.id));
    try {
      await restoreBackup(target.instanceId, target.id);
    } catch (err) {
      showRestoreError(backupErrorText(err));
      restoreConfirm.textContent = t('dashboard.restore_backup_confirm');
      restoreConfirm.disabled = err.code === 1709;
      return;
    }
    state.restore = { instanceId: target.instanceId, name: target.name, from: target.from, before, at: Date.now() };
    restoreDialog.close();
    toast(t('backups.restoring_toast', { name: target.name, from: target.from }), 'info', 8000);
    onAction();
    render();
    load();
  });

  restoreDialog.addEventListener('close', () => {
    state.target = null;
    // The Restore button that opened it may be disabled now: keep focus in the block.
    if (!restoreDialog.contains(document.activeElement) && document.activeElement !== document.body) return;
    $('backups-title').focus();
  });
  for (const button of restoreDialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => restoreDialog.close());
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') clearTimeout(state.timer);
    else if (state.inst) load();
  });
  window.addEventListener('dbtree:profile', render);
  window.addEventListener('dbtree:logout', () => {
    reset();
    state.restore = null;
  });

  return { show };
}

// ---- The account page: last copies of deleted databases --------------------------

export function initFinalBackups() {
  const section = $('backups');
  const list = $('final-backup-list');
  const cache = new Map();
  const state = { rows: [], loaded: false, timer: null, seq: 0, jumped: false };

  function showError(text) {
    $('final-backups-error').textContent = text;
    $('final-backups-error').hidden = !text;
  }

  function buildRow(b) {
    const actions = b.state === 'done'
      ? [h('button', {
        type: 'button', class: 'btn btn-ghost', dataset: { act: 'download' },
        'aria-label': t('backups.final_label', { name: b.instanceName }),
        onclick: (event) => download(event.currentTarget, () => finalBackupLink(b.id)),
      }, 'Download')]
      : [];
    const [before, after] = t('backups.final_title', { when: '\u0000' }).split('\u0000');
    return backupItem(b, h('span', {}, h('strong', {}, b.instanceName), before, timeEl(b.createdAt), after), actions);
  }

  // Shown when there is something, or when the address asks for it (a mail's link).
  function render() {
    const asked = location.hash === '#backups';
    const visible = state.loaded && (state.rows.length > 0 || asked);
    section.hidden = !visible;
    $('final-backups-empty').hidden = state.rows.length > 0;
    reconcile(list, state.rows, cache, buildRow);
    list.hidden = state.rows.length === 0;
    if (visible && asked && !state.jumped) {
      state.jumped = true; // the browser could not jump to it while it was hidden
      section.scrollIntoView({ block: 'start' });
      $('final-backups-title').focus({ preventScroll: true });
    }
  }

  async function load() {
    clearTimeout(state.timer);
    if (!isLoggedIn()) return;
    const seq = ++state.seq;
    section.setAttribute('aria-busy', 'true');
    try {
      const rows = await listFinalBackups();
      if (seq !== state.seq) return;
      state.rows = Array.isArray(rows) ? rows.filter((b) => b && b.id) : [];
      state.loaded = true;
      showError('');
    } catch (err) {
      if (seq !== state.seq) return;
      if (err.status !== 401) {
        state.loaded = true;
        showError(t('backups.final_failed', { said: backupErrorText(err) }));
      }
    }
    section.setAttribute('aria-busy', 'false');
    render();
    if (state.rows.some(isPending) && document.visibilityState !== 'hidden') {
      state.timer = setTimeout(load, FINALS_MS);
    }
  }

  function clear() {
    clearTimeout(state.timer);
    state.seq++;
    Object.assign(state, { rows: [], loaded: false, jumped: false });
    cache.clear();
    list.replaceChildren();
    showError('');
    section.hidden = true;
  }

  window.addEventListener('hashchange', () => {
    state.jumped = false;
    render();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && state.rows.some(isPending)) load();
  });

  return { load, clear };
}
