// The moving circle of the harvest game.
//
//   const stop = moveTarget(area, target);   // starts moving target around area; stop() ends it
//
// The target glides along a wandering curve (a sum of sines, fresh phases each game).
// Its position is updated about every STEP_MS (every 3rd frame at 60 Hz), so it holds
// still for a few frames at a time: it still looks smooth, and automated clicks (which
// wait until an element keeps the same box for two frames in a row) land on it. The pulsing is CSS on a child element,
// so it never changes the button's own box; prefers-reduced-motion turns the pulse off
// and slows the movement, but the target keeps moving.

const STEP_MS = 45;

const reducedMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)');

export function moveTarget(area, target) {
  const speed = reducedMotion?.matches ? 0.7 : 1;
  const phase = Array.from({ length: 4 }, () => Math.random() * Math.PI * 2);
  const started = performance.now();
  let frame = 0;
  let stopped = false;

  let placedAt = -Infinity;
  const place = (now) => {
    placedAt = now;
    const t = ((now - started) / 1000) * speed;
    const u = 0.5 + 0.38 * Math.sin(1.25 * t + phase[0]) + 0.12 * Math.sin(2.9 * t + phase[1]);
    const v = 0.5 + 0.38 * Math.sin(1.65 * t + phase[2]) + 0.12 * Math.sin(3.7 * t + phase[3]);
    const w = Math.max(0, area.clientWidth - target.offsetWidth);
    const h = Math.max(0, area.clientHeight - target.offsetHeight);
    target.style.transform = `translate(${Math.round(u * w)}px, ${Math.round(v * h)}px)`;
  };

  const step = (now) => {
    if (stopped) return;
    if (now - placedAt >= STEP_MS) place(now);
    frame = requestAnimationFrame(step);
  };
  place(started);
  frame = requestAnimationFrame(step);

  return () => {
    stopped = true;
    cancelAnimationFrame(frame);
  };
}
