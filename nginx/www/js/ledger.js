// Account page: the lemon ledger (<table id="ledger-table">), 10 rows a page,
// filtered by database (<select id="ledger-filter">).
//
//   GET /api/stats/transactions?page=N&limit=10[&instanceName=X]
//     → {data: [{id, instanceName, actionType, status, amount, balance, createdAt, note}],
//        pagination: {currentPage, totalPages, totalItems, hasNext, hasPrev}}
//   GET /api/stats/summary/instances → [{id, name}]

import { api, messageFor } from './api.js';
import { h } from './dom.js';
import { fmtDate, fmtNumber, t, tn } from './i18n.js';

const LIMIT = 10;
// Action types with words in the catalogues ('ledger.action.<type>'); others show as they are.
const LABELS = ['welcome_bonus', 'harvest', 'instance_create', 'instance_maintain', 'instance_create_refund',
  'backup', 'backup_refund', 'grant', 'bonus'];
const COLUMNS = 5;

const $ = (id) => document.getElementById(id);

function label(type) {
  return LABELS.includes(type) ? t(`ledger.action.${type}`) : String(type ?? '').replace(/_/g, ' ');
}

function signed(n) {
  if (!Number.isFinite(n)) return '–';
  if (n > 0) return `+${fmtNumber(n)}`;
  if (n < 0) return `−${fmtNumber(-n)}`;
  return '0';
}

function cell(column, ...children) {
  return h('td', { dataset: { label: t(column) } }, ...children);
}

function row(tx) {
  const date = new Date(tx.createdAt);
  const when = Number.isNaN(date.getTime())
    ? '–'
    : h('time', { datetime: tx.createdAt }, fmtDate(date));
  const amount = Number(tx.amount);
  const tone = amount > 0 ? 'is-gain' : amount < 0 ? 'is-loss' : '';
  return h('tr', { class: tx.status === 'failed' ? 'is-failed' : null },
    cell('account.date', when),
    cell('account.what', h('span', { class: 'ledger-what' }, label(tx.actionType)),
      tx.status === 'failed' ? h('span', { class: 'ledger-note' }, t('ledger.failed')) : null,
      tx.note ? h('span', { class: 'ledger-note ledger-note-block' }, String(tx.note)) : null),
    tx.instanceName
      ? cell('account.database', String(tx.instanceName))
      : h('td', { class: 'is-empty', dataset: { label: t('account.database') } }, h('span', { class: 'muted' }, '—')),
    cell('account.lemons', h('span', { class: `ledger-amount ${tone}` }, signed(amount),
      h('span', { class: 'visually-hidden' }, tn('ledger.lemons_sr', Math.abs(amount))))),
    cell('account.balance', Number.isFinite(tx.balance) ? fmtNumber(tx.balance) : '–'));
}

export function initLedger() {
  const body = $('ledger-body');
  const filter = $('ledger-filter');
  const prev = $('ledger-prev');
  const next = $('ledger-next');
  const pageText = $('ledger-page');
  const table = $('ledger-table');
  const errorBox = $('ledger-error');
  const state = { page: 1, instance: '', pagination: null, loading: false, seq: 0 };

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function renderPager() {
    const p = state.pagination;
    const current = p?.currentPage ?? state.page;
    const total = Math.max(1, p?.totalPages ?? 1);
    pageText.textContent = t('ledger.page', { current: fmtNumber(current), total: fmtNumber(total) });
    prev.disabled = state.loading || !(p?.hasPrev ?? current > 1);
    next.disabled = state.loading || !(p?.hasNext ?? current < total);
  }

  function message(text) {
    body.replaceChildren(h('tr', { class: 'ledger-message' }, h('td', { colspan: COLUMNS }, text)));
  }

  async function load() {
    const seq = ++state.seq;
    state.loading = true;
    table.setAttribute('aria-busy', 'true');
    renderPager();
    const query = new URLSearchParams({ page: String(state.page), limit: String(LIMIT) });
    if (state.instance) query.set('instanceName', state.instance);
    try {
      const res = await api('GET', `/stats/transactions?${query}`);
      if (seq !== state.seq) return;
      const rows = Array.isArray(res?.data) ? res.data : [];
      state.pagination = res?.pagination ?? null;
      if (rows.length) body.replaceChildren(...rows.map(row));
      else if (state.page > 1 && (state.pagination?.totalItems ?? 0) > 0 && state.page > state.pagination.totalPages) {
        // The page ran past the end (rows went away): go to the last one.
        state.page = Math.max(1, state.pagination.totalPages);
        state.loading = false;
        load();
        return;
      } else {
        message(state.instance ? t('ledger.none_for', { name: state.instance }) : t('ledger.none'));
      }
      showError('');
    } catch (err) {
      if (seq !== state.seq || err.status === 401) return;
      showError(t('ledger.load_failed', { said: messageFor(err) }));
      if (!body.children.length) message(t('ledger.not_loaded'));
    } finally {
      if (seq === state.seq) {
        state.loading = false;
        table.removeAttribute('aria-busy');
        renderPager();
      }
    }
  }

  async function loadInstances() {
    try {
      const list = await api('GET', '/stats/summary/instances');
      const names = [...new Set((Array.isArray(list) ? list : []).map((i) => i?.name).filter(Boolean))];
      // A name chosen before (e.g. a deleted database) stays choosable.
      if (state.instance && !names.includes(state.instance)) names.push(state.instance);
      filter.replaceChildren(
        h('option', { value: '' }, t('account.all')),
        ...names.map((name) => h('option', { value: name }, name)));
      filter.value = state.instance;
    } catch { /* keep "All" only; the table still works */ }
  }

  filter.addEventListener('change', () => {
    state.instance = filter.value;
    state.page = 1;
    state.pagination = null;
    load();
  });
  prev.addEventListener('click', () => {
    if (state.page <= 1) return;
    state.page -= 1;
    load();
  });
  next.addEventListener('click', () => {
    state.page += 1;
    load();
  });

  return {
    load() {
      loadInstances();
      return load();
    },
    clear() {
      state.seq++;
      Object.assign(state, { page: 1, instance: '', pagination: null, loading: false });
      filter.replaceChildren(h('option', { value: '' }, t('account.all')));
      body.replaceChildren();
      showError('');
      renderPager();
    },
  };
}
