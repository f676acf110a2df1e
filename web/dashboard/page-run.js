// #/run/{id}: a run's figures, its power per channel with its tasks, its
// energy so far, the live intensity, machine vs process scope, and what the
// same energy would have emitted in the cleanest regions and grid zones.

import { api, ApiError } from './api.js';
import { h, link, num, energyNum, massNum, timeEl, section, stats, stat, equivalents } from './dom.js';
import { formatDuration, formatIntensity, shortId } from './format.js';
import { jobHref } from './page-org.js';
import { methodBadges, locationText } from './page-project.js';
import { powerChart, cumulativeChart, intensityChart } from './run-charts.js';
import { tasksTable, scopeTable, basisList, comparison, hostList } from './run-sections.js';

// The run's project and organisation, as the run names them.
function whereRunIs(run) {
  if (!run.project_id) return null;
  return {
    projectId: run.project_id, projectName: run.project_name || 'Project',
    orgId: run.organization_id, orgName: run.organization_name,
  };
}

async function optional(promise) {
  try {
    return await promise;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 501)) return null;
    throw e;
  }
}

function headLinks(run, where) {
  const j = run.cluster_job;
  return h('p', { class: 'head-links' },
    where ? link(`#/project/${encodeURIComponent(where.projectId)}`, `← Project ${where.projectName}`, { 'data-testid': 'run-project' }) : null,
    j && j.job_id ? link(jobHref(j.cluster, j.job_id), `Cluster job ${j.cluster} / ${j.job_id} (node ${j.node})`,
      { 'data-testid': 'run-job', class: 'button button-quiet button-small' }) : null);
}

function figuresStats(run) {
  const f = run.figures || {};
  return stats([
    stat('Energy', energyNum('run-energy-kwh', f.energy_kwh), h('span', { class: 'split' },
      'CPU ', energyNum('run-cpu-energy-kwh', f.cpu_energy_kwh),
      ' · GPU ', energyNum('run-gpu-energy-kwh', f.gpu_energy_kwh),
      ' · RAM ', energyNum('run-ram-energy-kwh', f.ram_energy_kwh))),
    stat('Emissions', massNum('run-emissions-kg', f.emissions_kg), h('span', null, 'carbon dioxide equivalent')),
    stat('Duration', num('run-duration-s', f.duration_s, formatDuration(f.duration_s)),
      h('span', null, 'from ', timeEl(run.start_us, 'run-start', true))),
    stat('Grid intensity', num('run-intensity', run.intensity_g_per_kwh, formatIntensity(run.intensity_g_per_kwh)),
      h('span', { title: run.intensity_source || '' },
        `${run.intensity_basis || ''}${run.intensity_year ? ` ${run.intensity_year}` : ''} · ${locationText(run)}`)),
  ]);
}

function intensitySource(run) {
  if (!run.intensity_source) return null;
  return h('p', { class: 'muted small source-line' }, 'Intensity source: ', run.intensity_source,
    run.intensity_year ? ` (${run.intensity_year})` : '', '.');
}

export async function runPage(ctx) {
  const [id] = ctx.params;
  const [run, series, alt, totals] = await Promise.all([
    api.run(id), optional(api.runSeries(id)), optional(api.alternatives(id, 5)), optional(api.runTotals(id)),
  ]);
  const where = whereRunIs(run);
  const title = `Run ${shortId(run.id)}`;
  ctx.setTitle(`${title}${where ? ` · ${where.projectName}` : ''}`);
  const crumbs = [];
  if (where && where.orgId) crumbs.push({ label: where.orgName || 'Organisation', href: `#/org/${encodeURIComponent(where.orgId)}` });
  if (where) crumbs.push({ label: where.projectName, href: `#/project/${encodeURIComponent(where.projectId)}` });
  crumbs.push({ label: title });
  ctx.setCrumbs(crumbs);

  const record = run.record && typeof run.record === 'object' ? run.record : null;
  const intervals = series && Array.isArray(series.intervals) ? series.intervals : [];
  const power = powerChart(record, intervals);
  const energy = cumulativeChart(record, intervals);
  const live = intensityChart(record, run.end_us);
  const tasks = tasksTable(record);
  const scopes = scopeTable(record);
  const charts = [power, energy, live].filter(Boolean);

  const node = h('div', { class: 'page page-run', 'data-testid': 'page-run' },
    h('header', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, 'Run', run.complete === false ? h('span', { class: 'badge badge-estimated' }, 'in progress') : null),
      h('h1', { 'data-testid': 'run-title' }, title),
      h('p', { class: 'mono muted small', 'data-testid': 'run-id' }, run.id),
      h('p', { class: 'lede' }, 'Experiment ',
        h('strong', null, run.experiment_name || shortId(run.experiment_id)), ' · ',
        methodBadges(run.methods)),
      headLinks(run, where)),
    figuresStats(run),
    intensitySource(run),
    totals ? section('What that compares to', 'run-equiv', equivalents(totals.equivalents, 'run')) : null,
    section('Power', 'run-power', power.node,
      record && record.tasks && record.tasks.length ? h('p', { class: 'muted small' }, 'Shaded: the run’s tasks.') : null),
    h('div', { class: live ? 'grid-2' : '' },
      section('Energy', 'run-energy', energy.node),
      live ? section('Live intensity', 'run-live', live.node) : null),
    tasks ? section('Tasks', 'run-tasks', tasks) : null,
    scopes ? section('Machine and process scope', 'run-scopes',
      h('p', { class: 'muted' }, 'Machine: what the devices used. Process: the share of the tracked process tree.'),
      scopes, basisList(record)) : null,
    alt ? section('Had it run elsewhere', 'run-compare', comparison(alt)) : null,
    section('The machine', 'run-host', hostList(run)),
    record ? null : h('p', { class: 'muted' }, 'This run came from CodeCarbon: no per-channel record, ',
      'so the charts use its intervals.'));
  return { node, after: charts.map((c) => () => c.draw()) };
}
