// The create-database wizard (<dialog id="create-dialog"> in dashboard.html):
// a name, a preset or a custom size, the live cost, and the Create button that
// says in words why it cannot be pressed yet.
//
//   const wizard = initWizard({ instances: () => list, onCreated(answer) {…}, onQuota() {…} });
//   wizard.open();

import { h } from './dom.js';
import {
  MAX_INSTANCES, createInstance, customCost, fullCost, hoursFor, instanceErrorText, lemons,
  listPresets, liveCount, nameProblem, specText, typeLabel,
} from './instances.js';
import { has, lang, t, tn } from './i18n.js';
import { getProfile, refreshProfile } from './session.js';

const $ = (id) => document.getElementById(id);
const CUSTOM_TYPES = ['postgres', 'redis'];

export function initWizard({ instances, onCreated, onQuota }) {
  const dialog = $('create-dialog');
  const form = $('create-form');
  const nameInput = $('create-name');
  const nameError = $('create-name-error');
  const submit = $('create-submit');
  const reasonBox = $('create-reason');
  const errorBox = $('create-error');
  const presetList = $('preset-list');
  const tabs = { presets: $('tab-presets'), custom: $('tab-custom') };
  const panels = { presets: $('panel-presets'), custom: $('panel-custom') };
  const custom = { cpu: $('custom-cpu'), memory: $('custom-memory'), disk: $('custom-disk') };

  const state = {
    tab: 'presets',
    presets: null, // null = loading, [] = none, 'error' = failed
    presetId: null,
    touched: false,
    submitting: false,
    limit: MAX_INSTANCES,
  };

  // ---- Presets ----------------------------------------------------------------

  function selectedPreset() {
    return Array.isArray(state.presets) ? state.presets.find((p) => p.id === state.presetId) ?? null : null;
  }

  // The server words presets in English; in another language the catalogue
  // has the texts of the shipped presets ('preset.<size>.*', 'preset.term.*').
  function presetWords(p) {
    const own = (key, fallback) => (lang() !== 'en' && has(key) ? t(key) : fallback);
    const terms = p.technicalTerms && typeof p.technicalTerms === 'object' ? p.technicalTerms : {};
    return {
      friendly: own(`preset.${p.size}.friendly`, p.friendlyDescription || p.description),
      uses: own(`preset.${p.size}.uses`, Array.isArray(p.useCases) ? p.useCases.slice(0, 4).map(String).join(', ') : ''),
      terms: Object.fromEntries(Object.entries(terms).map(([term, def]) =>
        [term, own(`preset.term.${term.toLowerCase().replace(/\W+/g, '_')}`, String(def))])),
    };
  }

  // The server's one reason ("no room") is English; other languages say it themselves.
  function whyUnavailable(p, key) {
    return lang() === 'en' && p.unavailableReason ? p.unavailableReason : t(key);
  }

  function presetCard(p) {
    const cost = fullCost(p.cost);
    const words = presetWords(p);
    const available = p.available !== false;
    const radio = h('input', {
      type: 'radio', name: 'preset', value: p.id, class: 'preset-radio',
      checked: p.id === state.presetId, disabled: !available,
      'aria-describedby': `preset-${p.id}-spec preset-${p.id}-cost${available ? '' : ` preset-${p.id}-why`}`,
      onchange: () => { state.presetId = p.id; update(); },
    });
    return h('label', { class: `preset-card${available ? '' : ' is-unavailable'}`, dataset: { presetId: p.id } },
      radio,
      h('span', { class: 'preset-top' },
        h('span', { class: 'preset-icon', 'aria-hidden': 'true' }, p.icon || '🍋'),
        h('span', { class: 'preset-name' }, p.name || p.id)),
      words.friendly ? h('span', { class: 'preset-desc' }, words.friendly) : null,
      h('span', { class: 'preset-spec', id: `preset-${p.id}-spec` }, specText(p.resources)),
      h('span', { class: 'preset-cost', id: `preset-${p.id}-cost` },
        h('span', { class: 'nowrap' }, h('strong', {}, lemons(cost.creationCost)), t('wizard.to_create')), ' · ',
        h('span', { class: 'nowrap' }, h('strong', {}, t('wizard.per_hour', { cost: lemons(cost.hourlyLemons) })))),
      words.uses ? h('span', { class: 'preset-uses' }, t('wizard.good_for', { uses: words.uses })) : null,
      available ? null : h('span', { class: 'preset-why', id: `preset-${p.id}-why` },
        t('wizard.unavailable', { reason: whyUnavailable(p, 'wizard.no_room_size') })));
  }

  function glossary(terms) {
    const entries = terms && typeof terms === 'object' ? Object.entries(terms) : [];
    if (!entries.length) return null;
    return h('details', { class: 'glossary' },
      h('summary', {}, t('wizard.glossary')),
      h('dl', {}, entries.map(([term, def]) => h('div', {}, h('dt', {}, term), h('dd', {}, String(def))))));
  }

  function renderPresets() {
    if (state.presets === null) {
      presetList.replaceChildren(h('p', { class: 'hint' }, t('wizard.loading_presets')));
      return;
    }
    if (state.presets === 'error' || !state.presets.length) {
      presetList.replaceChildren(
        h('p', { class: 'form-error' }, state.presets === 'error'
          ? t('wizard.presets_failed', { said: state.presetsError })
          : t('wizard.no_presets')),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: loadPresets }, t('wizard.try_again')));
      return;
    }
    const groups = new Map();
    for (const p of state.presets) {
      if (!groups.has(p.type)) groups.set(p.type, []);
      groups.get(p.type).push(p);
    }
    presetList.replaceChildren(...[...groups].map(([type, list]) => {
      const headingId = `preset-group-${type}`;
      return h('section', { class: 'preset-group', 'aria-labelledby': headingId },
        h('h3', { id: headingId }, typeLabel(type)),
        h('div', { class: 'preset-grid', role: 'radiogroup', 'aria-labelledby': headingId }, list.map(presetCard)),
        glossary(presetWords(list.find((p) => p.technicalTerms) ?? {}).terms));
    }));
  }

  async function loadPresets() {
    const first = !Array.isArray(state.presets);
    if (first) {
      state.presets = null;
      renderPresets();
    }
    try {
      const list = await listPresets();
      state.presets = (Array.isArray(list) ? list : [])
        .slice()
        .sort((a, b) => (a.sortOrder ?? 0) - (b.sortOrder ?? 0));
      const current = selectedPreset();
      if (!current) state.presetId = state.presets.find((p) => p.available !== false)?.id ?? null;
    } catch (err) {
      if (first) {
        state.presets = 'error';
        state.presetsError = instanceErrorText(err);
      }
    }
    renderPresets();
    updateCustomTypes();
    update();
  }

  // ---- Custom -----------------------------------------------------------------

  function customType() {
    return form.querySelector('input[name="custom-type"]:checked')?.value ?? 'postgres';
  }

  // Only the types this server runs (the presets say which).
  function updateCustomTypes() {
    const offered = Array.isArray(state.presets) && state.presets.length
      ? new Set(state.presets.map((p) => p.type)) : null;
    for (const type of CUSTOM_TYPES) {
      const radio = $(`custom-type-${type}`);
      const off = offered ? !offered.has(type) : false;
      radio.disabled = off;
      radio.closest('label').title = off ? t('wizard.type_unavailable') : '';
      if (off && radio.checked) {
        const other = CUSTOM_TYPES.map((t) => $(`custom-type-${t}`)).find((r) => !r.disabled);
        if (other) other.checked = true;
      }
    }
  }

  function customSpec() {
    return {
      type: customType(),
      cpu: Number(custom.cpu.value),
      memory: Number(custom.memory.value),
      disk: Number(custom.disk.value),
    };
  }

  // ---- Tabs -------------------------------------------------------------------

  function setTab(tab, focus = false) {
    state.tab = tab;
    for (const [key, button] of Object.entries(tabs)) {
      const on = key === tab;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      panels[key].hidden = !on;
    }
    if (focus) tabs[tab].focus();
    update();
  }

  for (const [key, button] of Object.entries(tabs)) {
    button.addEventListener('click', () => setTab(key));
    button.addEventListener('keydown', (event) => {
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
      event.preventDefault();
      setTab(key === 'presets' ? 'custom' : 'presets', true);
    });
  }

  // ---- Cost and the Create button ---------------------------------------------

  function currentCost() {
    if (state.tab === 'custom') {
      const s = customSpec();
      return customCost(s.type, s.cpu, s.memory, s.disk);
    }
    const p = selectedPreset();
    return p ? fullCost(p.cost) : null;
  }

  function balance() {
    const b = getProfile()?.lemonBalance;
    return Number.isFinite(b) ? b : null;
  }

  function renderCost(cost) {
    const bal = balance();
    const show = (id, text) => { $(id).textContent = text; };
    show('cost-creation', cost ? lemons(cost.creationCost) : '–');
    show('cost-hourly', cost ? lemons(cost.hourlyLemons) : '–');
    show('cost-daily', cost ? lemons(cost.dailyLemons) : '–');
    show('cost-monthly', cost ? lemons(cost.monthlyLemons) : '–');
    show('cost-balance', bal == null ? '–' : lemons(bal));
    const after = cost && bal != null ? bal - cost.creationCost : null;
    const afterBox = $('cost-after');
    afterBox.textContent = after == null ? '–' : lemons(after);
    afterBox.classList.toggle('is-negative', after != null && after < 0);
    const hours = after != null && after >= 0 ? hoursFor(after, cost.hourlyLemons) : null;
    $('cost-hours').textContent = hours == null
      ? (after != null && after < 0 ? t('wizard.not_enough') : '')
      : t('wizard.hours_running', { hours: tn('unit.hours', hours) });
  }

  // The first thing that stops the creation, in words; '' when nothing does.
  function blocker(cost, problem) {
    const list = instances();
    if (liveCount(list) >= state.limit) {
      return t('wizard.limit', { limit: state.limit });
    }
    if (problem) return nameInput.value ? t('wizard.fix_name', { problem }) : t('wizard.name_first');
    if (state.tab === 'presets') {
      if (state.presets === null) return t('wizard.loading_presets');
      const p = selectedPreset();
      if (!p) return t('wizard.pick_preset');
      if (p.available === false) {
        return t('wizard.preset_unavailable', { name: p.name || t('wizard.this_preset'), reason: whyUnavailable(p, 'wizard.no_room') });
      }
    }
    const bal = balance();
    if (cost && bal != null && bal < cost.creationCost) {
      return t('wizard.need_more', { lemons: tn('unit.more_lemons', cost.creationCost - bal) });
    }
    return '';
  }

  function update() {
    const name = nameInput.value;
    const taken = instances().filter((i) => i.status !== 'deleting').map((i) => i.name);
    const problem = nameProblem(name, taken);
    const showProblem = problem && (state.touched || name !== '');
    nameError.textContent = showProblem ? problem : '';
    nameError.hidden = !showProblem;
    nameInput.setAttribute('aria-invalid', String(Boolean(showProblem)));

    const cost = currentCost();
    renderCost(cost);
    const reason = state.submitting ? '' : blocker(cost, problem);
    reasonBox.textContent = reason;
    reasonBox.hidden = !reason;
    submit.disabled = state.submitting || Boolean(reason);
  }

  nameInput.addEventListener('input', () => {
    const lower = nameInput.value.toLowerCase();
    if (lower !== nameInput.value) {
      const { selectionStart: start, selectionEnd: end } = nameInput;
      nameInput.value = lower;
      nameInput.setSelectionRange(start, end);
    }
    showError('');
    update();
  });
  nameInput.addEventListener('blur', () => {
    if (!dialog.open) return;
    state.touched = true;
    update();
  });
  for (const select of Object.values(custom)) select.addEventListener('change', update);
  for (const radio of form.querySelectorAll('input[name="custom-type"]')) radio.addEventListener('change', update);

  // ---- Submit -----------------------------------------------------------------

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  async function onSubmit(event) {
    event.preventDefault();
    state.touched = true;
    update();
    if (submit.disabled) return;
    const name = nameInput.value;
    let body;
    if (state.tab === 'custom') {
      const s = customSpec();
      body = { name, type: s.type, mode: 'standalone', resources: { cpu: s.cpu, memory: s.memory, disk: s.disk } };
    } else {
      body = { name, presetId: state.presetId };
    }
    state.submitting = true;
    showError('');
    submit.textContent = t('wizard.creating');
    update();
    try {
      const answer = await createInstance(body);
      dialog.close();
      onCreated(answer);
    } catch (err) {
      showError(instanceErrorText(err, { name, limit: state.limit }));
      if (err.code === 1401 || err.code === 1702) nameInput.focus();
      if (err.code === 1805) {
        if (Number(err.data?.limit) > 0) state.limit = Number(err.data.limit);
        onQuota?.();
      }
      if (err.code === 1901 || err.code === 1100) loadPresets();
      if (err.code === 1502) refreshProfile().catch(() => {});
    } finally {
      state.submitting = false;
      submit.textContent = t('dashboard.create_submit');
      update();
    }
  }

  form.addEventListener('submit', onSubmit);
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => dialog.close());
  }
  window.addEventListener('dbtree:profile', () => { if (dialog.open) update(); });

  return {
    open() {
      form.reset();
      state.touched = false;
      state.submitting = false;
      showError('');
      setTab('presets');
      if (Array.isArray(state.presets)) renderPresets(); // form.reset() cleared the checked card
      if (!dialog.open) dialog.showModal();
      nameInput.focus();
      loadPresets();
      update();
    },
    // The instance list changed (quota and taken names).
    refresh() {
      if (dialog.open) update();
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
