// The lemon tree: an inline SVG with up to 10 lemons, and the status pill above it.
//
//   const tree = initTree({ onPick(pos, element) {…}, onTaken(pos) {…} });
//   tree.refresh();     // GET /api/lemon/global-status now (it is also polled: every 30 s
//                       // while live events arrive, every 5 s while they do not)
//   tree.remove(3);     // take lemon 3 off the tree at once (harvested)
//   tree.apply(status); // a global-status object (a live "tree" event carries one)
//   tree.taken(3, at);  // someone harvested lemon 3; it grows back at `at` (ms) or null
//
// Each available lemon is <g id="lemon-<pos>" class="lemon" role="button" tabindex="0"
// aria-label="Lemon <pos + 1>">; Enter or Space picks it like a click.

import { api } from './api.js';
import { clock, poll } from './clock.js';
import { svg } from './dom.js';
import { t, tn } from './i18n.js';
import { initLive } from './live.js';

const POLL_MS = 5000;
const LIVE_POLL_MS = 30000; // the fallback while live events arrive
const GONE_MS = 8000;

// Lemon centres in the 400 × 380 drawing, by position id 0..9.
export const POSITIONS = [
  [255, 150], [150, 160], [90, 192], [140, 95], [205, 60],
  [266, 93], [190, 208], [308, 192], [248, 222], [200, 122],
];

const $ = (id) => document.getElementById(id);

function drawTree() {
  const leaves = (cls, circles) => svg('g', { class: cls },
    circles.map(([cx, cy, r]) => svg('circle', { cx, cy, r })));
  return svg('svg', {
    id: 'tree-svg', class: 'tree-svg', viewBox: '0 0 400 380', role: 'group', 'aria-labelledby': 'tree-title',
  },
  svg('ellipse', { class: 'tree-ground', cx: 200, cy: 356, rx: 165, ry: 16 }),
  svg('path', { class: 'tree-trunk', d: 'M168 358Q190 332 187 292Q185 252 176 212L224 212Q215 252 213 292Q210 332 232 358Z' }),
  svg('path', { class: 'tree-branch', d: 'M200 246L128 178M200 236L280 172M200 232L200 150' }),
  leaves('tree-leaves-back', [[200, 138, 112], [112, 182, 66], [290, 182, 66]]),
  leaves('tree-leaves', [[200, 118, 92], [122, 165, 66], [280, 165, 66], [150, 88, 60], [252, 88, 60], [200, 196, 66]]),
  leaves('tree-leaves-light', [[170, 70, 22], [236, 62, 16], [108, 140, 14], [292, 140, 12]]),
  svg('g', { id: 'tree-lemons', class: 'tree-lemons' }));
}

function drawLemon(pos, onPick) {
  const [x, y] = POSITIONS[pos];
  const pick = () => onPick(pos, lemon);
  const lemon = svg('g', {
    id: `lemon-${pos}`, class: 'lemon', role: 'button', tabindex: 0, 'aria-label': t('tree.lemon', { n: pos + 1 }),
    transform: `translate(${x} ${y}) scale(1.15)`, dataset: { pos: String(pos) },
    onclick: pick,
    onkeydown: (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        if (!event.repeat) pick();
      }
    },
  },
  // The (invisible) hit circle also fixes the lemon's box, so the swaying body never moves it.
  svg('circle', { class: 'lemon-hit', r: 24 }),
  svg('circle', { class: 'lemon-ring', r: 22 }),
  svg('g', { class: 'lemon-sway', style: `animation-delay: ${-(pos * 0.37).toFixed(2)}s` },
    svg('path', { class: 'lemon-stem', d: 'M0 -11L0 -17' }),
    svg('path', { class: 'lemon-leaf', d: 'M0 -16C4 -22 11 -22 14 -18C10 -14 4 -14 0 -16Z' }),
    svg('path', {
      class: 'lemon-fruit',
      d: 'M-18 1C-18 -7 -9 -11 0 -11C9 -11 18 -7 18 1C18 8 9 12 0 12C-9 12 -18 8 -18 1Z',
    }),
    svg('ellipse', { class: 'lemon-shine', cx: -6, cy: -4, rx: 5, ry: 2.5, transform: 'rotate(-18 -6 -4)' })));
  return lemon;
}

