// The run page's tables: tasks, machine vs process scope, emissions by
// basis, and the region comparison ("Had this been run in ...").

import { h, num, energyNum, massNum, timeEl, table, td, tdNum, badge } from './dom.js';
import {
  formatMass, formatIntensity, formatDuration, formatNumber, providerName, usOfIso, NOT_RECORDED,
} from './format.js';

function kwhOf(e) {
  return e && typeof e.kwh === 'number' ? e.kwh : (e && typeof e.j === 'number' ? e.j / 3.6e6 : null);
}

export function tasksTable(record) {
  const tasks = record && Array.isArray(record.tasks) ? record.tasks : [];
  if (!tasks.length) return null;
  const scope = record.emissions ? record.emissions.scope : 'machine';
  const rows = tasks.map((t) => h('tr', { 'data-testid': 'task-row' },
    h('th', { scope: 'row' }, t.name),
    td(timeEl(usOfIso(t.start), 'task-start', true)),
    td(timeEl(usOfIso(t.end), 'task-end', true)),
    tdNum(num('task-duration-s', t.duration_s, formatDuration(t.duration_s))),
    tdNum(energyNum('task-energy-kwh', kwhOf(t.energy && t.energy[scope]))),
    tdNum(massNum('task-emissions-kg', t.emissions ? t.emissions.kg : null))));
  return table({
    caption: 'Tasks of the run',
    testid: 'tasks',
    columns: [{ label: 'Task' }, { label: 'Start' }, { label: 'End' }, { label: 'Duration', num: true },
      { label: `Energy (${scope})`, num: true }, { label: 'CO₂e', num: true }],
    rows,
  });
}

const KINDS = [['cpu', 'CPU'], ['dram', 'RAM'], ['gpu', 'GPU'], ['platform', 'Platform']];

// Machine scope (what the devices used) vs process scope (the tracked
// process tree's share), per device kind, with the scope that feeds the
// emissions marked.
export function scopeTable(record) {
  if (!record || !record.kinds) return null;
  const chosen = record.emissions ? record.emissions.scope : 'machine';
  const head = (scope, label) => ({
    th: h('th', { scope: 'col', class: ['n', scope === chosen ? 'chosen' : ''], title: scope === chosen ? 'feeds the emissions' : null },
      label, scope === chosen ? h('span', { class: 'visually-hidden' }, ' (feeds the emissions)') : null),
  });
  const rows = [];
  for (const [key, label] of KINDS) {
    const k = record.kinds[key];
    if (!k) continue;
    const note = key === 'platform' && k.counted === false ? ' (includes CPU; not added)' : '';
    rows.push(h('tr', { 'data-testid': `scope-row-${key}` },
      h('th', { scope: 'row' }, label, note ? h('span', { class: 'muted small' }, note) : null),
      td(badge(k.method, '')),
      tdNum(energyNum(`scope-${key}-machine-kwh`, kwhOf(k.machine))),
      tdNum(energyNum(`scope-${key}-process-kwh`, kwhOf(k.process)))));
  }
  const e = record.energy || {};
  rows.push(h('tr', { class: 'row-total', 'data-testid': 'scope-row-total' },
    h('th', { scope: 'row' }, 'Energy counted'), td(''),
    tdNum(energyNum('scope-total-machine-kwh', kwhOf(e.machine))),
    tdNum(energyNum('scope-total-process-kwh', kwhOf(e.process)))));
  const em = record.emissions || {};
  rows.push(h('tr', { class: 'row-total', 'data-testid': 'scope-row-emissions' },
    h('th', { scope: 'row' }, 'Emissions'), td(''),
    tdNum(massNum('scope-emissions-machine-kg', em.machine ? em.machine.kg : null)),
    tdNum(massNum('scope-emissions-process-kg', em.process ? em.process.kg : null))));
  const t = table({
    caption: 'Machine and process scope',
    testid: 'scopes',
    columns: [{ label: 'Device kind' }, { label: 'How measured' }, head('machine', 'Machine'), head('process', 'Process')],
    rows,
  });
  return [h('p', { class: 'scope-note', 'data-testid': 'scope-chosen', 'data-value': chosen },
    h('span', { class: 'badge badge-chosen' }, 'feeds emissions'), ` The ${chosen} scope is the one the emissions use.`), t];
}

export function basisList(record) {
  const b = record && record.emissions_by_basis;
  if (!b) return null;
  const item = (key, label) => {
    const e = b[key];
    if (!e) return h('li', null, `${label}: `, h('span', { class: 'muted' }, 'not available for this location'));
    return h('li', { 'data-testid': `basis-${key}` },
      `${label}${b.chosen === key ? ' (used)' : ''}: `,
      massNum(`basis-${key}-kg`, e.kg), ' at ',
      num(`basis-${key}-g-per-kwh`, e.g_per_kwh, formatIntensity(e.g_per_kwh)),
      h('span', { class: 'muted small block' }, e.source || ''));
  };
  return h('ul', { class: 'plain-list' }, item('average', 'Average intensity'), item('marginal', 'Marginal intensity'));
}

