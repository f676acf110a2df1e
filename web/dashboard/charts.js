// uPlot wrappers. Colours come from the CSS variables (--chart-1.., --grid,
// --axis) so light and dark schemes both read well. Each chart is a
// <figure data-testid="chart-..." data-series="N"> with a caption, a
// role="img" drawing with a summary in aria-label, and its numbers in a
// table under a <details>.

import uPlot from './uPlot.esm.js';
import { h } from './dom.js';
import { formatNumber, formatUtc } from './format.js';

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

function utcDate(ts) {
  return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
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
      ctx.fillStyle = withAlpha(color, i % 2 ? 0.10 : 0.18);
      ctx.fillRect(left, bbox.top, right - left, bbox.height);
      ctx.fillStyle = text;
      ctx.fillText(s.label, left + 4 * devicePixelRatio, bbox.top + 4 * devicePixelRatio, right - left - 6);
    });
    ctx.restore();
  };
}

// A chart over time (x in Unix seconds, UTC) or over any number.
// series: [{label, unit, values}], one y axis (the first series' unit).
// kind: 'line' | 'step' | 'bars'. Returns {node, draw}: call draw() once
// the node is in the document.
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

  function draw() {
    const colors = palette();
    const paths = kind === 'bars' ? uPlot.paths.bars({ size: [0.7, 56] })
      : kind === 'step' ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const width = Math.max(280, Math.floor(canvasBox.clientWidth || 600));
    const opts = {
      width,
      height,
      font: FONT,
      tzDate: utcDate,
      scales: { x: { time: xIsTime } },
      cursor: { focus: { prox: 24 } },
      legend: { live: true },
      axes: [axis(null, xIsTime ? null : yFormat && ((v) => formatNumber(v, 3))), axis(yLabel, yFormat, 64)],
      series: [
        { label: xLabel, value: (u, v) => (v === null ? '—' : xFormat(v)) },
        ...series.map((s, i) => {
          const c = s.color || colors[i % colors.length];
          return {
            label: `${s.label} (${s.unit})`,
            stroke: c,
            width: kind === 'bars' ? 1 : 2,
            fill: kind === 'bars' ? withAlpha(c, 0.75) : (s.fill ? withAlpha(c, 0.14) : undefined),
            paths,
            points: { show: kind !== 'bars' && x.length < 40, size: 5, fill: c },
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
