// Tiny DOM helpers. Strings passed as children become text nodes, never HTML,
// so server- or user-supplied text is always safe to pass in.
//
//   h('button', { type: 'button', class: 'btn', onclick: save }, 'Save')
//
// Props: "class", "dataset" (object), "on<event>" (function → addEventListener),
// true → empty attribute, false/null/undefined → left out, anything else → attribute.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  // append() turns strings and numbers into text nodes.
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

export function svg(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}
