// Database instances: the API calls, and the words and numbers the dashboard shows.
// Pure helpers (no DOM) so the dashboard, the wizard and the credentials dialog share them.

import { api, ApiError, messageFor } from './api.js';
import { fmtNumber, has, lang, t, tn } from './i18n.js';

// The server's rules (PRODUCT.md §6, reference §8.3–§8.4).
export const MAX_INSTANCES = 2;
export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const NAME_MIN = 3;
export const NAME_MAX = 63;

// ---- API ---------------------------------------------------------------------

export const listInstances = () => api('GET', '/db/instances');
export const getInstance = (id) => api('GET', `/db/instances/${encodeURIComponent(id)}`);
export const createInstance = (body) => api('POST', '/db/instances', body);
export const deleteInstance = (id) => api('DELETE', `/db/instances/${encodeURIComponent(id)}`);
export const resetPassword = (id) => api('POST', `/db/instances/${encodeURIComponent(id)}/credentials`);
export const listPresets = () => api('GET', '/db/presets');

// act: "start" | "stop" | "restart"
export const instanceAction = (id, act) => api('POST', `/db/instances/${encodeURIComponent(id)}/${act}`);

// ---- Words -------------------------------------------------------------------

const TYPE_LABELS = { postgres: 'PostgreSQL', redis: 'Redis', mongodb: 'MongoDB' };

export function typeLabel(type) {
  return TYPE_LABELS[type] ?? (type ? String(type) : t('instances.database'));
}

const SIZES = ['tiny', 'small', 'medium', 'large'];

