// Home page widgets: the global stats row and the mini leaderboard.
// Both are public. On errors they show a small muted "unavailable" note, never an alert;
// figures already on screen stay until the next successful refresh.

import { api } from './api.js';
import { poll } from './clock.js';
import { h } from './dom.js';
import { fmtNumber, t, tn } from './i18n.js';

const STATS_MS = 30000;
const LEADERBOARD_MS = 60000;
const MEDALS = { 1: '🥇', 2: '🥈', 3: '🥉' };
const $ = (id) => document.getElementById(id);

let statsLoaded = false;
let boardLoaded = false;

function showNumber(id, value) {
  $(id).textContent = Number.isFinite(value) ? fmtNumber(value) : '–';
}

async function loadStats() {
  try {
    const stats = await api('GET', '/stats/global');
    showNumber('stat-harvested', stats?.totalHarvestedLemons);
    showNumber('stat-instances', stats?.totalCreatedInstances);
    showNumber('stat-users', stats?.totalUsers);
    statsLoaded = true;
    $('stats-note').hidden = true;
  } catch {
    if (!statsLoaded) {
      for (const id of ['stat-harvested', 'stat-instances', 'stat-users']) $(id).textContent = '–';
      $('stats-note').hidden = false;
    }
  }
}

function rankItem(entry, unit) {
  const rank = Number.isInteger(entry?.rank) ? entry.rank : 0;
  const score = Number.isFinite(entry?.score) ? entry.score : 0;
  return h('li', { class: 'board-row' },
    h('span', { class: 'board-medal', 'aria-hidden': 'true' }, MEDALS[rank] ?? `#${rank}`),
    h('span', { class: 'visually-hidden' }, t('stats.rank', { rank })),
    h('span', { class: 'board-name' }, String(entry?.maskedEmail ?? '???')),
    h('span', { class: 'board-score' }, unit(score)));
}

function fillList(id, entries, unit) {
  const list = $(id);
  const rows = Array.isArray(entries) ? entries.slice(0, 5) : [];
  list.replaceChildren(...(rows.length
    ? rows.map((entry) => rankItem(entry, unit))
    : [h('li', { class: 'board-empty' }, t('stats.no_one_yet'))]));
}

async function loadLeaderboard() {
  try {
    const board = await api('GET', '/leaderboard/mini');
    fillList('leaderboard-rich', board?.lemonRichUsers, (n) => tn('unit.lemons', n));
    fillList('leaderboard-quiz', board?.quizMasters, (n) => tn('stats.correct', n));
    boardLoaded = true;
    $('leaderboard-note').hidden = true;
  } catch {
    if (!boardLoaded) {
      for (const id of ['leaderboard-rich', 'leaderboard-quiz']) $(id).replaceChildren();
      $('leaderboard-note').hidden = false;
    }
  }
}

export function initStats() {
  poll(loadStats, STATS_MS);
  poll(loadLeaderboard, LEADERBOARD_MS);
}
