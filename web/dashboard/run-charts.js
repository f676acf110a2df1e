// The run page's charts: power per channel (tasks as spans), cumulative
// energy, and the grid intensity over time when it was live. From the run's
// wattprint record, or from its intervals for a CodeCarbon run.

import { timeChart, emptyChart } from './charts.js';
import { formatPower, formatEnergy, formatIntensity, energyScale, formatNumber, usOfIso } from './format.js';

const J_PER_KWH = 3.6e6;

function startS(record) {
  return usOfIso(record.metadata.start) / 1e6;
}

// Tasks as spans on the time axis (Unix seconds).
export function taskSpans(record) {
  if (!record || !Array.isArray(record.tasks)) return [];
  return record.tasks
    .map((t) => ({ label: t.name, from: usOfIso(t.start) / 1e6, to: usOfIso(t.end) / 1e6 }))
    .filter((s) => Number.isFinite(s.from) && Number.isFinite(s.to));
}

function kindLabel(kind) {
  return { cpu: 'CPU', dram: 'RAM', gpu: 'GPU', platform: 'Platform' }[kind] || kind;
}

function shortLabel(c) {
  const label = c.label || c.id;
  const text = label.length > 42 ? `${label.slice(0, 40)}…` : label;
  return `${kindLabel(c.kind)}: ${text}`;
}

// Power per channel from the record's samples: a step per sample.
function powerFromRecord(record) {
  const t0 = startS(record);
  const samples = record.samples || [];
  const channels = record.channels || [];
  if (!samples.length || !channels.length) return null;
  const x = samples.map((s) => t0 + s.t_start_s);
  x.push(t0 + samples[samples.length - 1].t_end_s);
  const series = channels.map((c, i) => {
    const values = samples.map((s) => {
      const j = s.machine_j ? s.machine_j[i] : null;
      const dt = s.t_end_s - s.t_start_s;
      return j === null || j === undefined || !(dt > 0) ? null : j / dt;
    });
    values.push(values[values.length - 1]);
    return { label: shortLabel(c), unit: 'W', values };
  });
  return { x, series };
}

// Power per kind from a CodeCarbon run's intervals.
function powerFromIntervals(intervals) {
  if (!intervals.length) return null;
  const x = intervals.map((iv) => iv.start_us / 1e6);
  x.push(intervals[intervals.length - 1].end_us / 1e6);
  const kinds = [['cpu_power_w', 'CPU'], ['gpu_power_w', 'GPU'], ['ram_power_w', 'RAM']];
  const series = kinds.map(([key, label]) => {
    const values = intervals.map((iv) => (typeof iv[key] === 'number' ? iv[key] : null));
    values.push(values[values.length - 1]);
    return { label, unit: 'W', values };
  });
  return { x, series };
}

