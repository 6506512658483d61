// The home page: wires the tree, the quiz dialog, the stats widgets and the
// personal harvest cooldown ("Next harvest in M:SS" banner, #cooldown).

import { api } from './api.js';
import { clock } from './clock.js';
import { t } from './i18n.js';
import { getProfile, isLoggedIn, refreshProfile, setProfile } from './session.js';
import { initStats } from './stats.js';
import { toast } from './toast.js';
import { initTree } from './tree.js';
import { initQuiz, lemonTaken, quizBusy, startDemo, startQuiz } from './quiz.js';

const banner = document.getElementById('cooldown');
let cooldownUntil = 0; // ms since epoch; 0 = can harvest (as far as we know)
let loggedIn = isLoggedIn();

function cooldownLeft() {
  return Math.max(0, Math.ceil((cooldownUntil - Date.now()) / 1000));
}

function setCooldown(seconds) {
  cooldownUntil = seconds > 0 ? Date.now() + seconds * 1000 : 0;
  renderCooldown();
}

function renderCooldown() {
  const left = loggedIn ? cooldownLeft() : 0;
  if (left <= 0 && cooldownUntil) {
    cooldownUntil = 0;
    checkHarvestable(); // the server has the last word
  }
  banner.hidden = left <= 0;
  const text = t('home.next_harvest', { time: clock(left) });
  if (left > 0 && banner.textContent !== text) banner.textContent = text;
}

async function checkHarvestable() {
  if (!isLoggedIn()) return;
  try {
    const res = await api('GET', '/lemon/harvestable');
    setCooldown(res?.canHarvest === false ? Math.max(1, Number(res.waitSeconds) || 0) : 0);
  } catch { /* the banner is a hint; the server still checks at quiz start */ }
}

function onPick(pos, lemon) {
  if (quizBusy()) return;
  if (!isLoggedIn()) {
    startDemo(pos, lemon);
    return;
  }
  const left = cooldownLeft();
  if (left > 0) {
    toast(t('home.harvest_again', { time: clock(left) }), 'info');
    return;
  }
  startQuiz(pos, lemon);
}

const tree = initTree({ onPick, onTaken: lemonTaken });

initQuiz({
  onHarvested(pos, result) {
    tree.remove(pos);
    tree.refresh();
    const profile = getProfile();
    // after a streak bonus or an achievement's reward, the balance with them
    const balance = Number.isFinite(result?.balanceAfterBonuses) ? result.balanceAfterBonuses : result?.newBalance;
    if (profile && Number.isFinite(balance)) setProfile({ ...profile, lemonBalance: balance });
    refreshProfile().catch(() => {});
    const ns = Number(result?.nextHarvestTime);
    setCooldown(Number.isFinite(ns) && ns > 0 ? Math.round(ns / 1e9) : 3600);
    checkHarvestable();
  },
  onLemonGone(pos) {
    tree.remove(pos);
    tree.refresh();
  },
  onCooldown(seconds) {
    setCooldown(seconds);
  },
});

initStats();

setInterval(renderCooldown, 250);
if (loggedIn) checkHarvestable();

window.addEventListener('dbtree:profile', () => {
  const now = isLoggedIn();
  if (now && !loggedIn) {
    loggedIn = true;
    checkHarvestable();
  }
});
window.addEventListener('dbtree:logout', () => {
  loggedIn = false;
  setCooldown(0);
});
