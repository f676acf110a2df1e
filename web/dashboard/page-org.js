// #/org/{id}: an organisation's totals, equivalents, the CO2e budgets of
// the Slurm accounts (when there are any), emissions by week, a bar per
// project, its projects and its cluster jobs.

import { api } from './api.js';
import {
  h, link, num, energyNum, massNum, timeEl, section, table, td, tdNum, equivalents, totalsStats, spanLine,
  barTable,
} from './dom.js';
import {
  formatCount, formatHours, formatDuration, formatMass, formatEnergy, formatNumber, formatDate, CO2E,
} from './format.js';
import { timeChart, emptyChart } from './charts.js';
import { loadBudgets, budgetsSection } from './budgets.js';

const WEEK_S = 7 * 86400;

// Emissions per week as bars, in g or kg, whichever reads better.
export function weeklyChart(testid, points, what) {
  const title = `Emissions per week (${what})`;
  if (!points.length) return emptyChart(testid, title, 'No runs yet, so nothing to draw.');
  const max = Math.max(...points.map((p) => p.emissions_kg || 0));
  const inGrams = max > 0 && max < 1;
  const unit = inGrams ? `g ${CO2E}` : `kg ${CO2E}`;
  const values = points.map((p) => (p.emissions_kg ?? null) === null ? null : p.emissions_kg * (inGrams ? 1000 : 1));
  const words = points.map((p) => `week of ${formatDate(p.bucket_start_us)}: ${formatMass(p.emissions_kg)}`);
  return timeChart({
    testid,
    title,
    summary: `Bar chart of emissions per week (weeks start on Monday, UTC), ${points.length} weeks: ${words.join('; ')}.`,
    x: points.map((p) => p.bucket_start_us / 1e6),
    series: [{ label: 'CO₂e', unit, values }],
    yLabel: unit,
    kind: 'bars',
    bucketS: WEEK_S,
    xLabel: 'Week (UTC)',
    xFormat: (v) => `week of ${formatDate(v * 1e6)}`,
  });
}

function projectsTable(org, projects) {
  const rows = projects.map((p) => h('tr', { 'data-testid': 'project-row', 'data-id': p.id },
    h('th', { scope: 'row' },
      link(`#/project/${encodeURIComponent(p.id)}`, p.name, { 'data-testid': 'project-link' }),
      p.public ? h('span', { class: 'badge badge-public', title: 'readable without a token' }, 'public') : null),
    tdNum(num('project-runs', p.totals.runs, formatCount(p.totals.runs))),
    tdNum(energyNum('project-energy-kwh', p.totals.energy_kwh)),
    tdNum(massNum('project-emissions-kg', p.totals.emissions_kg)),
    tdNum(num('project-gpu-hours', p.totals.gpu_hours, formatHours(p.totals.gpu_hours))),
    td(p.totals.last_us ? timeEl(p.totals.last_us, 'project-last') : h('span', { class: 'muted' }, 'no runs'))));
  return table({
    caption: `Projects of ${org}`,
    testid: 'projects',
    columns: [
      { label: 'Project' }, { label: 'Runs', num: true }, { label: 'Energy', num: true },
      { label: 'CO₂e', num: true }, { label: 'GPU hours', num: true }, { label: 'Last run' },
    ],
    rows,
    empty: 'No projects yet.',
  });
}

export function jobHref(cluster, jobId) {
  return `#/job/${encodeURIComponent(cluster)}/${encodeURIComponent(jobId)}`;
}

function jobsTable(jobs) {
  const rows = jobs.map((j) => h('tr', { 'data-testid': 'job-row', 'data-id': `${j.cluster}/${j.job_id}` },
    h('th', { scope: 'row' }, link(jobHref(j.cluster, j.job_id), `${j.cluster} / ${j.job_id}`, { 'data-testid': 'job-link' })),
    td(j.user || '—'),
    td(j.account || '—'),
    tdNum(num('job-runs', j.totals.runs, formatCount(j.totals.runs))),
    tdNum(energyNum('job-energy-kwh', j.totals.energy_kwh)),
    tdNum(massNum('job-emissions-kg', j.totals.emissions_kg)),
    tdNum(num('job-duration-s', j.totals.duration_s, formatDuration(j.totals.duration_s))),
    td(timeEl(j.totals.last_us, 'job-last'))));
  return table({
    caption: 'Cluster jobs',
    testid: 'jobs',
    columns: [
      { label: 'Job' }, { label: 'User' }, { label: 'Account' }, { label: 'Runs', num: true },
      { label: 'Energy', num: true }, { label: 'CO₂e', num: true }, { label: 'Duration', num: true },
      { label: 'Last' },
    ],
    rows,
    empty: 'No cluster jobs: runs inside Slurm appear here, joined over their nodes.',
  });
}

export async function orgPage(ctx) {
  const [id] = ctx.params;
  const [orgs, totals, projects, series, jobs, budgets] = await Promise.all([
    api.organizations(), api.orgTotals(id), api.orgProjects(id), api.orgSeries(id, 'week'), api.orgJobs(id, 50, 0),
    loadBudgets(),
  ]);
  const org = orgs.find((o) => o.id === id) || { id, name: 'Organisation', description: '' };
  ctx.setTitle(org.name);
  ctx.setCrumbs([{ label: org.name }]);

  const weekly = weeklyChart('chart-org-weekly', series.points || [], 'all projects');
  const bars = barTable({
    caption: `Emissions (CO₂e) of each project`,
    testid: 'chart-org-projects',
    items: projects.map((p) => ({ label: p.name, value: p.totals.emissions_kg })),
    valueLabel: 'CO₂e',
    format: (v) => formatMass(v),
    unitTitle: 'kg CO₂e',
  });
  const energyBars = barTable({
    caption: 'Energy of each project',
    testid: 'chart-org-projects-energy',
    items: projects.map((p) => ({ label: p.name, value: p.totals.energy_kwh })),
    valueLabel: 'Energy',
    format: (v) => formatEnergy(v),
    unitTitle: 'kWh',
  });

  const node = h('div', { class: 'page page-org', 'data-testid': 'page-org' },
    h('header', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, 'Organisation'),
      h('h1', { 'data-testid': 'org-name' }, org.name),
      org.description ? h('p', { class: 'lede' }, org.description) : null,
      spanLine('org', totals)),
    totalsStats('org', totals),
    section('What that compares to', 'org-equiv', equivalents(totals.equivalents, 'org')),
    budgetsSection(budgets),
    h('div', { class: 'grid-2' },
      section('Over time', 'org-time', weekly.node),
      section('By project', 'org-by-project',
        h('figure', { class: 'chart chart-bars' }, h('figcaption', null, 'Emissions per project'), bars),
        h('figure', { class: 'chart chart-bars' }, h('figcaption', null, 'Energy per project'), energyBars))),
    section(`Projects (${formatNumber(projects.length)})`, 'org-projects', projectsTable(org.name, projects)),
    section('Cluster jobs', 'org-jobs', jobsTable(jobs)));
  return { node, after: [() => weekly.draw()] };
}
