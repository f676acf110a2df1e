// #/project/{id}?sort=&order=&q=&offset=&experiment=: where the project
// runs, its totals, its last run, its experiments and its runs (sorted,
// filtered and paged by the server; the state lives in the URL).

import { api, hashOf } from './api.js';
import {
  h, link, num, energyNum, massNum, timeEl, section, table, td, tdNum, equivalents, totalsStats, spanLine, badge,
  stats, stat, methodDot, badgeKey,
} from './dom.js';
import {
  formatCount, formatDuration, formatIntensity, formatNumber, formatUtc, providerName, shortId, NOT_RECORDED,
} from './format.js';
import { weeklyChart, jobHref } from './page-org.js';

const SORTS = {
  start: { label: 'Start', order: 'desc' },
  duration: { label: 'Duration', order: 'desc' },
  host: { label: 'Host or job', order: 'asc' },
  energy: { label: 'Energy', order: 'desc' },
  emissions: { label: 'CO₂e', order: 'desc' },
};
const PAGE_SIZE = 50;

function stateOf(query) {
  const sort = SORTS[query.get('sort')] ? query.get('sort') : 'start';
  const order = query.get('order') === 'asc' || query.get('order') === 'desc' ? query.get('order') : SORTS[sort].order;
  const offset = Math.max(0, parseInt(query.get('offset') || '0', 10) || 0);
  const limit = Math.min(1000, Math.max(1, parseInt(query.get('limit') || String(PAGE_SIZE), 10) || PAGE_SIZE));
  return { sort, order, q: query.get('q') || '', offset, limit, experiment: query.get('experiment') || '' };
}

// The URL of this project with some of the table state changed.
function stateHash(id, state, change) {
  const s = { ...state, ...change };
  return hashOf(`/project/${encodeURIComponent(id)}`, {
    sort: s.sort, order: s.order, q: s.q, offset: s.offset || '', experiment: s.experiment,
    limit: s.limit === PAGE_SIZE ? '' : s.limit,
  });
}

export function runHref(id) {
  return `#/run/${encodeURIComponent(id)}`;
}

export function locationText(r) {
  if (r.cloud_provider && r.cloud_region) return `${providerName(r.cloud_provider)} ${r.cloud_region}`;
  return r.country || r.zone || NOT_RECORDED;
}

export function sourceShort(source) {
  return (source || '').split(/[,;(]/)[0].trim();
}

export function intensityCell(r, testid) {
  if (typeof r.intensity_g_per_kwh !== 'number') return num(testid, null, NOT_RECORDED);
  const year = r.intensity_year ? ` ${r.intensity_year}` : '';
  return h('span', { title: `${r.intensity_basis || 'average'} intensity; ${r.intensity_source || ''}` },
    num(testid, r.intensity_g_per_kwh, formatIntensity(r.intensity_g_per_kwh)),
    ` · ${sourceShort(r.intensity_source)}${year}`);
}

// Where a run ran and the grid intensity its emissions used.
function whereCell(r) {
  return h('span', { class: 'stack where-cell' },
    h('span', { class: 'nowrap', 'data-testid': 'run-location' }, locationText(r), r.zone ? ` (${r.zone})` : ''),
    h('span', { class: 'muted small' }, intensityCell(r, 'run-intensity')));
}

export function methodBadges(m) {
  const methods = m || {};
  return h('span', { class: 'badges' }, badge(methods.cpu, 'CPU'), badge(methods.gpu, 'GPU'), badge(methods.ram, 'RAM'));
}


function hostCell(r) {
  const j = r.cluster_job;
  if (j && j.job_id) {
    return h('span', { class: 'stack' },
      link(jobHref(j.cluster, j.job_id), `job ${j.cluster} / ${j.job_id}`, { class: 'nowrap', 'data-testid': 'run-job-link' }),
      h('span', { class: 'muted small', 'data-testid': 'run-host' }, `node ${j.node || r.host || '?'}`));
  }
  return h('span', { 'data-testid': 'run-host' }, r.host || NOT_RECORDED);
}

function sortHeader(id, state, key) {
  const active = state.sort === key;
  const next = active ? (state.order === 'asc' ? 'desc' : 'asc') : SORTS[key].order;
  const arrow = active ? (state.order === 'asc' ? '▲' : '▼') : '↕';
  const th = h('th', {
    scope: 'col',
    class: ['sortable', key === 'host' || key === 'start' ? '' : 'n'],
    'aria-sort': active ? (state.order === 'asc' ? 'ascending' : 'descending') : null,
  }, h('button', {
    type: 'button',
    class: 'sort-button',
    'data-testid': `sort-${key}`,
    'aria-label': `${SORTS[key].label}: sort ${next === 'asc' ? 'ascending' : 'descending'}`,
    onclick: () => { location.hash = stateHash(id, state, { sort: key, order: next, offset: 0 }); },
  }, SORTS[key].label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, arrow)));
  return { th };
}