function massWords(kg) {
  return formatMass(Math.abs(kg), 3, false);
}

// "reducing the current emissions by 63.6 kg" or "increasing ... by".
function change(kgLess) {
  if (kgLess > 0) return ['reducing the current emissions by ', kgLess];
  if (kgLess < 0) return ['increasing the current emissions by ', kgLess];
  return ['leaving the current emissions unchanged', null];
}

function sentence(where, kg, kgLess, prefix) {
  const [words, amount] = change(kgLess);
  return h('p', { class: 'alt-sentence' },
    `Had this been run in ${where}, then the emitted carbon would have been `,
    num(`${prefix}-kg`, kg, massWords(kg)), ', ', words,
    amount === null ? null : num(`${prefix}-kg-less`, kgLess, massWords(amount)), '.');
}

function cloudItem(c) {
  return h('li', {
    class: 'alt', 'data-testid': 'alt-cloud', 'data-provider': c.provider, 'data-region': c.region,
    'data-g-per-kwh': String(c.g_per_kwh), 'data-kg': String(c.kg), 'data-kg-less': String(c.kg_less),
  },
  sentence(`${c.region} region`, c.kg, c.kg_less, 'alt-cloud'),
  h('p', { class: 'alt-meta muted small' },
    `${providerName(c.provider)} · ${c.location || c.zone} · grid zone ${c.zone} · `,
    num('alt-cloud-g-per-kwh', c.g_per_kwh, formatIntensity(c.g_per_kwh)), c.year ? ` (${c.year})` : ''));
}

function zoneItem(z) {
  return h('li', {
    class: 'alt', 'data-testid': 'alt-zone', 'data-zone': z.zone,
    'data-g-per-kwh': String(z.g_per_kwh), 'data-kg': String(z.kg), 'data-kg-less': String(z.kg_less),
  },
  sentence(`${z.name || z.zone} (grid zone ${z.zone})`, z.kg, z.kg_less, 'alt-zone'),
  h('p', { class: 'alt-meta muted small' },
    num('alt-zone-g-per-kwh', z.g_per_kwh, formatIntensity(z.g_per_kwh)), z.year ? ` (${z.year})` : ''));
}

export function comparison(alt) {
  if (!alt) return null;
  const providers = alt.provider ? providerName(alt.provider) : 'AWS, Google Cloud and Azure';
  const cloud = Array.isArray(alt.cloud) ? alt.cloud : [];
  const zones = Array.isArray(alt.zones) ? alt.zones : [];
  return h('div', { class: 'comparison', 'data-testid': 'comparison',
    'data-energy-kwh': String(alt.energy_kwh), 'data-emissions-kg': String(alt.emissions_kg) },
  h('p', null, 'This run used ', energyNum('alt-energy-kwh', alt.energy_kwh), ' and emitted ',
    massNum('alt-emissions-kg', alt.emissions_kg),
    typeof alt.g_per_kwh === 'number' ? [' at ', num('alt-g-per-kwh', alt.g_per_kwh, formatIntensity(alt.g_per_kwh))] : '',
    `. The same energy elsewhere (figures: ${alt.package || 'the grid database'}):`),
  h('div', { class: 'grid-2' },
    h('div', null,
      h('h3', null, alt.provider ? `Cleanest ${providers} regions` : `Cleanest cloud regions (${providers})`),
      cloud.length ? h('ol', { class: 'alts', 'data-testid': 'alt-cloud-list' }, cloud.map(cloudItem))
        : h('p', { class: 'muted' }, 'No cloud region to compare with.')),
    h('div', null,
      h('h3', null, 'Cleanest grid zones'),
      zones.length ? h('ol', { class: 'alts', 'data-testid': 'alt-zone-list' }, zones.map(zoneItem))
        : h('p', { class: 'muted' }, 'No grid zone to compare with.'))));
}

// The machine the run was on.
export function hostList(run) {
  const rec = run.record && run.record.metadata ? run.record.metadata : {};
  // gpu_model is CodeCarbon's "2 x NVIDIA H100 ..." when it counts them already.
  const gpu = !run.gpu_count ? 'none'
    : /^\d+\s*x\s/.test(run.gpu_model || '') ? run.gpu_model.replace(/^(\d+)\s*x\s/, '$1 × ')
      : `${run.gpu_count} × ${run.gpu_model || 'GPU'}`;
  const rows = [
    ['Host', run.host || NOT_RECORDED],
    ['CPU', `${run.cpu_model || NOT_RECORDED}${rec.cpu_count ? ` (${rec.cpu_count} CPUs)` : ''}`],
    ['GPUs', gpu],
    ['Where', run.cloud_provider ? `${providerName(run.cloud_provider)} ${run.cloud_region || ''}`
      : `on premises${run.country ? `, ${run.country}` : ''}`],
    ['Grid zone', run.zone || NOT_RECORDED],
    ['Recorded by', `${run.source || 'wattprint'}${rec.wattprint_version ? ` ${rec.wattprint_version}` : ''}`],
    ['Intervals', formatNumber(run.intervals)],
  ];
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
}
