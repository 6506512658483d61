// Inline SVG icons (decorative: aria-hidden). No images are loaded from anywhere.
import { svg } from './dom.js';

function icon(viewBox, className, ...children) {
  return svg('svg', { viewBox, class: className, 'aria-hidden': 'true', focusable: 'false' }, ...children);
}

// Same drawing as /favicon.svg.
export function lemonIcon(className = 'icon-lemon') {
  return icon('0 0 64 64', className,
    svg('path', { d: 'M40 15c2-7 10-11 19-9-2 9-10 13-19 9z', fill: '#43a047' }),
    svg('path', {
      d: 'M8 47c-3-2-3-6 0-8 0-14 12-26 27-26 5 0 10 1 13 4 3-1 7 1 7 5 0 1 0 2-1 3 2 4 3 8 2 12-2 13-15 21-29 20-6 0-10-2-13-5-3 1-5-1-6-5z',
      fill: '#ffd43b', stroke: '#e0a800', 'stroke-width': 2, 'stroke-linejoin': 'round',
    }),
    svg('ellipse', { cx: 25, cy: 27, rx: 7, ry: 3.5, transform: 'rotate(-35 25 27)', fill: '#fff', opacity: 0.55 }));
}

const STROKE = { fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' };

export function sunIcon() {
  return icon('0 0 24 24', 'icon',
    svg('circle', { cx: 12, cy: 12, r: 4, ...STROKE }),
    svg('path', { d: 'M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4', ...STROKE }));
}

export function moonIcon() {
  return icon('0 0 24 24', 'icon',
    svg('path', { d: 'M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z', ...STROKE }));
}
