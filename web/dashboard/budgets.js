// The organisation page's budgets panel: the yearly CO2e budget of each
// Slurm account (GET /api/v1/budgets), spent against budget as a bar with
// a line at the share of the year gone, the projection at the current
// rate, and the state in words. Hidden when there are no budgets, or when
// the token may not read them.

import { api, ApiError } from './api.js';
import { h, num, massNum, section, table, td, tdNum } from './dom.js';
import { formatMass, formatPercent, formatCount, CO2E } from './format.js';

// The collector's states, in words, each with a glyph so that the state
// never rests on colour alone.
const STATES = {
  ok: { word: 'Within budget', glyph: '✓', cls: 'budget-ok' },
  warn80: { word: 'Warning: past 80 %', glyph: '!', cls: 'budget-warn' },
  warn95: { word: 'Warning: past 95 %', glyph: '!', cls: 'budget-warn' },
  over: { word: 'Over budget', glyph: '✕', cls: 'budget-over' },
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

export function stateOf(state) {
  return STATES[state] || { word: String(state || 'unknown'), glyph: '?', cls: 'budget-warn' };
}

// The budgets of the current year, or null when the panel should not be
// shown (no budgets, or a token that may not read them). Any other
// failure is kept to be said in the panel, so that the rest of the page
// still draws.
export async function loadBudgets() {
  try {
    const data = await api.budgets();
    if (!data || !Array.isArray(data.budgets) || !data.budgets.length) return null;
    return data;
  } catch (e) {
    if (e instanceof ApiError && [401, 403, 404].includes(e.status)) return null;
    return { error: e };
  }
}

function yearLabel(data) {
  const m = Number(data.start_month) || 1;
  if (m === 1) return String(data.year);
  return `the year from 1 ${MONTHS[m - 1]} ${data.year}`;
}

function clamp01(v) {
  return Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
}

// Spent of budget as a bar, with a line at the share of the year gone: a
// bar that reaches past the line spends faster than the year goes.
function paceBar(b) {
  const used = clamp01(b.used);
  const gone = clamp01(b.year_gone);
  const fill = h('span', { class: 'budget-fill' });
  fill.style.width = `${(used * 100).toFixed(2)}%`; // CSSOM, allowed by the CSP
  const mark = h('span', { class: 'budget-mark' });
  mark.style.left = `${(gone * 100).toFixed(2)}%`;
  const pace = b.used > b.year_gone ? 'ahead of the year’s pace' : 'within the year’s pace';
  return h('span', {
    class: 'budget-track',
    role: 'img',
    'data-testid': 'budget-bar',
    'aria-label': `${formatPercent(b.used)} of the budget spent, ${formatPercent(b.year_gone)} of the year gone: ${pace}`,
  }, fill, mark);
}

function stateBadge(b) {
  const s = stateOf(b.state);
  return h('span', {
    class: ['budget-state', s.cls],
    'data-testid': 'budget-state',
    'data-state': b.state,
    title: b.message || null,
  }, h('span', { class: 'budget-glyph', 'aria-hidden': 'true' }, s.glyph), s.word);
}

function row(b) {
  const s = stateOf(b.state);
  const over = b.spent_kg > b.budget_kg;
  const left = over
    ? ['over by ', num('budget-over-kg', b.spent_kg - b.budget_kg, formatMass(b.spent_kg - b.budget_kg))]
    : [num('budget-remaining-kg', b.remaining_kg, formatMass(b.remaining_kg)), ' left'];
  const ofBudget = b.budget_kg > 0 ? b.projected_kg / b.budget_kg : null;
  return h('tr', { class: ['budget-row', s.cls], 'data-testid': 'budget-row', 'data-id': b.account, 'data-state': b.state },
    h('th', { scope: 'row' },
      h('span', { class: 'block budget-account', 'data-testid': 'budget-account' }, b.account),
      h('span', { class: 'muted small block' }, num('budget-runs', b.runs, formatCount(b.runs)), b.runs === 1 ? ' run' : ' runs')),
    tdNum(h('span', { class: 'stack' },
      h('span', { 'data-testid': 'budget-spent' },
        num('budget-spent-kg', b.spent_kg, formatMass(b.spent_kg, 3, false), { title: `${b.spent_kg} kg ${CO2E}` }),
        ' of ',
        num('budget-kg', b.budget_kg, formatMass(b.budget_kg), { title: `${b.budget_kg} kg ${CO2E}` })),
      h('span', { class: 'muted small' }, num('budget-used', b.used, formatPercent(b.used, 2)), ' used · ', left))),
    td(paceBar(b), { class: 'budget-bar-cell' }),
    tdNum(h('span', { class: 'stack' },
      h('span', null, h('span', { class: 'budget-cell-label' }, 'Projected for the year: '),
        massNum('budget-projected-kg', b.projected_kg)),
      ofBudget === null ? null
        : h('span', { class: 'muted small' }, num('budget-projected-share', ofBudget, formatPercent(ofBudget, 2)), ' of the budget'))),
    td(stateBadge(b)));
}

// The key to the bars; the table says the same in words.
function key() {
  const sample = (cls, fill, mark) => {
    const f = h('span', { class: 'budget-fill' });
    f.style.width = `${fill}%`;
    const m = mark ? h('span', { class: 'budget-mark' }) : null;
    if (m) m.style.left = '50%';
    return h('span', { class: cls }, h('span', { class: 'budget-track' }, f, m));
  };
  const item = (cls, fill, mark, text) => h('span', { class: 'budget-key-item' }, sample(cls, fill, mark), text);
  return h('p', { class: 'budget-key muted small', 'aria-hidden': 'true' },
    item('budget-ok', 35, false, 'within budget'), item('budget-warn', 85, false, 'past 80 %'),
    item('budget-over', 100, false, 'over budget'), item('budget-ok', 0, true, 'share of the year gone'));
}

// The panel, or null when there is nothing to show.
export function budgetsSection(data) {
  if (!data) return null;
  if (data.error) {
    const e = data.error;
    const node = section('CO₂e budgets', 'org-budgets',
      h('p', { class: 'muted', role: 'status', 'data-testid': 'budgets-error' },
        `The budgets could not be read: ${e.message}${e.status ? ` (HTTP ${e.status})` : ''}.`));
    node.setAttribute('data-testid', 'org-budgets');
    return node;
  }
  const label = yearLabel(data);
  const gone = data.budgets.length ? data.budgets[0].year_gone : null;
  const t = table({
    caption: `CO₂e budgets of the Slurm accounts, ${label}`,
    testid: 'budgets',
    columns: [
      { label: 'Account' }, { label: 'Spent of budget', num: true }, { label: 'Against the year' },
      { label: 'Projected for the year', num: true }, { label: 'State' },
    ],
    rows: data.budgets.map(row),
  });
  const node = section(`CO₂e budgets, ${label}`, 'org-budgets',
    h('p', { class: 'muted budget-intro' },
      'Each Slurm account’s yearly budget on this collector. The bar is what it spent of its budget; ',
      'the line across it is the share of the year gone (',
      num('budgets-year-gone', gone, formatPercent(gone, 2)),
      '), so a bar past its line is spending faster than the year goes. The projection is the year’s total at the ',
      'rate so far.'),
    t,
    key());
  node.setAttribute('data-testid', 'org-budgets');
  return node;
}
