// A small builder of wattprint JSON records (schema_version 2, as
// `wattprint run --json` writes them, see docs/OUTPUTS.md) with known
// figures: constant-ish power per channel, samples, tasks, a (possibly
// live) intensity, both scopes.

import { randomUUID } from 'node:crypto';

const J_PER_KWH = 3.6e6;

const TYPE_OF = { measured_counter: 'energy_counter', measured_power: 'power', estimated: 'power' };

function energy(j) {
  return j === null ? null : { j, kwh: j / J_PER_KWH };
}

function iso(ms) {
  return new Date(ms).toISOString();
}

// Intensity in force at t (ms): the last point from at or before t.
function intensityAt(points, t) {
  let g = points[0].g_per_kwh;
  for (const p of points) if (p.fromMs <= t) g = p.g_per_kwh;
  return g;
}

function channelsOf(o) {
  const out = [];
  for (const d of o.devices) {
    const n = d.count || 1;
    for (let k = 0; k < n; k++) {
      const idx = out.length;
      const id = d.kind === 'gpu' ? `nvml:${k}` : `${d.method === 'estimated' ? 'estimate' : 'powercap'}_${d.kind}:${k}`;
      out.push({
        kind: d.kind,
        method: d.method,
        watts: d.watts * (1 + 0.07 * k),
        label: d.kind === 'gpu' ? `GPU ${k} (${o.gpuModelName || 'NVIDIA H100 80GB HBM3'})`
          : d.label || `${d.kind === 'cpu' ? 'CPU package' : 'DRAM'} ${k}`,
        id,
        deviceId: d.kind === 'gpu' ? `gpu${k}` : `${d.kind}${k}`,
        phase: idx * 1.3,
        share: d.kind === 'gpu' ? 0.97 : (o.processShare ?? 0.8),
      });
    }
  }
  return out;
}

// Sample k of channel c: joules over [t0, t1] with a gentle wave.
function joules(c, k, n, dt) {
  const wave = 1 + 0.22 * Math.sin((2 * Math.PI * k) / Math.max(4, n / 2) + c.phase);
  return c.watts * wave * dt;
}

function sum(xs) {
  return xs.reduce((a, b) => a + b, 0);
}

function kindRecord(kind, chans, machineJ, processJ, counted) {
  if (!chans.length) {
    return {
      method: 'none', model: kind === 'gpu' ? 'no GPU on this machine' : null, channels: 0, counted: false,
      complete: true, lower_bound: false, machine: energy(0), process: energy(0),
      bounds: { machine: null, process: null },
    };
  }
  const method = chans[0].method;
  return {
    method,
    model: method === 'estimated' ? 'vcpus x (idle + (max - idle) x utilisation), CCF average' : null,
    channels: chans.length,
    counted,
    complete: true,
    lower_bound: false,
    machine: energy(machineJ),
    process: energy(processJ),
    bounds: { machine: { low_j: machineJ, high_j: machineJ }, process: { low_j: processJ, high_j: processJ } },
  };
}

function scopeEmissions(j, g) {
  return {
    kg: g / 1000, g, energy: energy(j),
    bounds: { kg_low: g / 1000, kg_high: g / 1000, g_low: g, g_high: g },
  };
}

// Figures of samples [from, to) of the record: kinds, energy, emissions.
function figures(chans, samples, from, to, gramsPerSample) {
  const kinds = {};
  let mTotal = 0;
  let pTotal = 0;
  for (const kind of ['cpu', 'dram', 'gpu']) {
    const idx = chans.map((c, i) => (c.kind === kind ? i : -1)).filter((i) => i >= 0);
    const m = sum(samples.slice(from, to).map((s) => sum(idx.map((i) => s.machine_j[i]))));
    const p = sum(samples.slice(from, to).map((s) => sum(idx.map((i) => s.process_j[i]))));
    kinds[kind] = kindRecord(kind, idx.map((i) => chans[i]), m, p, idx.length > 0);
    mTotal += m;
    pTotal += p;
  }
  const gM = sum(gramsPerSample.slice(from, to).map((x) => x.machine));
  const gP = sum(gramsPerSample.slice(from, to).map((x) => x.process));
  return {
    kinds,
    energy: { machine: energy(mTotal), process: energy(pTotal), platform_as_cpu: false },
    emissions: {
      scope: 'machine', kg: gM / 1000, machine: scopeEmissions(mTotal, gM), process: scopeEmissions(pTotal, gP),
      partial: false, left_out: [],
    },
  };
}

