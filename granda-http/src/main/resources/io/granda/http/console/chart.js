// The usage chart: calls as bars (errors in red at their foot) against the left axis, GB-seconds as a line against
// the right one, drawn as inline SVG at the container's own width (redrawn when it changes), so text stays readable
// on a phone.

import { s, h, clear, formatGbSeconds } from './dom.js';

const HEIGHT = 220;
const M = { top: 14, right: 58, bottom: 30, left: 40 };

/** The smallest of 1, 2, 2.5, 5 x 10^k that is at least v (at least `floor`). */
function niceMax(v, floor) {
  if (!(v > 0)) return floor;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= v) return Math.max(floor, m * p);
  }
  return v;
}

function bucketLabel(iso, granularity) {
  const d = new Date(iso);
  if (granularity === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

function draw(container, usage) {
  const series = usage.series || [];
  const width = Math.max(260, Math.floor(container.clientWidth || 600));
  const plotW = width - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const n = Math.max(series.length, 1);
  const band = plotW / n;
  const maxCalls = niceMax(Math.max(0, ...series.map((b) => b.calls)), 1);
  const callsTop = Number.isInteger(maxCalls) && maxCalls % 2 === 1 && maxCalls > 1 ? maxCalls + 1 : maxCalls;
  const maxGb = niceMax(Math.max(0, ...series.map((b) => b.gbSeconds)), 0.001);
  const y = (v, max) => M.top + plotH - (v / max) * plotH;
  const x = (i) => M.left + i * band;

  const svg = s('svg', {
    class: 'chart', width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img',
    'aria-label': `Calls and GB-seconds per ${usage.granularity}: ${usage.calls} calls, ${formatGbSeconds(usage.gbSeconds)} GB-s in all`,
  });

  // grid and axes
  for (const f of [0, 0.5, 1]) {
    const gy = M.top + plotH - f * plotH;
    svg.append(s('line', { class: 'grid', x1: M.left, x2: M.left + plotW, y1: gy, y2: gy }));
    const calls = f * callsTop;
    svg.append(s('text', { class: 'axis axis-left', x: M.left - 6, y: gy + 4, 'text-anchor': 'end' },
      Number.isInteger(calls) ? String(calls) : calls.toFixed(1)));
    svg.append(s('text', { class: 'axis axis-right', x: M.left + plotW + 6, y: gy + 4, 'text-anchor': 'start' },
      formatGbSeconds(f * maxGb)));
  }

  // bars, and a hover target with the numbers per bucket
  const barW = Math.max(1, Math.min(28, band * 0.72));
  series.forEach((b, i) => {
    const bx = x(i) + (band - barW) / 2;
    if (b.calls > 0) {
      const top = y(b.calls, callsTop);
      svg.append(s('rect', { class: 'bar', x: bx, y: top, width: barW, height: M.top + plotH - top, rx: Math.min(2, barW / 3) }));
      const nFailed = failed(b);
      if (nFailed > 0) {
        const ftop = y(nFailed, callsTop);
        svg.append(s('rect', { class: 'bar-error', x: bx, y: ftop, width: barW, height: M.top + plotH - ftop }));
      }
    }
    svg.append(s('rect', { class: 'hover', x: x(i), y: M.top, width: band, height: plotH },
      s('title', {}, `${new Date(b.start).toLocaleString()}\n${b.calls} calls, ${failed(b)} failed, `
        + `${b.coldStarts} cold\n${formatGbSeconds(b.gbSeconds)} GB-s`)));
  });

  // GB-seconds line
  if (series.some((b) => b.gbSeconds > 0)) {
    const pts = series.map((b, i) => `${(x(i) + band / 2).toFixed(1)},${y(b.gbSeconds, maxGb).toFixed(1)}`);
    svg.append(s('polyline', { class: 'line', points: pts.join(' ') }));
    if (series.length <= 72) {
      series.forEach((b, i) => {
        if (b.gbSeconds > 0) svg.append(s('circle', { class: 'dot', cx: x(i) + band / 2, cy: y(b.gbSeconds, maxGb), r: 2.5 }));
      });
    }
  }

  // x labels, about one per 90 px
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 90))));
  series.forEach((b, i) => {
    if (i % every !== 0) return;
    svg.append(s('text', { class: 'axis', x: x(i) + band / 2, y: HEIGHT - 10, 'text-anchor': 'middle' },
      bucketLabel(b.start, usage.granularity)));
  });
  svg.append(s('line', { class: 'baseline', x1: M.left, x2: M.left + plotW, y1: M.top + plotH, y2: M.top + plotH }));

  if (!series.some((b) => b.calls > 0)) {
    svg.append(s('text', { class: 'empty', x: M.left + plotW / 2, y: M.top + plotH / 2, 'text-anchor': 'middle' },
      'No calls in this window'));
  }
  clear(container).append(svg);
}

function failed(b) {
  return (b.errors || 0) + (b.timeouts || 0) + (b.outOfMemory || 0);
}

/** Draws the chart into the container and keeps it drawn at the container's width; returns a function to stop. */
export function usageChart(container, usage) {
  draw(container, usage);
  let last = container.clientWidth;
  const ro = new ResizeObserver(() => {
    if (Math.abs(container.clientWidth - last) >= 4) {
      last = container.clientWidth;
      draw(container, usage);
    }
  });
  ro.observe(container);
  return () => ro.disconnect();
}

/** The legend, as HTML under the chart's title. */
export function chartLegend() {
  return h('div', { class: 'legend' },
    h('span', { class: 'key key-calls' }, 'calls'),
    h('span', { class: 'key key-errors' }, 'failed'),
    h('span', { class: 'key key-gb' }, 'GB-seconds (right axis)'));
}
