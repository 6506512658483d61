// The ONLY module that talks to the server. Every page calls:
//
//   const profile = await api('GET', '/user');
//   await api('POST', '/send-otp?type=authentication', { email });
//
// It resolves to the parsed JSON body (null for 204 or an empty body) and throws
// an ApiError otherwise. Show errors to people with messageFor(err).
//
// Every request says the UI's language in the X-Dbtree-Lang header ("en" | "ko"):
// the quiz comes in that language, and a logged-in person's mails follow it.
// Error messages from the server stay English; messageFor() puts each error code
// into the chosen language from the catalogues ('error.<code>').

import { has, lang, t, tn } from './i18n.js';
import { getToken, clearSession } from './session.js';

const BASE = '/api';
const TIMEOUT_MS = 20000;
// A 401 from these means "wrong code", not "your session ended".
const LOGIN_PATHS = ['/send-otp', '/verify-otp'];

export class ApiError extends Error {
  // status: HTTP status (0 = the server could not be reached)
  // code:   the server's numbered error code, or null
  // name:   the bracketed name from the message, e.g. "too_early_resend" ('' if none)
  // text:   the message without the "[name] " prefix
  // data:   the server's extra data object, or null
  // retryAfter: seconds to wait (Retry-After header), or null
  constructor({ status, code = null, name = '', text = '', data = null, retryAfter = null }) {
    super(text || `Request failed with HTTP status ${status}`);
    this.status = status;
    this.code = code;
    this.name = name;
    this.text = text;
    this.data = data;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const token = getToken();
  const headers = { Accept: 'application/json', 'X-Dbtree-Lang': lang() };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (AbortSignal.timeout) init.signal = AbortSignal.timeout(TIMEOUT_MS);

  let response;
  let raw;
  try {
    response = await fetch(BASE + path, init);
    raw = await response.text();
  } catch {
    throw new ApiError({ status: 0, name: 'network_error', text: t('api.cannot_reach') });
  }

  if (response.ok) {
    if (response.status === 204 || raw.trim() === '') return null;
    try {
      return JSON.parse(raw);
    } catch {
      throw new ApiError({ status: response.status, name: 'invalid_response', text: t('api.invalid_response') });
    }
  }

  const error = errorFrom(response, raw);
  const isLoginPath = LOGIN_PATHS.some((p) => path.startsWith(p));
  // Only end the session the request was made with (another tab may have logged in since).
  if (response.status === 401 && !isLoginPath && token && getToken() === token) {
    clearSession('unauthorized');
  }
  throw error;
}

// Body shape: {"code": int, "message": "[name] human text", "data": {...}}.
// Anything else (an nginx error page, plain text) still becomes an ApiError.
function errorFrom(response, raw) {
  let body = null;
  try {
    body = JSON.parse(raw);
  } catch { /* not JSON */ }
  if (!body || typeof body !== 'object') body = null;

  const message = typeof body?.message === 'string' ? body.message : '';
  const match = /^\[([^\]]+)\]\s*([\s\S]*)$/.exec(message);
  const isPlainText = /^text\/plain/i.test(response.headers.get('Content-Type') || '');
  let text = match ? match[2].trim() : message.trim();
  if (!body && isPlainText && raw.length < 300) text = raw.trim();

  const data = body && body.data && typeof body.data === 'object' ? body.data : null;
  return new ApiError({
    status: response.status,
    code: Number.isInteger(body?.code) ? body.code : null,
    name: match ? match[1] : '',
    text,
    data,
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')) ?? waitFromData(data),
  });
}

// Retry-After is either seconds ("42") or an HTTP date.
function parseRetryAfter(value) {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  const when = Date.parse(trimmed);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

// Some errors also carry the wait in their data, e.g. {"waitSeconds": 42}.
function waitFromData(data) {
  return Number.isInteger(data?.waitSeconds) && data.waitSeconds >= 0 ? data.waitSeconds : null;
}

// HTTP statuses with words of their own ('api.status.<status>'), for answers without a code.
const FALLBACK_STATUSES = [400, 401, 403, 404, 409, 413];
// Codes whose words can name a detail from the error's data ('error.<code>.<field>').
const DETAIL = { 1100: 'parameter', 1101: 'parameter', 1200: 'triesLeft' };

// A sentence a person understands, for any error thrown while calling the API.
export function messageFor(err) {
  if (!(err instanceof ApiError)) return t('api.unexpected');
  if (err.status === 0) return t('api.network');
  if (err.status === 429) {
    const base = codeText(err) || t('api.too_many');
    const s = err.retryAfter;
    return `${base} ${s == null ? t('api.retry_moment') : tn('api.retry_in', s)}`;
  }
  // 5xx: generic, unless the server explains a domain problem (e.g. no capacity left).
  const explained = err.text && err.code != null && err.code !== 1000 && err.code !== 1001;
  if (err.status >= 500 && !explained) return t('api.server_error');
  const text = codeText(err);
  if (text) return text;
  return FALLBACK_STATUSES.includes(err.status) ? t(`api.status.${err.status}`) : t('api.http_failed', { status: err.status });
}

// The error code in words. English keeps the server's own sentence (English
// already, and often more precise than the code); another language takes
// 'error.<code>' from its catalogue. An unknown code shows the server's sentence.
function codeText(err) {
  const key = `error.${err.code}`;
  if (err.code == null || !has(key) || (lang() === 'en' && err.text)) return err.text ? sentence(err.text) : '';
  const field = DETAIL[err.code];
  const value = field ? err.data?.[field] : undefined;
  if (value != null && has(`${key}.${field}`)) return t(`${key}.${field}`, { [field]: value });
  return t(key);
}

function sentence(text) {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
