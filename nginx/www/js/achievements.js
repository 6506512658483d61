// Achievements, streaks and their toasts.
//
//   announce(res)            after POST /api/lemon/harvest (or /quiz/answer): a toast per
//                            achievement earned (res.achievements) and for a streak bonus
//   initAchievements()       by js/app.js on every page: once per logged-in person, GET
//                            /api/user/achievements, a toast per one earned since this browser
//                            last saw the list (billing, a database created in another tab…)
//   watchAchievements(onList, onError)   the page's view of that list: called with the
//                            latest answer at once if there is one (a page module may load
//                            after the answer came), then with each new one
//   renderAchievements(box, list)   the account page's panel from GET /api/user/achievements
//   renderStreak(box, streak)       the account page's streak block from the profile
//
// What this browser has already announced is kept in localStorage under
// "dbtree.achievements.<user id>" (the keys, JSON). The first visit records the list
// without announcing anything earned before it.

import { api, messageFor } from './api.js';
import { h } from './dom.js';
import { fmtDate, t, tn } from './i18n.js';
import { getProfile, isLoggedIn } from './session.js';
import { toast } from './toast.js';

const KEY = 'dbtree.achievements.';
let latest = null; // { list } or { error }
const watchers = new Set();

function publish(result) {
  latest = result;
  for (const w of watchers) w(result);
}

export function watchAchievements(onList, onError) {
  const w = (r) => (r.list ? onList(r.list) : onError(r.error));
  watchers.add(w);
  if (latest) w(latest);
}

function seenKey() {
  const id = getProfile()?.id;
  return id ? KEY + id : null;
}

function loadSeen() {
  const key = seenKey();
  if (!key) return null;
  try {
    const saved = JSON.parse(localStorage.getItem(key));
    return Array.isArray(saved) ? new Set(saved) : null;
  } catch {
    return null;
  }
}

function saveSeen(seen) {
  const key = seenKey();
  if (!key) return;
  try {
    localStorage.setItem(key, JSON.stringify([...seen]));
  } catch { /* announced again next time, nothing breaks */ }
}

function name(key) {
  return t(`achievements.name.${key}`);
}

function toastEarned(key, lemons) {
  const text = lemons > 0
    ? t('achievements.earned_reward', { name: name(key), lemons: tn('unit.lemons', lemons) })
    : t('achievements.earned', { name: name(key) });
  toast(text, 'success', 6000);
}

export function announce(res) {
  const earned = Array.isArray(res?.achievements) ? res.achievements : [];
  const seen = loadSeen() ?? new Set();
  for (const a of earned) {
    if (typeof a?.key !== 'string' || seen.has(a.key)) continue;
    seen.add(a.key);
    toastEarned(a.key, Number(a.lemons) || 0);
  }
  if (earned.length) saveSeen(seen);
  const bonus = res?.streakBonus;
  if (bonus && Number.isInteger(bonus.days)) {
    toast(bonus.lemons > 0
      ? t('streak.bonus', { days: bonus.days, lemons: tn('unit.lemons', bonus.lemons) })
      : t('streak.bonus_full', { days: bonus.days }), 'success', 6000);
  }
}

async function checkEarnedElsewhere() {
  let list;
  try {
    list = await api('GET', '/user/achievements');
    if (!Array.isArray(list)) throw new Error('not a list');
  } catch (err) {
    publish({ error: messageFor(err) });
    return;
  }
  const seen = loadSeen();
  const earned = list.filter((a) => a?.earned).map((a) => a.key);
  if (seen) for (const key of earned) if (!seen.has(key)) toastEarned(key, 0);
  saveSeen(new Set([...(seen ?? []), ...earned]));
  publish({ list });
}

export function initAchievements() {
  let checked = null; // the user id the list was fetched for
  const check = () => {
    const id = isLoggedIn() ? getProfile()?.id : null;
    if (!id || id === checked) return;
    checked = id;
    checkEarnedElsewhere();
  };
  window.addEventListener('dbtree:profile', check);
  window.addEventListener('dbtree:logout', () => { checked = null; });
  check();
}

export function renderAchievements(box, list) {
  const items = (Array.isArray(list) ? list : []).filter((a) => typeof a?.key === 'string');
  const done = items.filter((a) => a.earned).length;
  box.replaceChildren(
    h('p', { class: 'card-head-note', id: 'achievements-count' },
      t('achievements.count', { earned: done, total: items.length })),
    h('ul', { class: 'achievement-list', id: 'achievement-list' }, ...items.map((a) => {
      const goal = Math.max(1, Number(a.goal) || 1);
      const progress = Math.min(goal, Math.max(0, Number(a.progress) || 0));
      return h('li', {
        class: `achievement${a.earned ? ' is-earned' : ''}`, dataset: { key: a.key, earned: String(!!a.earned) },
      },
      h('span', { class: 'achievement-icon', 'aria-hidden': 'true' }, a.earned ? '🏆' : '🔒'),
      h('div', { class: 'achievement-body' },
        h('p', { class: 'achievement-name' }, name(a.key)),
        a.earned && a.earnedAt
          ? h('p', { class: 'achievement-when' }, h('time', { datetime: a.earnedAt },
            t('achievements.earned_on', { date: fmtDate(new Date(a.earnedAt), { dateStyle: 'medium' }) })))
          : h('div', { class: 'achievement-progress' },
            h('progress', { max: goal, value: progress, 'aria-label': name(a.key) }),
            h('span', {}, t('achievements.progress', { progress, goal }))),
        a.reward > 0 ? h('p', { class: 'achievement-reward' },
          t('achievements.reward', { lemons: tn('unit.lemons', a.reward) })) : ''));
    })));
}

export function renderStreak(box, streak) {
  const s = streak ?? { current: 0, best: 0, nextMilestone: 3 };
  const cell = (id, label, value) => h('div', { class: 'profile-item' },
    h('dt', {}, label), h('dd', { id }, value));
  box.replaceChildren(h('dl', { class: 'profile-list streak-list' },
    cell('streak-current', t('streak.current'), tn('unit.days', Number(s.current) || 0)),
    cell('streak-best', t('streak.best'), tn('unit.days', Number(s.best) || 0)),
    cell('streak-next', t('streak.next'), Number.isInteger(s.nextMilestone)
      ? tn('unit.days', s.nextMilestone) : t('streak.all_reached'))));
}