export function sizeLabel(size) {
  const s = String(size ?? '');
  if (SIZES.includes(s)) return t(`instances.size.${s}`);
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

// tone drives the colour of the status dot (css: .status-dot[data-tone]);
// the words are 'instances.status.<status>' in the catalogues.
const STATUS = {
  provisioning: { tone: 'busy' },
  running: { tone: 'good' },
  stopped: { tone: 'idle' },
  paused: { tone: 'warn' },
  error: { tone: 'bad' },
  deleting: { tone: 'idle' },
  maintenance: { tone: 'busy' },
  backing_up: { tone: 'busy' },
  restoring: { tone: 'busy' },
  upgrading: { tone: 'busy' },
};

// A backup or a restore is under way: the backups job owns the instance, so
// start/stop wait (it stays desired "running" meanwhile).
export function isBackupBusy(status) {
  return status === 'backing_up' || status === 'restoring';
}

export function statusTone(status) {
  return STATUS[status]?.tone ?? 'idle';
}

// What the person asked for that the driver has not yet observed:
// "Starting…", "Stopping…", "Deleting…", or '' when the two agree.
const TOWARDS = { running: 'instances.starting', stopped: 'instances.stopping', paused: 'instances.stopping', deleted: 'instances.deleting' };
export function transitionText(inst) {
  const want = inst?.desiredStatus;
  if (!want || want === inst.status || inst.status === 'error' || inst.status === 'provisioning') return '';
  // backing up, restoring, maintenance: running underneath, not "Starting…"
  if (want === 'running' && STATUS[inst.status]?.tone === 'busy') return '';
  return TOWARDS[want] ? t(TOWARDS[want]) : '';
}

// The server's reason for a status, in the page's language when it is one of
// the reasons the server itself writes (lib/domain/lifecycle.c); a driver's
// own words (an error's detail) stay as they are.
export function reasonText(reason) {
  const key = `instances.reason.${String(reason ?? '').toLowerCase().replace(/\W+/g, '_')}`;
  return lang() !== 'en' && has(key) ? t(key) : String(reason ?? '');
}

// "Running", "Paused: out of lemons", "Error: the port is taken",
// "Starting…" while a start is on its way.
export function statusText(inst) {
  const status = inst?.status;
  const towards = transitionText(inst);
  if (towards) return towards;
  const base = STATUS[status] ? t(`instances.status.${status}`) : sizeLabel(status || 'unknown');
  if (status === 'error' && inst.statusReason) return t('instances.error_reason', { status: base, reason: reasonText(inst.statusReason) });
  return base;
}

// For sentences: "while it is stopped".
export function statusWord(status) {
  return STATUS[status] ? t(`instances.word.${status}`) : String(status ?? 'unknown');
}

// Instances whose status changes on its own soon: poll fast while any is shown.
export function isBusy(inst) {
  return inst.status === 'provisioning' || inst.status === 'deleting' || isBackupBusy(inst.status)
    || transitionText(inst) !== '';
}

// Instances that count toward the per-person limit.
export function liveCount(instances) {
  return instances.filter((i) => i.status !== 'deleting').length;
}

// '' when the name is fine, else what is wrong, in words.
export function nameProblem(name, takenNames = []) {
  if (!name) return t('instances.name_empty');
  const bad = [...new Set(name.replace(/[a-z0-9-]/g, ''))];
  if (bad.length) {
    const shown = bad.slice(0, 3).map((c) => (c === ' ' ? t('instances.spaces') : `“${c}”`)).join(', ');
    return t('instances.name_chars', { shown });
  }
  if (name.length < NAME_MIN) return t('instances.name_short', { min: NAME_MIN, n: name.length });
  if (name.length > NAME_MAX) return t('instances.name_long', { max: NAME_MAX });
  if (!NAME_PATTERN.test(name)) return t('instances.name_hyphen');
  if (takenNames.includes(name)) return t('instances.name_taken', { name });
  return '';
}

// ---- Numbers -----------------------------------------------------------------


export function lemons(n) {
  return Number.isFinite(n) ? `${fmtNumber(n)} 🍋` : '–';
}

// The server's custom-spec price (reference §8.3; lib/domain/instance.c).
export function customCost(type, cpu, memoryMb, diskGb) {
  let base = type === 'redis' ? memoryMb / 512 : (memoryMb / 1024) * 3;
  if (cpu > 0.5) base += (cpu - 0.5) * 2;
  if (diskGb > 10) base += (diskGb - 10) / 10;
  base = Math.max(base, 0.5);
  const hourly = Math.max(1, Math.trunc(base));
  return { creationCost: hourly * 10, hourlyLemons: hourly, dailyLemons: hourly * 24, monthlyLemons: hourly * 24 * 30 };
}

// A cost object from the server, with daily/monthly filled in if missing
// (the create answer has only creationCost and hourlyLemons).
export function fullCost(cost) {
  const hourly = Number(cost?.hourlyLemons ?? cost?.HourlyLemons);
  const creation = Number(cost?.creationCost ?? cost?.CreationCost);
  const h = Number.isFinite(hourly) ? hourly : NaN;
  return {
    creationCost: Number.isFinite(creation) ? creation : NaN,
    hourlyLemons: h,
    dailyLemons: Number.isFinite(cost?.dailyLemons) ? cost.dailyLemons : h * 24,
    monthlyLemons: Number.isFinite(cost?.monthlyLemons) ? cost.monthlyLemons : h * 24 * 30,
  };
}

// Whole hours a balance pays for, or null if unknown.
export function hoursFor(balance, hourly) {
  if (!Number.isFinite(balance) || !Number.isFinite(hourly) || hourly <= 0) return null;
  return Math.max(0, Math.floor(balance / hourly));
}

export function hoursText(hours) {
  return hours == null ? '–' : tn('unit.hours', hours);
}

// "postgres-standalone-tiny" → "PostgreSQL Tiny"; anything else as it is.
export function presetLabel(id) {
  const m = /^([a-z]+)-[a-z_]+-([a-z]+)$/.exec(id || '');
  return m && TYPE_LABELS[m[1]] ? `${TYPE_LABELS[m[1]]} ${sizeLabel(m[2])}` : String(id || '');
}

export function cpuText(cpu) {
  return Number.isFinite(cpu) ? `${fmtNumber(cpu)} vCPU` : '–';
}

export function memoryText(mb) {
  if (!Number.isFinite(mb)) return '–';
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GB` : `${fmtNumber(mb)} MB`;
}

export function diskText(gb) {
  return Number.isFinite(gb) ? `${fmtNumber(gb)} GB` : '–';
}

export function specText(resources) {
  const r = resources ?? {};
  return t('instances.spec', { cpu: cpuText(r.cpu), memory: memoryText(r.memory), disk: diskText(r.disk) });
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

export function bytesText(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? t('instances.bytes', { n: Math.round(value) }) : `${fmtNumber(value, { maximumFractionDigits: 1 })} ${UNITS[unit]}`;
}

export function uptimeText(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return t('instances.uptime_dh', { d, h });
  if (h > 0) return t('instances.uptime_hm', { h, m });
  if (m > 0) return t('instances.uptime_m', { m });
  return t('instances.uptime_s', { s });
}

// ---- Errors in words -----------------------------------------------------------

// ctx: { name, hourly, limit } — what the caller knows, to make the sentence concrete.
export function instanceErrorText(err, ctx = {}) {
  if (!(err instanceof ApiError)) return messageFor(err);
  const data = err.data ?? {};
  switch (err.code) {
    case 1400:
      return t('instances.err.gone');
    case 1401:
      return t('instances.err.taken', { name: data.name ?? ctx.name ?? '' });
    case 1502: {
      const missing = Number(data.missing);
      if (Number.isFinite(missing) && missing > 0) {
        return t('instances.err.need_more', { lemons: tn('unit.more_lemons', missing) });
      }
      if (Number.isFinite(ctx.hourly)) {
        return t('instances.err.need_hour', { lemons: tn('unit.lemons', ctx.hourly) });
      }
      return t('instances.err.not_enough');
    }
    case 1700: {
      const current = data.current;
      return current
        ? t('instances.err.while', { status: statusWord(current) })
        : messageFor(err);
    }
    case 1702:
      return t('instances.err.name');
    case 1703:
      return t('instances.err.resources', { said: messageFor(err) });
    case 1805: {
      const limit = Number(data.limit) || ctx.limit || MAX_INSTANCES;
      return t('instances.err.limit', { limit });
    }
    case 1901:
      return t('instances.err.capacity');
    default:
      return messageFor(err);
  }
}
