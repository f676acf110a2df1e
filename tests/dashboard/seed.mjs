// The runs the browser test seeds, through POST /api/v1/runs: known
// figures in "vision" (measured CPU, estimated, 2-GPU cloud run with tasks,
// a 3-node cluster job, a live-intensity run), ~250 simple runs in
// "climate" for paging and sorting, and a few in the public "open-data".

import { randomUUID } from 'node:crypto';
import { buildRecord } from './records.mjs';
import { request } from './util.mjs';

const HOUR = 3600e3;
const DAY = 24 * HOUR;

function zoneOf(grid, zone) {
  const z = grid.zones.find((x) => x.zone === zone);
  if (!z) throw new Error(`the grid database has no zone ${zone}`);
  return {
    g_per_kwh: z.g_per_kwh, zone: z.zone, country_name: z.name, country_iso3: z.country_iso3 || null,
    source: `Electricity Maps, yearly, ${z.year} (lifecycle); via ${grid.package || '@tgwf/co2'}`, year: z.year,
  };
}

function cloudZone(grid, provider, region) {
  const c = grid.cloud_regions.find((x) => x.provider === provider && x.region === region);
  if (!c) throw new Error(`the grid database has no ${provider} ${region}`);
  return {
    g_per_kwh: c.g_per_kwh, zone: c.zone, country_name: c.location, country_iso3: null,
    source: `Electricity Maps, yearly, ${c.year}; ${provider} ${region}`, year: c.year,
  };
}

const CPU_MEASURED = (w) => [{ kind: 'cpu', method: 'measured_counter', watts: w }, { kind: 'dram', method: 'measured_counter', watts: w / 10 }];
const CPU_ESTIMATED = (w) => [{ kind: 'cpu', method: 'estimated', watts: w }, { kind: 'dram', method: 'estimated', watts: w / 6 }];

// The runs of the test, as build options keyed by a name the checks use.
export function plan(ids, grid, now) {
  const t = (daysAgo, hours = 0) => Math.floor((now - daysAgo * DAY - hours * HOUR) / 1000) * 1000;
  const vision = { experimentId: ids.vision.experiment_id, projectName: 'vision' };
  const ablation = { experimentId: ids.ablation, projectName: 'vision' };
  const runs = {
    cpuMeasured: {
      ...ablation, start: t(24), durationS: 2 * 3600, host: 'ws-01', cpuModel: 'Intel(R) Xeon(R) Gold 6338',
      devices: CPU_MEASURED(65), intensity: zoneOf(grid, 'DE'),
    },
    estimated: {
      ...ablation, start: t(17), durationS: 45 * 60, host: 'laptop-7', cpuModel: 'Intel(R) Core(TM) i7-1185G7',
      cpuCount: 8, devices: CPU_ESTIMATED(18), intensity: zoneOf(grid, 'FR'),
    },
    gpu: {
      ...vision, start: t(10), durationS: 6 * 3600, host: 'gpu-box-3', cpuModel: 'AMD EPYC 7R13 Processor',
      devices: [...CPU_MEASURED(120), { kind: 'gpu', method: 'measured_power', watts: 310, count: 2 }],
      cloud: { provider: 'aws', region: 'eu-west-1' }, intensity: cloudZone(grid, 'aws', 'eu-west-1'),
      tasks: [{ name: 'load data', from: 0, to: 0.125 }, { name: 'train', from: 0.125, to: 0.875 },
        { name: 'evaluate', from: 0.875, to: 1 }],
      samples: 48,
    },
    live: {
      ...vision, start: t(1, 6), durationS: 4 * 3600, host: 'ws-02', devices: CPU_MEASURED(55),
      intensity: {
        ...zoneOf(grid, 'GB'), source: 'Carbon Intensity API (National Grid ESO), live', basis: 'average',
        points: [{ offsetS: 0, g_per_kwh: 250 }, { offsetS: 3600, g_per_kwh: 180 },
          { offsetS: 7200, g_per_kwh: 320 }, { offsetS: 10800, g_per_kwh: 210 }],
      },
      samples: 32,
    },
  };
  ['n1', 'n2', 'n3'].forEach((node, i) => {
    runs[`job_${node}`] = {
      ...vision, start: t(3, i * 0.05), durationS: 3 * 3600 - i * 120, host: `${node}.hpc.example`,
      cpuModel: 'AMD EPYC 9654', cpuCount: 192, devices: CPU_MEASURED(180 + i * 15), intensity: zoneOf(grid, 'FI'),
      clusterJob: { cluster: 'hpc', job_id: '4242', step: '0', node, user: 'alice', account: 'climate-ml' },
    };
  });
  const open = { experimentId: ids.openData.experiment_id, projectName: 'open-data' };
  [20, 9, 2].forEach((d, i) => {
    runs[`open_${i}`] = {
      ...open, start: t(d), durationS: 1800 + i * 600, host: `ci-runner-${i + 1}`, devices: CPU_ESTIMATED(25 + i * 5),
      intensity: zoneOf(grid, 'NL'),
    };
  });
  const climate = { experimentId: ids.climate.experiment_id, projectName: 'climate' };
  const zones = ['DE', 'FR', 'PL', 'SE', 'US-CAL-CISO'].filter((z) => grid.zones.some((x) => x.zone === z));
  for (let i = 0; i < 250; i++) {
    runs[`climate_${i}`] = {
      ...climate,
      start: t(0.5 + (i * 22) / 250, 0),
      durationS: 300 + ((i * 397) % 7200) + i * 0.01,
      host: `node-${String(i % 17).padStart(3, '0')}`,
      devices: i % 3 === 0 ? CPU_MEASURED(30 + ((i * 13) % 90) + i * 0.001) : CPU_ESTIMATED(20 + ((i * 29) % 70) + i * 0.001),
      intensity: zoneOf(grid, zones[i % zones.length]),
      samples: 4,
    };
  }
  // Two more Slurm accounts, with the budgets test's over and warning
  // states: the most recent climate runs are jobs of theirs.
  for (let i = 0; i < 8; i++) {
    const r = runs[`climate_${i}`];
    const account = i < 4 ? 'geo-sim' : 'ocean-lab';
    r.clusterJob = { cluster: 'hpc', job_id: i < 4 ? '5150' : '5151', step: 'batch', node: r.host, user: 'bob', account };
  }
  for (const r of Object.values(runs)) r.runId = randomUUID();
  return runs;
}

