// uPlot wrappers. Colours come from the CSS variables (--chart-1.., --grid,
// --axis) so light and dark schemes both read well. Each chart is a
// <figure data-testid="chart-..." data-series="N"> with a caption, a
// role="img" drawing with a summary in aria-label, and its numbers in a
// table under a <details>.

import { h } from './dom.js';
import { formatNumber, formatUtc } from './format.js';

// uPlot is the largest file of the page: it is loaded beside the page's
// API requests (index.html preloads it), not before them, and only the
// drawing of a chart waits for it.
let uPlotModule = null;

export function loadUPlot() {
  if (!uPlotModule) uPlotModule = import('./uPlot.esm.js').then((m) => m.default);
  return uPlotModule;
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const MAX_TABLE_ROWS = 400;

export function cssVar(name, fallback = '') {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function palette() {
  const out = [];
  for (let i = 1; i <= 8; i++) out.push(cssVar(`--chart-${i}`, '#3366cc'));
  return out;
}

// A colour with an alpha, for fills: accepts #rrggbb.
export function withAlpha(hex, alpha) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}


const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayText(d) {
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

// Tick labels of a UTC time axis: days over a long span, else 24-hour
// times with the day under the first tick of each day.
function timeTicks(u, splits) {
  const range = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
  let lastDay = '';
  return splits.map((ts) => {
    const d = new Date(ts * 1000);
    const day = dayText(d);
    if (range > 3 * 86400) return day;
    const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const first = day !== lastDay;
    lastDay = day;
    return first ? `${hm}\n${day}` : hm;
  });
}

function axis(label, format, size) {
  const stroke = cssVar('--axis', '#555');
  const grid = cssVar('--grid', '#ddd');
  const a = {
    stroke,
    font: FONT,
    labelFont: FONT,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
  };
  if (label) a.label = label;
  if (format) a.values = (u, splits) => splits.map((v) => format(v));
  if (size) a.size = size;
  return a;
}

function dataTable(caption, xLabel, xFormat, x, series) {
  const rows = [];
  const step = Math.max(1, Math.ceil(x.length / MAX_TABLE_ROWS));
  for (let i = 0; i < x.length; i += step) {
    rows.push(h('tr', null,
      h('th', { scope: 'row' }, xFormat(x[i])),
      series.map((s) => h('td', { class: 'n' }, s.values[i] === null || s.values[i] === undefined
        ? '—' : formatNumber(s.values[i], 4)))));
  }
  return h('details', { class: 'chart-data' },
    h('summary', null, 'Show the numbers'),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `${caption}: numbers` },
      h('table', null,
        h('caption', { class: 'visually-hidden' }, caption),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, xLabel),
          series.map((s) => h('th', { scope: 'col', class: 'n' }, `${s.label} (${s.unit})`)))),
        h('tbody', null, rows))),
    step > 1 ? h('p', { class: 'muted small' }, `Every ${step}th point of ${x.length}.`) : null);
}

// Keeps a chart as wide as its figure.
function fitWidth(u, el, height) {
  let last = 0;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(el.clientWidth);
    if (w > 0 && Math.abs(w - last) > 1) {
      last = w;
      u.setSize({ width: w, height });
    }
  });
  ro.observe(el);
  return ro;
}

// Tasks as shaded spans behind the series, with their names on top.
function spansHook(spans, color, text) {
  return (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    spans.forEach((s, i) => {
      const x0 = u.valToPos(s.from, 'x', true);
      const x1 = u.valToPos(s.to, 'x', true);
      const left = Math.max(bbox.left, Math.min(x0, x1));
      const right = Math.min(bbox.left + bbox.width, Math.max(x0, x1));
      if (right <= left) return;
      ctx.fillStyle = withAlpha(color, i % 2 ? 0.05 : 0.11);
      ctx.fillRect(left, bbox.top, right - left, bbox.height);
      const pad = 4 * devicePixelRatio;
      if (ctx.measureText(s.label).width + 2 * pad <= right - left) {
        ctx.fillStyle = text;
        ctx.fillText(s.label, left + pad, bbox.top + pad);
      }
    });
    ctx.restore();
  };
}