export function initTree({ onPick, onTaken }) {
  const host = $('tree');
  const pill = $('tree-pill');
  const drawing = drawTree();
  host.replaceChildren(drawing);
  const group = drawing.querySelector('#tree-lemons');

  let available = [];
  // Lemons just harvested here, hidden for a few seconds even if a (briefly cached)
  // status still lists them: pos → ms since epoch.
  const gone = new Map();
  let regrowAt = null; // ms since epoch, or null
  let golden = null; // the golden lemon's position, or null
  let loaded = false;
  let failed = false;

  function draw() {
    const wanted = new Set(available);
    for (const lemon of [...group.children]) {
      if (!wanted.has(Number(lemon.dataset.pos))) lemon.remove();
    }
    for (const pos of available) {
      if (!$(`lemon-${pos}`)) {
        const lemon = drawLemon(pos, onPick);
        // keep document (tab) order = position order
        const next = [...group.children].find((g) => Number(g.dataset.pos) > pos);
        group.insertBefore(lemon, next ?? null);
      }
    }
    for (const lemon of group.children) {
      const pos = Number(lemon.dataset.pos);
      const isGolden = pos === golden;
      if (lemon.classList.contains('lemon-golden') === isGolden) continue;
      lemon.classList.toggle('lemon-golden', isGolden);
      lemon.setAttribute('aria-label', t(isGolden ? 'tree.lemon_golden' : 'tree.lemon', { n: pos + 1 }));
    }
    updatePill();
  }

  function updatePill() {
    let text;
    let state;
    if (!loaded) {
      text = t(failed ? 'tree.unavailable' : 'home.tree_pill');
      state = 'waiting';
    } else if (available.length > 0) {
      text = tn('tree.ready', available.length);
      state = 'ready';
    } else if (regrowAt != null && regrowAt > Date.now()) {
      text = t('tree.next_lemon', { time: clock((regrowAt - Date.now()) / 1000) });
      state = 'waiting';
    } else {
      text = t('tree.growing');
      state = 'waiting';
    }
    if (pill.textContent !== text) pill.textContent = text;
    pill.dataset.state = state;
  }

  function apply(status) {
    const positions = Array.isArray(status?.availablePositions) ? status.availablePositions : [];
    const now = Date.now();
    for (const [pos, until] of gone) if (until <= now) gone.delete(pos);
    available = [...new Set(positions.filter((p) => Number.isInteger(p) && p >= 0 && p < POSITIONS.length && !gone.has(p)))]
      .sort((a, b) => a - b);
    golden = Number.isInteger(status?.goldenPosition) ? status.goldenPosition : null;
    const when = status?.nextRegrowthTime ? Date.parse(status.nextRegrowthTime) : NaN;
    regrowAt = Number.isNaN(when) ? null : when;
    loaded = true;
    failed = false;
    draw();
  }

  let asked = 0; // answers to older requests that arrive late are ignored
  async function refresh() {
    const ticket = ++asked;
    try {
      const status = await api('GET', '/lemon/global-status');
      if (ticket === asked) apply(status);
    } catch {
      if (ticket !== asked) return;
      failed = true; // keep showing the last known tree
      draw();
    }
  }

  function remove(pos) {
    if (pos === golden) golden = null;
    gone.set(pos, Date.now() + GONE_MS);
    available = available.filter((p) => p !== pos);
    draw();
  }

  function taken(pos, growsBackAt) {
    if (growsBackAt == null) return; // no regrowth delay: it hangs again at once
    remove(pos);
    if (regrowAt == null || growsBackAt < regrowAt) regrowAt = growsBackAt;
    updatePill();
    onTaken?.(pos);
  }

  const liveNote = document.createElement('span');
  liveNote.id = 'live-state';
  liveNote.className = 'live-state';
  pill.after(liveNote);
  const live = initLive({
    onEvent(data) {
      if (data.type === 'tree') apply(data);
      else if (data.type === 'harvest' && Array.isArray(data.lemons)) {
        for (const lemon of data.lemons) {
          if (!Number.isInteger(lemon?.position)) continue;
          const at = lemon.nextRegrowthTime ? Date.parse(lemon.nextRegrowthTime) : NaN;
          taken(lemon.position, Number.isNaN(at) ? null : at);
        }
      }
    },
    onState(state) {
      liveNote.dataset.state = state;
      liveNote.textContent = t(state === 'live' ? 'tree.live' : 'tree.reconnecting');
      if (state === 'live') refresh(); // anything from before the stream opened
    },
  });
  liveNote.dataset.state = live.state();

  setInterval(updatePill, 250); // the "Next lemon in M:SS" countdown
  poll(refresh, () => (live.state() === 'live' ? LIVE_POLL_MS : POLL_MS));
  return { refresh, remove, apply, taken };
}