function metadata(o, startMs) {
  return {
    run_id: o.runId,
    project_name: o.projectName || 'codecarbon',
    experiment_id: o.experimentId,
    experiment_name: o.experimentName || '',
    os: 'Linux-6.1.0-18-amd64-x86_64-with-glibc2.36',
    python_version: null,
    wattprint_version: '0.1.0',
    cpu_count: o.cpuCount ?? 16,
    cpu_model: o.cpuModel || 'AMD EPYC 7R13 Processor',
    ram_total_bytes: 68719476736,
    gpu_count: o.gpuCount || 0,
    gpu_model: o.gpuCount ? `${o.gpuCount} x ${o.gpuModelName || 'NVIDIA H100 80GB HBM3'}` : null,
    cloud_provider: o.cloud ? o.cloud.provider : null,
    cloud_region: o.cloud ? o.cloud.region : null,
    on_cloud: Boolean(o.cloud),
    longitude: null,
    latitude: null,
    pue: 1.0,
    wue: 0.0,
    start: iso(startMs),
    host: o.host,
    cluster_job: o.clusterJob || null,
  };
}

function channelJson(c, i, samples) {
  const m = sum(samples.map((s) => s.machine_j[i]));
  const p = sum(samples.map((s) => s.process_j[i]));
  return {
    id: c.id, device_id: c.deviceId, label: c.label, kind: c.kind, type: TYPE_OF[c.method], method: c.method,
    model: c.method === 'estimated' ? { model: 'vcpus x (idle + (max - idle) x utilisation)', vcpus: 16 } : null,
    path: c.kind === 'gpu' ? null : `/sys/class/powercap/intel-rapl:${i}`,
    wrap_range_j: c.method === 'measured_counter' ? 262143328850 / 1e6 : null,
    last_status: { ok: true }, available: true, ok_intervals: samples.length, missing_intervals: 0, wraps: 0,
    resets: 0, lower_bound: false, power_ceiling_w: 2000.0, power_ceiling_source: 'default for the kind',
    energy: { machine: energy(m), process: energy(p) },
    bounds: { machine: { low_j: m, high_j: m }, process: { low_j: p, high_j: p } },
  };
}

function gpuJson(c, i, samples, k) {
  const m = sum(samples.map((s) => s.machine_j[i]));
  const p = sum(samples.map((s) => s.process_j[i]));
  return {
    device_id: c.deviceId, channel: c.id, label: c.label, index: k, name: 'NVIDIA H100 80GB HBM3',
    uuid: `GPU-${randomUUID()}`, method: c.method, energy_source: 'nvmlDeviceGetPowerUsage (mW) integrated',
    process_attribution: 'nvmlDeviceGetProcessUtilization', mig_instances: null, power_limit_w: 700,
    memory_total_bytes: 85899345920, available: true, last_status: { ok: true },
    machine: energy(m), process: energy(p), mean_utilization: 0.9, peak_memory_used_bytes: 60e9,
  };
}