// POSTs every record, `parallel` at a time. Returns {name: record}.
export async function seed(base, tokens, runs, parallel = 6) {
  const entries = Object.entries(runs);
  const records = {};
  const tokenOf = (o) => tokens[o.projectName];
  let next = 0;
  async function worker() {
    while (next < entries.length) {
      const [name, o] = entries[next++];
      const record = buildRecord(o);
      const res = await request(`${base}/api/v1/runs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokenOf(o)}` },
        body: JSON.stringify(record),
      });
      if (res.status !== 201) throw new Error(`POST /api/v1/runs (${name}): ${res.status} ${res.text}`);
      records[name] = record;
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return records;
}

// A run still in progress that has sent only intervals (`wattprint
// monitor` before its record): no record, so the run page draws its power
// and energy from /runs/{r}/series. Returns its id.
export async function seedStreamingRun(base, token, experimentId, now) {
  const runId = randomUUID();
  const start = Math.floor((now - 2 * DAY - 5 * HOUR) / 1000) * 1000;
  const n = 12;
  const step = 600e3;
  const intervals = [];
  for (let i = 0; i < n; i++) {
    const cpuW = 80 + 30 * Math.sin(i / 2);
    const ramW = 9;
    const dt = step / 1000;
    const cpu = (cpuW * dt) / 3.6e6;
    const ram = (ramW * dt) / 3.6e6;
    intervals.push({
      seq: i, start: new Date(start + i * step).toISOString(), end: new Date(start + (i + 1) * step).toISOString(),
      duration_s: dt, cpu_energy_kwh: cpu, gpu_energy_kwh: 0, ram_energy_kwh: ram, energy_kwh: cpu + ram,
      emissions_kg: ((cpu + ram) * 342) / 1000, cpu_power_w: cpuW, gpu_power_w: 0, ram_power_w: ramW,
    });
  }
  const metadata = {
    run_id: runId, experiment_id: experimentId, start: new Date(start).toISOString(), host: 'ws-03',
    cpu_count: 8, cpu_model: 'AMD Ryzen 7 7700', gpu_count: 0, wattprint_version: '0.1.0', os: 'Linux',
  };
  const res = await request(`${base}/api/v1/runs/${runId}/intervals`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ metadata, intervals }),
  });
  if (res.status !== 200) throw new Error(`POST /api/v1/runs/${runId}/intervals: ${res.status} ${res.text}`);
  return runId;
}

// A second experiment of a project (CodeCarbon's POST /experiments). Returns its id.
export async function createExperiment(base, token, projectId, name, description) {
  const res = await request(`${base}/experiments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ project_id: projectId, name, description }),
  });
  if (res.status !== 201) throw new Error(`POST /experiments: ${res.status} ${res.text}`);
  return res.json().id;
}
