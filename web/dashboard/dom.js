// DOM helpers: elements are built with createElement and textContent only
// (no innerHTML, no style attributes: the page runs under a strict CSP).

import {
  NOT_RECORDED, formatUtc, formatLocal, isoOf, methodBadge, formatEquivalent, energyParts, massParts, CO2E,
  formatCount, formatHours, formatDuration, formatWater,
} from './format.js';

// h('a', {href: '#/', class: 'x', 'data-testid': 't'}, 'text', child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A raw API value kept for the test beside its display text.
export function rawValue(v) {
  if (v === undefined || v === null) return '';
  return String(v);
}

// A number on the page: its testid, its raw value and its text.
export function num(testid, value, text, extra = {}) {
  return h('span', {
    class: ['num', value === null || value === undefined ? 'num-missing' : ''],
    'data-testid': testid,
    'data-value': rawValue(value),
    ...extra,
  }, text);
}

// A number with its unit in an <abbr> naming it: "4.82 <abbr>kWh</abbr>".
function unitNum(testid, value, parts, suffix, exactTitle) {
  if (!parts.unit) return num(testid, value, NOT_RECORDED, { title: 'not recorded' });
  return num(testid, value, [
    parts.text, ' ',
    h('abbr', { title: parts.name }, parts.unit),
    suffix ? ` ${suffix}` : '',
  ], { title: exactTitle });
}

export function energyNum(testid, kwh) {
  return unitNum(testid, kwh, energyParts(kwh), '', `${kwh} kWh`);
}

export function massNum(testid, kg) {
  return unitNum(testid, kg, massParts(kg), CO2E, `${kg} kg ${CO2E}`);
}

export function timeEl(us, testid, withSeconds = false) {
  const iso = isoOf(us);
  if (!iso) return num(testid, us, NOT_RECORDED);
  return h('time', {
    datetime: iso,
    title: `Your time: ${formatLocal(us)}`,
    'data-testid': testid,
    'data-value': rawValue(us),
  }, formatUtc(us, withSeconds));
}

export function badge(method, kind) {
  const b = methodBadge(method);
  return h('span', {
    class: ['badge', b.cls],
    title: kind ? `${kind}: ${b.title}` : b.title,
    'data-testid': `badge-${(kind || 'method').toLowerCase()}`,
    'data-value': method || '',
  }, kind ? `${kind} ${b.text}` : b.text);
}

// Only the dot, for a cell that already names its kind (a table column).
export function methodDot(method, kind) {
  const b = methodBadge(method);
  return h('span', {
    class: ['method-dot', b.cls],
    title: `${kind}: ${b.title}`,
    'data-testid': `badge-${kind.toLowerCase()}`,
    'data-value': method || '',
  }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'visually-hidden' }, `${b.text}: `));
}

// The key to compact badges.
export function badgeKey() {
  const item = (cls, text) => h('span', { class: ['badge-key-item', cls] }, h('span', { class: 'dot', 'aria-hidden': 'true' }), text);
  return h('p', { class: 'badge-key muted small', 'aria-hidden': 'true' },
    item('badge-measured', 'measured'), item('badge-estimated', 'estimated'), item('badge-none', 'no device, or not recorded'));
}

export function link(href, text, props = {}) {
  return h('a', { href, ...props }, text);
}

// A totals card: label, big value, optional note below.
export function stat(label, valueNode, note) {
  return h('div', { class: 'stat' },
    h('dt', { class: 'stat-label' }, label),
    h('dd', { class: 'stat-value' }, valueNode),
    note ? h('dd', { class: 'stat-note' }, note) : null);
}

export function stats(...cards) {
  return h('dl', { class: 'stats' }, cards);
}

export function section(title, id, ...children) {
  const hid = `${id}-title`;
  return h('section', { class: 'panel', 'aria-labelledby': hid, id },
    h('h2', { id: hid }, title), children);
}

// A real table: columns [{label, key?, num?}], rows of <tr>; wrapped so it
// scrolls sideways on a narrow screen. The wrapper is focusable so a
// keyboard can scroll it.
export function table({ caption, columns, rows, testid, empty = 'Nothing to show yet.' }) {
  const head = h('thead', null, h('tr', null, columns.map((c) => c.th || h('th', {
    scope: 'col', class: c.num ? 'n' : null,
  }, c.label))));
  const body = h('tbody', null, rows.length ? rows : h('tr', null,
    h('td', { colspan: columns.length, class: 'empty' }, empty)));
  const t = h('table', { 'data-testid': testid },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null, head, body);
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption || 'table' }, t);
}

