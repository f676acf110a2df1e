// #/job/{cluster}/{job_id}: a cluster job joined over its nodes: the
// joined totals and a row per node.

import { api } from './api.js';
import {
  h, num, energyNum, massNum, timeEl, section, table, td, tdNum, totalsStats, spanLine, equivalents, barTable,
} from './dom.js';
import { formatCount, formatDuration, formatEnergy } from './format.js';

// A row of figures: a node's (testids node-*) or the joined totals' (nodes-*).
function figuresRow(attrs, label, prefix, f) {
  return h('tr', attrs,
    h('th', { scope: 'row' }, label),
    tdNum(num(`${prefix}-runs`, f.runs, formatCount(f.runs))),
    td(timeEl(f.first_us, `${prefix}-first`)),
    td(timeEl(f.last_us, `${prefix}-last`)),
    tdNum(energyNum(`${prefix}-cpu-energy-kwh`, f.cpu_energy_kwh)),
    tdNum(energyNum(`${prefix}-gpu-energy-kwh`, f.gpu_energy_kwh)),
    tdNum(energyNum(`${prefix}-ram-energy-kwh`, f.ram_energy_kwh)),
    tdNum(energyNum(`${prefix}-energy-kwh`, f.energy_kwh)),
    tdNum(massNum(`${prefix}-emissions-kg`, f.emissions_kg)),
    tdNum(num(`${prefix}-duration-s`, f.duration_s, formatDuration(f.duration_s))));
}

function nodeRow(n) {
  return figuresRow({ 'data-testid': 'node-row', 'data-id': n.node }, n.node, 'node', n);
}

function totalRow(t) {
  return figuresRow({ class: 'row-total', 'data-testid': 'node-total-row' }, 'All nodes', 'nodes', t);
}

export async function jobPage(ctx) {
  const [cluster, jobId] = ctx.params;
  const job = await api.job(cluster, jobId);
  const org = job.organization_id ? { id: job.organization_id, name: job.organization_name || 'Organisation' } : null;
  const title = `Job ${job.cluster} / ${job.job_id}`;
  ctx.setTitle(title);
  const crumbs = [];
  if (org) crumbs.push({ label: org.name, href: `#/org/${encodeURIComponent(org.id)}` });
  crumbs.push({ label: title });
  ctx.setCrumbs(crumbs);
  const nodes = Array.isArray(job.nodes) ? job.nodes : [];
  const rows = nodes.map(nodeRow);
  if (nodes.length > 1) rows.push(totalRow(job.totals));
  const node = h('div', { class: 'page page-job', 'data-testid': 'page-job' },
    h('header', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, 'Cluster job'),
      h('h1', { 'data-testid': 'job-title' }, `${job.cluster} / ${job.job_id}`),
      h('p', { class: 'lede' }, `User ${job.user || 'unknown'} · account ${job.account || 'none'} · `,
        num('job-nodes', nodes.length, `${formatCount(nodes.length)} node${nodes.length === 1 ? '' : 's'}`)),
      spanLine('job', job.totals)),
    totalsStats('job', job.totals, { durationLabel: 'Duration', durationNote: 'first start to last end, over its nodes' }),
    section('What that compares to', 'job-equiv', equivalents(job.totals.equivalents, 'job')),
    section('By node', 'job-by-node', h('figure', { class: 'chart chart-bars' },
      h('figcaption', null, 'Energy per node'),
      barTable({
        caption: 'Energy per node (kWh)', testid: 'chart-job-nodes', valueLabel: 'Energy',
        items: nodes.map((n) => ({ label: n.node, value: n.energy_kwh })), format: (v) => formatEnergy(v), unitTitle: 'kWh',
      }))),
    section('Nodes', 'job-nodes', table({
      caption: `Nodes of job ${job.cluster} / ${job.job_id}`,
      testid: 'nodes',
      columns: [
        { label: 'Node' }, { label: 'Runs', num: true }, { label: 'First' }, { label: 'Last' },
        { label: 'CPU', num: true }, { label: 'GPU', num: true }, { label: 'RAM', num: true },
        { label: 'Energy', num: true }, { label: 'CO₂e', num: true }, { label: 'Duration', num: true },
      ],
      rows,
    })));
  return { node };
}
