// Live tree events: nginx pushes every harvest and regrowth to open pages (Server-Sent
// Events from GET /api/lemon/events, served by nginx itself). The page also polls
// global-status, slowly while live and every few seconds while not.
//
//   const live = initLive({ onEvent(data) {…}, onState(state) {…} });
//   live.state()   // 'connecting' | 'live' | 'reconnecting'
//
// The browser's EventSource resumes by itself with Last-Event-ID after a dropped
// connection; when it gives up (an error status, say while nginx reloads) we open a new
// one with ?last_event_id= so nothing published meanwhile is missed.

const URL_PATH = '/api/lemon/events';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
const KEEP = 50; // recent events kept for inspection (window.dbtreeLive)

export function initLive({ onEvent, onState }) {
  let source = null;
  let lastId = '';
  let state = 'connecting';
  let retryMs = RETRY_MIN_MS;
  const seen = [];
  window.dbtreeLive = { get state() { return state; }, events: seen };

  const setState = (next) => {
    if (next === state) return;
    state = next;
    document.documentElement.dataset.live = state;
    onState(state);
  };

  const open = () => {
    const url = lastId ? `${URL_PATH}?last_event_id=${encodeURIComponent(lastId)}` : URL_PATH;
    source = new EventSource(url);
    source.onopen = () => {
      retryMs = RETRY_MIN_MS;
      setState('live');
    };
    source.onmessage = (message) => {
      if (message.lastEventId) lastId = message.lastEventId;
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (!data || typeof data.type !== 'string') return;
      const positions = Array.isArray(data.lemons) ? data.lemons.map((l) => l?.position) : [];
      seen.push({ id: message.lastEventId, type: data.type, positions });
      if (seen.length > KEEP) seen.shift();
      onEvent(data);
    };
    source.onerror = () => {
      setState('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries itself
      source.close();
      setTimeout(open, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    };
  };

  document.documentElement.dataset.live = state;
  if (typeof EventSource === 'function') open();
  else setState('reconnecting'); // no EventSource: the poll alone keeps the tree fresh
  return { state: () => state };
}
