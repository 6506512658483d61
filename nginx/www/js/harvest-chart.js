// Account page: "Last 7 days" — lemons harvested per day as inline SVG bars
// (<div id="harvest-chart">), from GET /api/stats/daily-harvest?days=7
// → [{date: "YYYY-MM-DDT00:00:00Z", amount}] newest first.
//
//   const chart = initHarvestChart(); chart.load(); chart.clear();

import { api, messageFor } from './api.js';
import { svg } from './dom.js';
import { lang, t, tn } from './i18n.js';

const DAYS = 7;
const HEIGHT = 190;
const TOP = 26; // room for the figure above the tallest bar
const BOTTOM = 44; // room for two lines of day labels
// The dates are UTC midnights: label them in UTC so a day never shifts.
const weekday = new Intl.DateTimeFormat(lang(), { weekday: 'short', timeZone: 'UTC' });
const dayMonth = new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'short', timeZone: 'UTC' });
const dayOnly = new Intl.DateTimeFormat(lang(), { day: 'numeric', timeZone: 'UTC' });
const longDay = new Intl.DateTimeFormat(lang(), { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });

const $ = (id) => document.getElementById(id);

export function initHarvestChart() {
  const box = $('harvest-chart');
  const total = $('harvest-total');
  const note = $('harvest-note');
  let days = null; // oldest first
  let width = 0;

  function showNote(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  function draw() {
    if (!days) return;
    width = Math.max(240, Math.round(box.clientWidth || 320));
    const slot = width / days.length;
    const barWidth = Math.min(44, slot * 0.6);
    const max = Math.max(3, ...days.map((d) => d.amount));
    const plot = HEIGHT - TOP - BOTTOM;
    const base = HEIGHT - BOTTOM;
    const sum = days.reduce((n, d) => n + d.amount, 0);
    const sublabel = slot < 56 ? dayOnly : dayMonth; // narrow screens: "15", not "Nov 15"
    const summary = days.map((d) => `${longDay.format(d.date)}: ${tn('unit.lemons', d.amount)}`).join('; ');

    const bars = days.map((d, i) => {
      const x = slot * i + (slot - barWidth) / 2;
      const height = d.amount > 0 ? Math.max(3, (d.amount / max) * plot) : 0;
      const last = i === days.length - 1;
      return svg('g', { class: `chart-day${last ? ' is-latest' : ''}` },
        svg('title', {}, `${longDay.format(d.date)}: ${tn('unit.lemons', d.amount)}`),
        svg('rect', { class: 'chart-slot', x: slot * i, y: 0, width: slot, height: HEIGHT }),
        d.amount > 0
          ? svg('rect', { class: 'chart-bar', x, y: base - height, width: barWidth, height, rx: Math.min(6, barWidth / 4) })
          : svg('rect', { class: 'chart-bar-zero', x, y: base - 2, width: barWidth, height: 2, rx: 1 }),
        svg('text', { class: `chart-amount${d.amount ? '' : ' is-zero'}`, x: x + barWidth / 2, y: base - height - 7, 'text-anchor': 'middle' }, String(d.amount)),
        svg('text', { class: 'chart-label', x: x + barWidth / 2, y: base + 18, 'text-anchor': 'middle' }, weekday.format(d.date)),
        svg('text', { class: 'chart-sublabel', x: x + barWidth / 2, y: base + 35, 'text-anchor': 'middle' }, sublabel.format(d.date)));
    });

    box.replaceChildren(svg('svg', {
      class: 'chart-svg', viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT,
      role: 'img', 'aria-label': t('chart.label', { days: days.length, lemons: tn('unit.lemons', sum), summary }),
    },
    svg('line', { class: 'chart-axis', x1: 0, x2: width, y1: base + 0.5, y2: base + 0.5 }),
    ...bars));
    total.textContent = sum > 0 ? t('chart.total', { lemons: tn('unit.lemons', sum) }) : t('chart.none');
  }

  // Redraw at the box's real width, so the text keeps its size on any screen.
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      if (days && Math.abs((box.clientWidth || 0) - width) > 4) draw();
    }).observe(box);
  }

  async function load() {
    try {
      const rows = await api('GET', `/stats/daily-harvest?days=${DAYS}`);
      const list = (Array.isArray(rows) ? rows : [])
        .map((r) => ({ date: new Date(r?.date), amount: Number(r?.amount) || 0 }))
        .filter((r) => !Number.isNaN(r.date.getTime()))
        .sort((a, b) => a.date - b.date);
      days = fillDays(list);
      showNote('');
      draw();
    } catch (err) {
      if (err.status === 401) return;
      if (!days) {
        box.replaceChildren();
        total.textContent = '';
      }
      showNote(t('chart.load_failed', { said: messageFor(err) }));
    }
  }

  return {
    load,
    clear() {
      days = null;
      box.replaceChildren();
      total.textContent = '';
      showNote('');
    },
  };
}

// Exactly DAYS days ending with the newest day the server gave (or today, UTC),
// with 0 for days it left out.
function fillDays(list) {
  const byDay = new Map(list.map((d) => [d.date.toISOString().slice(0, 10), d.amount]));
  const end = list.length ? list[list.length - 1].date : new Date();
  const last = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  const out = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const date = new Date(last - i * 86400000);
    out.push({ date, amount: byDay.get(date.toISOString().slice(0, 10)) ?? 0 });
  }
  return out;
}
