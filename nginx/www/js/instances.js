// Database instances: the API calls, and the words and numbers the dashboard shows.
// Pure helpers (no DOM) so the dashboard, the wizard and the credentials dialog share them.

import { api, ApiError, messageFor } from './api.js';
import { plural } from './clock.js';

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
  return TYPE_LABELS[type] ?? String(type ?? 'Database');
}

export function sizeLabel(size) {
  const s = String(size ?? '');
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

// tone drives the colour of the status dot (css: .status-dot[data-tone]).
const STATUS = {
  provisioning: { label: 'Provisioning', tone: 'busy' },
  running: { label: 'Running', tone: 'good' },
  stopped: { label: 'Stopped', tone: 'idle' },
  paused: { label: 'Paused: out of lemons', tone: 'warn' },
  error: { label: 'Error', tone: 'bad' },
  deleting: { label: 'Deleting', tone: 'idle' },
  maintenance: { label: 'Maintenance', tone: 'busy' },
  backing_up: { label: 'Backing up…', tone: 'busy' },
  restoring: { label: 'Restoring…', tone: 'busy' },
  upgrading: { label: 'Upgrading…', tone: 'busy' },
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
const TOWARDS = { running: 'Starting…', stopped: 'Stopping…', paused: 'Stopping…', deleted: 'Deleting…' };
export function transitionText(inst) {
  const want = inst?.desiredStatus;
  if (!want || want === inst.status || inst.status === 'error' || inst.status === 'provisioning') return '';
  // backing up, restoring, maintenance: running underneath, not "Starting…"
  if (want === 'running' && STATUS[inst.status]?.tone === 'busy') return '';
  return TOWARDS[want] ?? '';
}

// "Running", "Paused: out of lemons", "Error: the port is taken",
// "Starting…" while a start is on its way.
export function statusText(inst) {
  const status = inst?.status;
  const towards = transitionText(inst);
  if (towards) return towards;
  const base = STATUS[status]?.label ?? sizeLabel(status || 'unknown');
  if (status === 'error' && inst.statusReason) return `${base}: ${inst.statusReason}`;
  return base;
}

// For sentences: "while it is stopped".
export function statusWord(status) {
  if (status === 'backing_up') return 'being backed up';
  if (status === 'restoring') return 'being restored';
  return status === 'paused' ? 'paused' : String(status ?? 'unknown');
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
  if (!name) return 'Give your database a name.';
  const bad = [...new Set(name.replace(/[a-z0-9-]/g, ''))];
  if (bad.length) {
    const shown = bad.slice(0, 3).map((c) => (c === ' ' ? 'spaces' : `“${c}”`)).join(', ');
    return `Use only lower-case letters, digits and hyphens (no ${shown}).`;
  }
  if (name.length < NAME_MIN) return `The name needs at least ${NAME_MIN} characters (${name.length} so far).`;
  if (name.length > NAME_MAX) return `The name can have at most ${NAME_MAX} characters.`;
  if (!NAME_PATTERN.test(name)) return 'The name must start and end with a letter or a digit, not a hyphen.';
  if (takenNames.includes(name)) return `You already have a database called “${name}”.`;
  return '';
}

// ---- Numbers -----------------------------------------------------------------

const numbers = new Intl.NumberFormat();

export function lemons(n) {
  return Number.isFinite(n) ? `${numbers.format(n)} 🍋` : '–';
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
  return hours == null ? '–' : plural(hours, 'hour');
}

// "postgres-standalone-tiny" → "PostgreSQL Tiny"; anything else as it is.
export function presetLabel(id) {
  const m = /^([a-z]+)-[a-z_]+-([a-z]+)$/.exec(id || '');
  return m && TYPE_LABELS[m[1]] ? `${TYPE_LABELS[m[1]]} ${sizeLabel(m[2])}` : String(id || '');
}

export function cpuText(cpu) {
  return Number.isFinite(cpu) ? `${numbers.format(cpu)} vCPU` : '–';
}

export function memoryText(mb) {
  if (!Number.isFinite(mb)) return '–';
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GB` : `${numbers.format(mb)} MB`;
}

export function diskText(gb) {
  return Number.isFinite(gb) ? `${numbers.format(gb)} GB` : '–';
}

export function specText(resources) {
  const r = resources ?? {};
  return `${cpuText(r.cpu)} · ${memoryText(r.memory)} memory · ${diskText(r.disk)} disk`;
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function bytesText(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} bytes` : `${oneDecimal.format(value)} ${UNITS[unit]}`;
}

export function uptimeText(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

// ---- Errors in words -----------------------------------------------------------

// ctx: { name, hourly, limit } — what the caller knows, to make the sentence concrete.
export function instanceErrorText(err, ctx = {}) {
  if (!(err instanceof ApiError)) return messageFor(err);
  const data = err.data ?? {};
  switch (err.code) {
    case 1400:
      return 'That database no longer exists. It may have just been deleted.';
    case 1401:
      return `You already have a database called “${data.name ?? ctx.name ?? ''}”. Pick another name.`;
    case 1502: {
      const missing = Number(data.missing);
      if (Number.isFinite(missing) && missing > 0) {
        return `You need ${plural(missing, 'more lemon')} for that. Harvest some at the lemon tree.`;
      }
      if (Number.isFinite(ctx.hourly)) {
        return `You need at least ${plural(ctx.hourly, 'lemon')} (one hour of running) to start it. Harvest some at the lemon tree.`;
      }
      return 'You do not have enough lemons for that. Harvest some at the lemon tree.';
    }
    case 1700: {
      const current = data.current;
      return current
        ? `That cannot be done while the database is ${statusWord(current)}.`
        : messageFor(err);
    }
    case 1702:
      return 'Names are 3 to 63 lower-case letters, digits and hyphens, and start and end with a letter or digit.';
    case 1703:
      return `Those resources are not allowed. ${messageFor(err)}`;
    case 1805: {
      const limit = Number(data.limit) || ctx.limit || MAX_INSTANCES;
      return `You can have ${limit} databases at a time. Delete one to make room.`;
    }
    case 1901:
      return 'The server has no room for a database this size right now. Try a smaller size, or come back later.';
    default:
      return messageFor(err);
  }
}