// The x axis: UTC times; for bars, a tick under each bar (thinned to
// what fits) labelled with its day.
function xAxis(x, xIsTime, kind) {
  const a = axis(null, null, 0);
  delete a.size;
  if (!xIsTime) return { ...a, values: (u, splits) => splits.map((v) => formatNumber(v, 3)) };
  a.values = timeTicks;
  if (kind === 'bars') {
    // As many labels as fit, about 64 px each.
    a.splits = (u) => {
      const fit = Math.max(2, Math.floor(u.bbox.width / devicePixelRatio / 64));
      const step = Math.max(1, Math.ceil(x.length / fit));
      return x.filter((_, i) => i % step === 0);
    };
    a.values = (u, splits) => splits.map((ts) => dayText(new Date(ts * 1000)));
    a.grid = { show: false };
  }
  return a;
}

// A chart over time (x in Unix seconds, UTC) or over any number.
// series: [{label, unit, values}], one y axis (the first series' unit).
// kind: 'line' | 'step' | 'bars'. Returns {node, draw}: call draw() once
// the node is in the document; it resolves when the chart is drawn.
export function timeChart({
  testid, title, summary, x, series, yLabel, yFormat = (v) => formatNumber(v, 3),
  kind = 'line', spans = [], height = 260, xIsTime = true, xLabel = 'Time (UTC)',
  xFormat = (v) => formatUtc(v * 1e6, true), bucketS = 0,
}) {
  const canvasBox = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': summary });
  const node = h('figure', { class: 'chart', 'data-testid': testid, 'data-series': String(series.length) },
    h('figcaption', null, title),
    canvasBox,
    dataTable(title, xLabel, xFormat, x, series));

  async function draw() {
    const uPlot = await loadUPlot();
    if (!canvasBox.isConnected) return null; // the page was left meanwhile
    const colors = palette();
    const paths = kind === 'bars' ? uPlot.paths.bars({ size: [0.7, 56] })
      : kind === 'step' ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const width = Math.max(280, Math.floor(canvasBox.clientWidth || 600));
    const opts = {
      width,
      height,
      font: FONT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      scales: { x: { time: xIsTime } },
      cursor: { focus: { prox: 24 } },
      legend: { show: series.length > 1, live: false },
      axes: [xAxis(x, xIsTime, kind), axis(yLabel, yFormat, 64)],
      series: [
        { label: xLabel, value: (u, v) => (v === null ? '—' : xFormat(v)) },
        ...series.map((s, i) => {
          const c = s.color || colors[i % colors.length];
          return {
            label: s.label,
            stroke: c,
            width: kind === 'bars' ? 1 : 2,
            fill: kind === 'bars' ? withAlpha(c, 0.75) : (s.fill ? withAlpha(c, 0.14) : undefined),
            paths,
            points: { show: kind === 'line' && x.length < 40, size: 5, fill: c },
            spanGaps: false,
            value: (u, v) => (v === null || v === undefined ? '—' : `${formatNumber(v, 4)} ${s.unit}`),
          };
        }),
      ],
      hooks: {},
    };
    if (bucketS > 0 || x.length === 1) {
      const pad = bucketS > 0 ? bucketS / 2 : 3600;
      opts.scales.x.range = (u, min, max) => [min - pad, max + pad];
    }
    if (kind === 'bars') {
      opts.scales.y = { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] };
    }
    if (spans.length) {
      opts.hooks.drawAxes = [spansHook(spans, cssVar('--span', '#888888'), cssVar('--muted', '#555'))];
    }
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)], canvasBox);
    fitWidth(u, canvasBox, height);
    return u;
  }
  return { node, draw };
}

// A chart with nothing to draw: a figure that says so (still a figure, with
// data-series 0, so a page is never silently missing one).
export function emptyChart(testid, title, text) {
  return {
    node: h('figure', { class: 'chart chart-empty', 'data-testid': testid, 'data-series': '0' },
      h('figcaption', null, title),
      h('p', { class: 'muted' }, text)),
    draw() {},
  };
}