function meanOf(values) {
  const v = values.filter((n) => typeof n === 'number');
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export function powerChart(record, intervals) {
  const data = record ? powerFromRecord(record) : powerFromIntervals(intervals);
  const title = record ? 'Power per channel (W)' : 'Power per device kind (W)';
  if (!data) return emptyChart('chart-run-power', title, 'This run has no samples to draw.');
  const spans = taskSpans(record);
  const words = data.series.map((s) => `${s.label} mean ${formatPower(meanOf(s.values.slice(0, -1)))}`);
  return timeChart({
    testid: 'chart-run-power',
    title,
    summary: `Line chart of power over time, ${data.series.length} series, ${data.x.length - 1} samples: ${words.join('; ')}.`
      + (spans.length ? ` Tasks: ${spans.map((s) => s.label).join(', ')}.` : ''),
    x: data.x,
    series: data.series,
    yLabel: 'W',
    yFormat: (v) => formatNumber(v, 3),
    kind: 'step',
    spans,
    height: 300,
  });
}

// Counted energy so far, both scopes when the record has both.
function cumulativeFromRecord(record) {
  const t0 = startS(record);
  const samples = record.samples || [];
  const channels = record.channels || [];
  if (!samples.length) return null;
  const kinds = record.kinds || {};
  const platformAsCpu = record.energy && record.energy.platform_as_cpu;
  const counted = channels.map((c) => {
    if (c.kind === 'platform') return Boolean(platformAsCpu);
    const k = kinds[c.kind];
    return k ? k.counted !== false : true;
  });
  const x = [t0 + samples[0].t_start_s];
  const machine = [0];
  const proc = [0];
  let m = 0;
  let p = 0;
  let processKnown = Boolean(record.energy && record.energy.process);
  for (const s of samples) {
    counted.forEach((yes, i) => {
      if (!yes) return;
      m += (s.machine_j && s.machine_j[i]) || 0;
      const pj = s.process_j ? s.process_j[i] : null;
      if (pj === null || pj === undefined) processKnown = false;
      else p += pj;
    });
    x.push(t0 + s.t_end_s);
    machine.push(m / J_PER_KWH);
    proc.push(p / J_PER_KWH);
  }
  const series = [{ label: 'Machine', values: machine }];
  if (processKnown) series.push({ label: 'Process', values: proc });
  return { x, series };
}

function cumulativeFromIntervals(intervals) {
  if (!intervals.length) return null;
  const x = [intervals[0].start_us / 1e6];
  const values = [0];
  let sum = 0;
  for (const iv of intervals) {
    sum += iv.energy_kwh || 0;
    x.push(iv.end_us / 1e6);
    values.push(sum);
  }
  return { x, series: [{ label: 'Energy', values }] };
}

export function cumulativeChart(record, intervals) {
  const data = record ? cumulativeFromRecord(record) : cumulativeFromIntervals(intervals);
  const title = 'Energy so far';
  if (!data) return emptyChart('chart-run-energy', title, 'This run has no samples to draw.');
  const max = Math.max(...data.series.map((s) => s.values[s.values.length - 1] || 0));
  const scale = energyScale(max);
  const series = data.series.map((s, i) => ({
    label: s.label, unit: scale.unit, fill: i === 0, values: s.values.map((v) => v * scale.factor),
  }));
  const words = data.series.map((s) => `${s.label} ${formatEnergy(s.values[s.values.length - 1])}`);
  return timeChart({
    testid: 'chart-run-energy',
    title: `${title} (${scale.unit})`,
    summary: `Line chart of the energy used so far, ${series.length} series; at the end: ${words.join(', ')}.`,
    x: data.x,
    series,
    yLabel: scale.unit,
    height: 240,
  });
}

// The intensity's points during the run, as a step line; null when it did
// not change (a single point).
export function intensityChart(record, endUs) {
  const points = record && record.intensity && Array.isArray(record.intensity.points) ? record.intensity.points : [];
  if (points.length < 2) return null;
  const t0 = startS(record);
  const t1 = endUs / 1e6;
  const sorted = points.map((p) => ({ t: usOfIso(p.from) / 1e6, g: p.g_per_kwh })).sort((a, b) => a.t - b.t);
  const x = [];
  const values = [];
  sorted.forEach((p, i) => {
    const next = sorted[i + 1];
    if (next && next.t <= t0) return; // superseded before the run began
    x.push(Math.max(p.t, t0));
    values.push(p.g);
  });
  x.push(Math.max(t1, x[x.length - 1]));
  values.push(values[values.length - 1]);
  const words = values.slice(0, -1).map((g) => formatIntensity(g));
  return timeChart({
    testid: 'chart-run-intensity',
    title: 'Grid intensity during the run (g CO₂e/kWh)',
    summary: `Step chart of the live grid intensity, ${values.length - 1} values: ${words.join(', ')}.`,
    x,
    series: [{ label: 'Intensity', unit: 'g CO₂e/kWh', values }],
    yLabel: 'g/kWh',
    kind: 'step',
    height: 200,
  });
}