// A device kind's energy with a dot saying how it was obtained.
function kindCell(kwh, method, kind) {
  return tdNum(h('span', { class: 'kind-cell' }, methodDot(method, kind),
    energyNum(`run-${kind.toLowerCase()}-energy-kwh`, kwh)));
}

function runRow(r) {
  const f = r.figures || {};
  const methods = r.methods || {};
  return h('tr', { 'data-testid': 'run-row', 'data-id': r.id },
    h('th', { scope: 'row' }, h('span', { class: 'stack' },
      link(runHref(r.id), formatUtc(r.start_us), { class: 'nowrap', 'data-testid': 'run-link', title: `Run ${r.id}` }),
      h('span', { class: 'muted small nowrap' }, h('span', { class: 'mono' }, shortId(r.id)),
        r.experiment_name ? ` · ${r.experiment_name}` : ''))),
    tdNum(num('run-duration-s', f.duration_s, formatDuration(f.duration_s))),
    td(hostCell(r)),
    kindCell(f.cpu_energy_kwh, methods.cpu, 'CPU'),
    kindCell(f.gpu_energy_kwh, methods.gpu, 'GPU'),
    kindCell(f.ram_energy_kwh, methods.ram, 'RAM'),
    tdNum(energyNum('run-energy-kwh', f.energy_kwh)),
    tdNum(massNum('run-emissions-kg', f.emissions_kg)),
    td(whereCell(r)));
}

function runsTable(id, state, page) {
  const col = (label, n) => ({ label, num: n });
  const sortable = (key) => ({ th: sortHeader(id, state, key).th });
  return table({
    caption: `Runs, sorted by ${SORTS[state.sort].label} ${state.order === 'asc' ? 'ascending' : 'descending'}`,
    testid: 'runs',
    columns: [
      sortable('start'), sortable('duration'), sortable('host'),
      col('CPU', true), col('GPU', true), col('RAM', true),
      sortable('energy'), sortable('emissions'),
      col('Location and grid intensity'),
    ],
    rows: page.runs.map(runRow),
    empty: state.q ? `No run matches “${state.q}”.` : 'No runs yet.',
  });
}

function pager(id, state, page) {
  const total = page.total ?? 0;
  const from = total ? state.offset + 1 : 0;
  const to = Math.min(total, state.offset + page.runs.length);
  const prev = Math.max(0, state.offset - state.limit);
  const next = state.offset + state.limit;
  const pages = Math.max(1, Math.ceil(total / state.limit));
  const current = Math.floor(state.offset / state.limit) + 1;
  const go = (offset) => () => { location.hash = stateHash(id, state, { offset }); };
  return h('nav', { class: 'pager', 'aria-label': 'Pages of runs' },
    h('p', { class: 'pager-text', 'aria-live': 'polite' },
      'Runs ', num('runs-from', from, formatCount(from)), '–', num('runs-to', to, formatCount(to)),
      ' of ', num('runs-total', total, formatCount(total)), ` · page ${current} of ${pages}`),
    h('div', { class: 'pager-buttons' },
      h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'pager-first', disabled: state.offset === 0, onclick: go(0) }, 'First'),
      h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'pager-prev', disabled: state.offset === 0, onclick: go(prev) }, '‹ Previous'),
      h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'pager-next', disabled: next >= total, onclick: go(next) }, 'Next ›')));
}

function filterForm(id, state) {
  const input = h('input', {
    id: 'runs-filter', type: 'search', name: 'q', value: state.q, 'data-testid': 'runs-filter',
    placeholder: 'run id, host, job, node, user, experiment',
  });
  const form = h('form', { class: 'filter', role: 'search', 'aria-label': 'Filter runs' },
    h('label', { for: 'runs-filter' }, 'Filter'),
    input,
    h('button', { type: 'submit', class: 'button', 'data-testid': 'runs-filter-apply' }, 'Apply'),
    state.q ? h('button', {
      type: 'button', class: 'button button-quiet', 'data-testid': 'runs-filter-clear',
      onclick: () => { location.hash = stateHash(id, state, { q: '', offset: 0 }); },
    }, 'Clear') : null);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = stateHash(id, state, { q: input.value.trim(), offset: 0 });
  });
  return form;
}

function csvButton(id, project, state) {
  const status = h('span', { class: 'muted small', role: 'status', 'data-testid': 'export-status' });
  const button = h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'export-csv' }, 'Export CSV');
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = 'Preparing the file…';
    try {
      const blob = await api.runsCsv(id, { sort: state.sort, order: state.order, q: state.q, experiment_id: state.experiment });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `wattprint-${project.name.replace(/[^\w.-]+/g, '_')}-runs.csv`, class: 'visually-hidden' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status.textContent = `Downloaded (${formatCount(blob.size)} bytes).`;
    } catch (e) {
      status.textContent = `The export failed: ${e.message}.`;
      status.classList.add('form-error');
    } finally {
      button.disabled = false;
    }
  });
  return h('span', { class: 'export' }, button, status);
}

