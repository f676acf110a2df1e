// #/job/{cluster}/{job_id}: a cluster job joined over its nodes: the
// joined totals and a row per node.

import { api } from './api.js';
import {
  h, num, energyNum, massNum, timeEl, section, table, td, tdNum, totalsStats, spanLine, equivalents, barTable,
} from './dom.js';
import { formatCount, formatDuration, formatEnergy } from './format.js';

function nodeRow(n) {
  return h('tr', { 'data-testid': 'node-row', 'data-id': n.node },
    h('th', { scope: 'row' }, n.node),
    tdNum(num('node-runs', n.runs, formatCount(n.runs))),
    td(timeEl(n.first_us, 'node-first')),
    td(timeEl(n.last_us, 'node-last')),
    tdNum(energyNum('node-cpu-energy-kwh', n.cpu_energy_kwh)),
    tdNum(energyNum('node-gpu-energy-kwh', n.gpu_energy_kwh)),
    tdNum(energyNum('node-ram-energy-kwh', n.ram_energy_kwh)),
    tdNum(energyNum('node-energy-kwh', n.energy_kwh)),
    tdNum(massNum('node-emissions-kg', n.emissions_kg)),
    tdNum(num('node-duration-s', n.duration_s, formatDuration(n.duration_s))));
}

function totalRow(t) {
  return h('tr', { class: 'row-total', 'data-testid': 'node-total-row' },
    h('th', { scope: 'row' }, 'All nodes'),
    tdNum(num('nodes-runs', t.runs, formatCount(t.runs))),
    td(timeEl(t.first_us, 'nodes-first')),
    td(timeEl(t.last_us, 'nodes-last')),
    tdNum(energyNum('nodes-cpu-energy-kwh', t.cpu_energy_kwh)),
    tdNum(energyNum('nodes-gpu-energy-kwh', t.gpu_energy_kwh)),
    tdNum(energyNum('nodes-ram-energy-kwh', t.ram_energy_kwh)),
    tdNum(energyNum('nodes-energy-kwh', t.energy_kwh)),
    tdNum(massNum('nodes-emissions-kg', t.emissions_kg)),
    tdNum(num('nodes-duration-s', t.duration_s, formatDuration(t.duration_s))));
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