// o: {runId?, experimentId, start (ms), durationS, host, devices: [{kind, method, watts, count?}],
//     cloud?: {provider, region}, clusterJob?, gpuCount?, intensity: {g_per_kwh, zone, country_name,
//     country_iso3, source, year, basis?, points?: [{offsetS, g_per_kwh}]}, tasks?: [{name, from, to}]
//     (fractions of the run), samples?: N}
export function buildRecord(o) {
  const runId = o.runId || randomUUID();
  const startMs = o.start;
  const n = o.samples || 24;
  const dt = o.durationS / n;
  const chans = channelsOf(o);
  const inten = o.intensity;
  const points = (inten.points && inten.points.length ? inten.points : [{ offsetS: 0, g_per_kwh: inten.g_per_kwh }])
    .map((p) => ({ fromMs: startMs + p.offsetS * 1000, g_per_kwh: p.g_per_kwh }));
  const samples = [];
  const grams = [];
  for (let k = 0; k < n; k++) {
    const machine = chans.map((c) => joules(c, k, n, dt));
    const proc = chans.map((c, i) => machine[i] * c.share);
    samples.push({
      t_start_s: k * dt, t_end_s: (k + 1) * dt, machine_j: machine, process_j: proc,
      cpu_share: o.processShare ?? 0.8, ram_share: 0.3, cpu_utilization: 0.85, ram_utilization: 0.4,
    });
    const g = intensityAt(points, startMs + (k + 0.5) * dt * 1000);
    grams.push({ machine: (sum(machine) / J_PER_KWH) * g, process: (sum(proc) / J_PER_KWH) * g });
  }
  const whole = figures(chans, samples, 0, n, grams);
  const tasks = (o.tasks || []).map((t) => {
    const from = Math.round(t.from * n);
    const to = Math.round(t.to * n);
    const f = figures(chans, samples, from, to, grams);
    return {
      name: t.name, from_point: from, to_point: to, start: iso(startMs + from * dt * 1000),
      end: iso(startMs + to * dt * 1000), duration_s: (to - from) * dt, kinds: f.kinds, energy: f.energy,
      emissions: f.emissions,
    };
  });
  const kwh = whole.energy.machine.kwh;
  const meanG = kwh > 0 ? whole.emissions.machine.g / kwh : inten.g_per_kwh;
  const gpuChans = chans.map((c, i) => [c, i]).filter(([c]) => c.kind === 'gpu');
  const record = {
    schema_version: 2,
    metadata: metadata({ ...o, runId, gpuCount: gpuChans.length }, startMs),
    command: ['python3', 'train.py'],
    exit_code: 0,
    signal: null,
    scope: 'machine',
    pue: 1.0,
    duration_s: o.durationS,
    sources: [],
    channels: chans.map((c, i) => channelJson(c, i, samples)),
    unavailable: [],
    devices: chans.map((c, i) => ({
      device_id: c.deviceId, kind: c.kind,
      machine: energy(sum(samples.map((s) => s.machine_j[i]))), process: energy(sum(samples.map((s) => s.process_j[i]))),
    })),
    gpus: gpuChans.map(([c, i], k) => gpuJson(c, i, samples, k)),
    kinds: whole.kinds,
    energy: whole.energy,
    intensity: {
      g_per_kwh: points[0].g_per_kwh, zone: inten.zone, country_iso3: inten.country_iso3 || null,
      country_name: inten.country_name || null, region: null, source: inten.source, year: inten.year ?? null,
      basis: inten.basis || 'average', resolution: `configured: --zone ${inten.zone}`, is_default: false,
      location_step: 'zone', note: null,
      points: points.map((p) => ({ from: iso(p.fromMs), g_per_kwh: p.g_per_kwh })),
    },
    emissions: whole.emissions,
    emissions_by_basis: {
      chosen: 'average',
      average: { kg: whole.emissions.kg, g: whole.emissions.machine.g, source: inten.source, g_per_kwh: meanG },
      marginal: null,
    },
    tasks,
    events: [],
    samples,
    utilization: { cpu_mean: 0.85, ram_mean: 0.4, gpu_mean: gpuChans.length ? 0.9 : null, peak_tree_rss_bytes: 2147483648 },
  };
  return record;
}
