// The ONLY module that talks to the server. Every page calls:
//
//   const profile = await api('GET', '/user');
//   await api('POST', '/send-otp?type=authentication', { email });
//
// It resolves to the parsed JSON body (null for 204 or an empty body) and throws
// an ApiError otherwise. Show errors to people with messageFor(err).

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
  const headers = { Accept: 'application/json' };
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
    throw new ApiError({ status: 0, name: 'network_error', text: 'Cannot reach the server.' });
  }

  if (response.ok) {
    if (response.status === 204 || raw.trim() === '') return null;
    try {
      return JSON.parse(raw);
    } catch {
      throw new ApiError({ status: response.status, name: 'invalid_response', text: 'The server sent an answer we could not read.' });
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

const FALLBACK_TEXT = {
  400: 'That request was not valid.',
  401: 'Please log in again.',
  403: 'You are not allowed to do that.',
  404: 'That could not be found.',
  409: 'That cannot be done right now.',
  413: 'That is too large.',
};

// A sentence a person understands, for any error thrown while calling the API.
export function messageFor(err) {
  if (!(err instanceof ApiError)) return 'Something unexpected went wrong. Please try again.';
  if (err.status === 0) return 'Cannot reach the server. Check your connection.';
  if (err.status === 429) {
    const base = err.text ? sentence(err.text) : 'Too many attempts.';
    const s = err.retryAfter;
    if (s == null) return `${base} Try again in a moment.`;
    return `${base} Try again in ${s} ${s === 1 ? 'second' : 'seconds'}.`;
  }
  // 5xx: generic, unless the server explains a domain problem (e.g. no capacity left).
  const explained = err.text && err.code != null && err.code !== 1000 && err.code !== 1001;
  if (err.status >= 500 && !explained) return 'Something went wrong on our side. Please try again.';
  if (err.text) return sentence(err.text);
  return FALLBACK_TEXT[err.status] ?? `The request failed (HTTP ${err.status}). Please try again.`;
}

function sentence(text) {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
