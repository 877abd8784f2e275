// Small DOM helpers: elements are built with h(), never from HTML strings, so text from the API is never markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children: strings become text, arrays are flattened, null/undefined/false are skipped. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('button', {class: 'primary', onClick: fn}, 'Save') */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** "3 s ago", "5 min ago", "2 h ago", else a date; the exact time goes in a title. */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((now - t) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** A <time> element showing the relative time, the exact local time on hover. */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, relativeTime(iso));
}

export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return `${Number(ms).toFixed(2)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** GB-seconds are often tiny: show two significant digits without exponents. */
export function formatGbSeconds(v) {
  if (!v) return '0';
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(2);
  const digits = Math.min(12, Math.max(2, 1 - Math.floor(Math.log10(v))));
  return v.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');
}

export function formatCount(n) {
  return Number(n || 0).toLocaleString('en-US');
}

/** Copies text; works in insecure contexts too (a server reached over plain HTTP by its address). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way
  }
  const area = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** A "Copy" button that says "Copied" for a moment. */
export function copyButton(getText, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'button small copy', 'aria-label': `${label} to clipboard` }, label);
  button.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    button.textContent = ok ? 'Copied' : 'Copy failed';
    button.classList.toggle('done', ok);
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove('done');
    }, 1600);
  });
  return button;
}

/** A URL with its copy button, wrapping anywhere on narrow screens. */
export function urlBox(url, id) {
  return h('div', { class: 'url-box' },
    h('code', { class: 'url', id }, url),
    copyButton(url));
}

export function spinner(label = 'Working') {
  return h('span', { class: 'spinner', role: 'status', 'aria-label': label });
}