export function td(child, props = {}) {
  return h('td', props, child);
}

export function tdNum(child, props = {}) {
  return h('td', { class: 'n', ...props }, child);
}

let tipCount = 0;

// Everyday equivalents, each with its source on hover and keyboard focus.
export function equivalents(list, prefix) {
  if (!Array.isArray(list) || !list.length) return h('p', { class: 'muted' }, 'No equivalents yet.');
  return h('ul', { class: 'equivalents', 'data-testid': `${prefix}-equivalents` }, list.map((e) => {
    const id = `tip-${++tipCount}`;
    return h('li', { class: 'equiv' },
      h('span', {
        class: 'equiv-text',
        tabindex: 0,
        title: `Source: ${e.source}`,
        'aria-describedby': id,
        'data-testid': `${prefix}-equiv-${e.key}`,
        'data-value': rawValue(e.amount),
      }, formatEquivalent(e)),
      h('span', { class: 'tip', role: 'tooltip', id }, `Source: ${e.source}`));
  }));
}

// A message in place of a page: what went wrong, in words, and what to do.
export function messagePanel({ title, text, detail, kind = 'error', testid = 'message', actions = [] }) {
  return h('div', { class: ['message', `message-${kind}`], role: kind === 'error' ? 'alert' : 'status', 'data-testid': testid },
    h('h2', null, title),
    h('p', null, text),
    detail ? h('p', { class: 'muted small' }, detail) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

// Horizontal HTML bars (accessible: a real table with the numbers).
export function barTable({ caption, testid, items, valueLabel, format, unitTitle }) {
  const max = Math.max(0, ...items.map((i) => i.value || 0));
  const rows = items.map((i) => {
    const bar = h('span', { class: 'bar-fill' });
    const share = max > 0 ? (i.value || 0) / max : 0;
    bar.style.width = `${(share * 100).toFixed(2)}%`; // CSSOM, allowed by the CSP
    return h('tr', { 'data-testid': `${testid}-row` },
      h('th', { scope: 'row' }, i.label),
      h('td', { class: 'bar-cell' }, h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar)),
      h('td', { class: 'n' }, num(`${testid}-value`, i.value, format(i.value), { title: unitTitle })));
  });
  const t = h('table', { class: 'bars', 'data-testid': testid, 'data-series': '1' },
    h('caption', null, caption),
    h('thead', { class: 'visually-hidden' }, h('tr', null,
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Bar'), h('th', { scope: 'col' }, valueLabel))),
    h('tbody', null, rows));
  return h('div', { class: 'table-wrap bars-wrap' }, t);
}

// The cards of a totals object (T): energy with its split by kind,
// emissions, runs, GPU hours, compute time.
export function totalsStats(prefix, t, { durationLabel = 'Compute time', durationNote = 'summed over runs' } = {}) {
  const split = h('span', { class: 'split' },
    'CPU ', energyNum(`${prefix}-cpu-energy-kwh`, t.cpu_energy_kwh),
    ' · GPU ', energyNum(`${prefix}-gpu-energy-kwh`, t.gpu_energy_kwh),
    ' · RAM ', energyNum(`${prefix}-ram-energy-kwh`, t.ram_energy_kwh));
  const cards = [
    stat('Energy', energyNum(`${prefix}-energy-kwh`, t.energy_kwh), split),
    stat('Emissions', massNum(`${prefix}-emissions-kg`, t.emissions_kg),
      h('span', null, 'carbon dioxide equivalent')),
    stat('Runs', num(`${prefix}-runs`, t.runs, formatCount(t.runs)),
      h('span', null, num(`${prefix}-intervals`, t.intervals, formatCount(t.intervals)), ' intervals')),
    stat('GPU hours', num(`${prefix}-gpu-hours`, t.gpu_hours, formatHours(t.gpu_hours)),
      h('span', null, 'GPUs × hours')),
    stat(durationLabel, num(`${prefix}-duration-s`, t.duration_s, formatDuration(t.duration_s)),
      h('span', null, durationNote)),
  ];
  if (typeof t.water_l === 'number' && t.water_l > 0) {
    cards.push(stat('Water', num(`${prefix}-water-l`, t.water_l, formatWater(t.water_l))));
  }
  return stats(cards);
}

// First and last run of a totals object, as text with <time>s.
export function spanLine(prefix, t) {
  if (!t || !t.first_us) return h('p', { class: 'muted' }, 'No runs yet.');
  return h('p', { class: 'muted span-line' }, 'Runs from ', timeEl(t.first_us, `${prefix}-first`),
    ' to ', timeEl(t.last_us, `${prefix}-last`), '.');
}