function hostedText(p) {
  const where = p.hosted;
  if (!where) return 'Where it runs is not known yet (no run recorded it).';
  if (where.on_cloud) {
    const place = [where.country_name, where.zone ? `grid zone ${where.zone}` : ''].filter(Boolean).join(', ');
    return `On ${providerName(where.cloud_provider)} ${where.cloud_region || ''}${place ? ` (${place})` : ''}`;
  }
  const place = where.country_name || where.region || '';
  if (!place && !where.zone) return 'On premises; the last run recorded no location';
  return `On premises, in ${place || `grid zone ${where.zone}`}${place && where.zone ? ` (grid zone ${where.zone})` : ''}`;
}

function whereSection(p) {
  const i = p.intensity;
  const last = p.last_run;
  const cards = [
    stat('Hosted', h('span', { class: 'stat-text', 'data-testid': 'project-hosted',
      'data-value': p.hosted ? (p.hosted.on_cloud ? 'cloud' : 'premises') : '' }, hostedText(p))),
    stat('Grid intensity', i ? num('project-intensity', i.g_per_kwh, formatIntensity(i.g_per_kwh)) : num('project-intensity', null, NOT_RECORDED),
      i ? h('span', null, `${i.basis || 'average'}, ${i.zone || ''}${i.year ? `, ${i.year}` : ''} · ${i.source || ''}`)
        : h('span', null, 'the last run recorded no intensity')),
  ];
  if (last) {
    const f = last.figures || {};
    cards.push(stat('Last run', h('span', { class: 'stack' },
      energyNum('project-last-energy-kwh', f.energy_kwh), massNum('project-last-emissions-kg', f.emissions_kg)),
    h('span', null, link(runHref(last.id), `run ${shortId(last.id)}`, { 'data-testid': 'project-last-run' }), ', ',
      timeEl(last.start_us, 'project-last-start'))));
  }
  const el = stats(cards);
  el.classList.add('stats-where');
  return el;
}

function experimentsTable(id, state, experiments) {
  const rows = experiments.map((e) => {
    const active = state.experiment === e.id;
    return h('tr', { 'data-testid': 'experiment-row', 'data-id': e.id, class: active ? 'row-active' : null },
      h('th', { scope: 'row' }, e.name || shortId(e.id)),
      td(e.description || h('span', { class: 'muted' }, '—')),
      td(timeEl(e.created_us, 'experiment-created')),
      td(active
        ? link(stateHash(id, state, { experiment: '', offset: 0 }), 'Show all runs', { class: 'nowrap', 'data-testid': 'experiment-clear' })
        : link(stateHash(id, state, { experiment: e.id, offset: 0 }), 'Only its runs', { class: 'nowrap',
          'data-testid': 'experiment-filter', 'aria-label': `Only the runs of ${e.name}`,
        })));
  });
  return table({
    caption: 'Experiments', testid: 'experiments',
    columns: [{ label: 'Experiment' }, { label: 'Description' }, { label: 'Created' }, { label: 'Runs' }], rows,
  });
}

export async function projectPage(ctx) {
  const [id] = ctx.params;
  const state = stateOf(ctx.query);
  const params = {
    limit: state.limit, offset: state.offset, sort: state.sort, order: state.order, q: state.q,
    experiment_id: state.experiment,
  };
  const [project, totals, experiments, page, series] = await Promise.all([
    api.project(id), api.projectTotals(id), api.experiments(id), api.runs(id, params), api.projectSeries(id, 'week'),
  ]);
  ctx.setTitle(`${project.name} · ${project.organization_name || 'project'}`);
  ctx.setCrumbs([
    { label: project.organization_name || 'Organisation', href: `#/org/${encodeURIComponent(project.organization_id)}` },
    { label: project.name },
  ]);
  const exp = experiments.find((e) => e.id === state.experiment);
  const weekly = weeklyChart('chart-project-weekly', series.points || [], project.name);
  const node = h('div', { class: 'page page-project', 'data-testid': 'page-project' },
    h('header', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, 'Project',
        project.public ? h('span', { class: 'badge badge-public', title: 'readable without a token' }, 'public') : null),
      h('h1', { 'data-testid': 'project-name' }, project.name),
      project.description ? h('p', { class: 'lede' }, project.description) : null,
      spanLine('project', totals)),
    whereSection(project),
    section('Totals across experiments', 'project-totals', totalsStats('project', totals),
      equivalents(totals.equivalents, 'project')),
    h('div', { class: 'grid-2' },
      section('Over time', 'project-time', weekly.node),
      section(`Experiments (${formatNumber(experiments.length)})`, 'project-experiments',
        experimentsTable(id, state, experiments))),
    section('Runs', 'project-runs',
      h('div', { class: 'toolbar' }, filterForm(id, state), csvButton(id, project, state)),
      exp ? h('p', { class: 'filter-note', 'data-testid': 'experiment-active' },
        `Only the runs of experiment “${exp.name}”. `,
        link(stateHash(id, state, { experiment: '', offset: 0 }), 'Show all')) : null,
      runsTable(id, state, page),
      h('div', { class: 'table-foot' }, badgeKey(), pager(id, state, page))));
  return { node, after: [() => weekly.draw()] };
}
