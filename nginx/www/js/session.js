// Who is logged in. Stored in localStorage so every tab shares it:
//   dbtree.token      bearer token
//   dbtree.expiresAt  token expiry, ms since epoch
//   dbtree.profile    the last profile JSON from the server
//
// Window events:
//   "dbtree:profile"  detail { profile }  — logged in, or the profile changed
//   "dbtree:logout"   detail { reason }   — the session ended; reason is one of
//                     "user", "unauthorized", "expired", "deleted", "other-tab"

import { api } from './api.js';

const KEYS = { token: 'dbtree.token', profile: 'dbtree.profile', expiresAt: 'dbtree.expiresAt' };

// The token this tab last saw, to tell log-ins from log-outs in other tabs.
let seenToken = null;

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch { /* storage blocked: nothing we can do */ }
}

function emit(name, detail) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

export function getToken() {
  return read(KEYS.token);
}

export function getProfile() {
  try {
    return JSON.parse(read(KEYS.profile));
  } catch {
    return null;
  }
}

function expiresAt() {
  return Number(read(KEYS.expiresAt)) || 0;
}

export function isLoggedIn() {
  return Boolean(getToken()) && (!expiresAt() || Date.now() < expiresAt());
}

export function setProfile(profile) {
  write(KEYS.profile, profile ? JSON.stringify(profile) : null);
  emit('dbtree:profile', { profile });
}

export function login(token, expiresIn, profile) {
  write(KEYS.token, token);
  seenToken = token;
  write(KEYS.expiresAt, String(Date.now() + Number(expiresIn || 86400) * 1000));
  scheduleExpiry();
  setProfile(profile);
}

// Forget the session locally. Fires "dbtree:logout" only if there was one.
export function clearSession(reason = 'user') {
  const hadSession = read(KEYS.token) !== null || read(KEYS.profile) !== null;
  write(KEYS.token, null);
  write(KEYS.expiresAt, null);
  write(KEYS.profile, null);
  seenToken = null;
  if (hadSession) emit('dbtree:logout', { reason });
}

// Ends the session on the server (best effort), then locally.
export async function logout() {
  if (getToken()) {
    try {
      await api('POST', '/logout');
    } catch { /* logged out locally anyway */ }
  }
  clearSession('user');
}

let pending = null;

// GET /api/user and store the result. Concurrent calls share one request.
export function refreshProfile() {
  const token = getToken();
  if (!token) return Promise.resolve(null);
  pending ??= api('GET', '/user')
    .then((profile) => {
      if (getToken() === token) setProfile(profile); // ignore answers for an old session
      return profile;
    })
    .finally(() => { pending = null; });
  return pending;
}

let expiryTimer = null;

function scheduleExpiry() {
  clearTimeout(expiryTimer);
  if (!getToken() || !expiresAt()) return;
  const ms = Math.min(Math.max(0, expiresAt() - Date.now()), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => {
    if (getToken() && !isLoggedIn()) clearSession('expired');
  }, ms);
}

// Call once per page (js/app.js does): keeps this tab in step with the others
// and logs out when the token expires.
export function initSession() {
  seenToken = getToken();
  scheduleExpiry();
  window.addEventListener('storage', (event) => {
    if (event.storageArea !== localStorage) return;
    if (event.key === KEYS.token || event.key === null) {
      const before = seenToken;
      seenToken = getToken();
      scheduleExpiry();
      if (seenToken && seenToken !== before) emit('dbtree:profile', { profile: getProfile() });
      else if (!seenToken && before) emit('dbtree:logout', { reason: 'other-tab' });
    } else if (event.key === KEYS.profile && event.newValue !== null && getToken()) {
      emit('dbtree:profile', { profile: getProfile() });
    }
  });
}
