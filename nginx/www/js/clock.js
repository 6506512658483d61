// Small timing helpers shared by the home page modules.
//
//   clock(75)                      → "1:15"
//   const stop = poll(load, 5000); // runs now, then every 5 s while the tab is visible
//   poll(load, () => ms);          // the interval read again before each wait
//   const t = countdown(5000, { tick(fraction, secondsLeft) {…}, end() {…} }); t.stop();

// Seconds → "M:SS" (minutes are not capped: 3600 → "60:00").
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// Runs fn now and then every ms (a number, or a function giving it each time). A hidden
// tab is not polled; it catches up when shown.
export function poll(fn, every) {
  const interval = typeof every === 'function' ? every : () => every;
  let last = 0;
  let timer = null;
  const run = () => {
    last = Date.now();
    Promise.resolve().then(fn).catch(() => { /* fn shows its own errors */ });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (document.visibilityState !== 'hidden') run();
      schedule();
    }, interval());
  };
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && Date.now() - last >= interval()) {
      run();
      schedule();
    }
  });
  run();
  schedule();
  return () => clearTimeout(timer);
}

// Calls tick(fraction left 1→0, whole seconds left) every animation frame and end() once at 0.
export function countdown(ms, { tick, end }) {
  const endsAt = performance.now() + Math.max(0, ms);
  let frame = 0;
  let stopped = false;
  const step = () => {
    if (stopped) return;
    const left = Math.max(0, endsAt - performance.now());
    tick(ms > 0 ? left / ms : 0, Math.ceil(left / 1000));
    if (left <= 0) {
      stopped = true;
      end();
      return;
    }
    frame = requestAnimationFrame(step);
  };
  step();
  return {
    stop() {
      stopped = true;
      cancelAnimationFrame(frame);
    },
  };
}
