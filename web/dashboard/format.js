// Units and numbers as the dashboard shows them. Every function takes the
// API's raw value (kWh, kg CO2e, s, microseconds since the epoch, g/kWh, W)
// and returns display text; null or undefined is "not recorded", never 0.

export const NOT_RECORDED = '—';

const LOCALE = 'en-GB';

function isNum(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

// A number with `digits` significant digits, without trailing noise:
// 0.0123456 -> "0.0123", 1234.5 -> "1,235" (integers keep their digits).
const SUPERSCRIPTS = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

function superscript(n) {
  return String(n).split('').map((c) => SUPERSCRIPTS[c]).join('');
}

export function formatNumber(v, digits = 3) {
  if (!isNum(v)) return NOT_RECORDED;
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10 ** digits) {
    return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 }).format(v);
  }
  // Below a thousandth, a string of zeros hides the figure: 3.67 × 10⁻⁸.
  if (abs < 1e-3) {
    const [mantissa, exponent] = v.toExponential(digits - 1).split('e');
    return `${Number(mantissa)} × 10${superscript(Number(exponent))}`;
  }
  return new Intl.NumberFormat(LOCALE, {
    maximumSignificantDigits: digits,
    minimumSignificantDigits: 1,
  }).format(v);
}

export function formatCount(v) {
  if (!isNum(v)) return NOT_RECORDED;
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 }).format(v);
}

// Scales a value in a base unit by SI prefixes. `steps` lists
// [factor, symbol, name] from the largest down; the first whose factor the
// value reaches is used, the last one otherwise.
function scaled(v, steps, digits) {
  if (!isNum(v)) return { text: NOT_RECORDED, unit: '', name: '' };
  const abs = Math.abs(v);
  let step = steps[steps.length - 1];
  if (abs === 0) {
    step = steps.find((s) => s[0] === 1) || step;
  } else {
    for (const s of steps) {
      if (abs >= s[0] * 0.9995) {
        step = s;
        break;
      }
    }
  }
  return { text: formatNumber(v / step[0], digits), unit: step[1], name: step[2] };
}

const ENERGY_STEPS = [
  [1e6, 'GWh', 'gigawatt-hours'],
  [1e3, 'MWh', 'megawatt-hours'],
  [1, 'kWh', 'kilowatt-hours'],
  [1e-3, 'Wh', 'watt-hours'],
  [1e-6, 'mWh', 'milliwatt-hours'],
  [1e-9, 'µWh', 'microwatt-hours'],
];

// Energy from kWh: "4.82 kWh", "312 Wh", "0.45 mWh".
export function energyParts(kwh, digits = 3) {
  return scaled(kwh, ENERGY_STEPS, digits);
}

export function formatEnergy(kwh, digits = 3) {
  const p = energyParts(kwh, digits);
  return p.unit ? `${p.text} ${p.unit}` : p.text;
}

const MASS_STEPS = [
  [1e3, 't', 'tonnes'],
  [1, 'kg', 'kilograms'],
  [1e-3, 'g', 'grams'],
  [1e-6, 'mg', 'milligrams'],
  [1e-9, 'µg', 'micrograms'],
];

export const CO2E = 'CO₂e';

// Mass from kg CO2e: "2.3 kg CO₂e", "41.2 g CO₂e".
export function massParts(kg, digits = 3) {
  return scaled(kg, MASS_STEPS, digits);
}

export function formatMass(kg, digits = 3, withCo2e = true) {
  const p = massParts(kg, digits);
  if (!p.unit) return p.text;
  return withCo2e ? `${p.text} ${p.unit} ${CO2E}` : `${p.text} ${p.unit}`;
}

const POWER_STEPS = [
  [1e6, 'MW', 'megawatts'],
  [1e3, 'kW', 'kilowatts'],
  [1, 'W', 'watts'],
  [1e-3, 'mW', 'milliwatts'],
];

export function formatPower(w, digits = 3) {
  const p = scaled(w, POWER_STEPS, digits);
  return p.unit ? `${p.text} ${p.unit}` : p.text;
}

export function formatIntensity(g) {
  if (!isNum(g)) return NOT_RECORDED;
  return `${formatNumber(g, 4)} g ${CO2E}/kWh`;
}

export function formatWater(l) {
  if (!isNum(l)) return NOT_RECORDED;
  return `${formatNumber(l)} L`;
}

export function formatPercent(fraction, digits = 3) {
  if (!isNum(fraction)) return NOT_RECORDED;
  return `${formatNumber(fraction * 100, digits)} %`;
}

// Durations: "12.3 s", "3 min 12 s", "2 h 05 min", "4 d 3 h".
export function formatDuration(s) {
  if (!isNum(s)) return NOT_RECORDED;
  if (s < 60) return `${formatNumber(s, 3)} s`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(sec).padStart(2, '0')} s`;
}

export function formatHours(h) {
  if (!isNum(h)) return NOT_RECORDED;
  return `${formatNumber(h, 3)} h`;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// Microseconds since the epoch as UTC: "2026-11-12 14:03 UTC".
export function formatUtc(us, withSeconds = false) {
  if (!isNum(us) || us <= 0) return NOT_RECORDED;
  const d = new Date(us / 1000);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` + (withSeconds ? `:${pad(d.getUTCSeconds())}` : '');
  return `${date} ${time} UTC`;
}

// The same instant in the browser's time zone, for titles.
export function formatLocal(us) {
  if (!isNum(us) || us <= 0) return NOT_RECORDED;
  return new Date(us / 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
}

export function isoOf(us) {
  if (!isNum(us) || us <= 0) return '';
  return new Date(us / 1000).toISOString();
}

// ISO text ("2026-11-12T14:03:00Z") to microseconds since the epoch.
export function usOfIso(iso) {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms * 1000 : NaN;
}

export function formatDate(us) {
  if (!isNum(us) || us <= 0) return NOT_RECORDED;
  const d = new Date(us / 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

// How a device kind's figure was obtained, as a badge: measured, estimated,
// or not recorded.
export function methodBadge(method) {
  if (typeof method === 'string' && method.startsWith('measured')) {
    return { text: 'measured', cls: 'badge-measured', title: method.replace('_', ' ') };
  }
  if (method === 'estimated') return { text: 'estimated', cls: 'badge-estimated', title: 'estimated from a model' };
  if (method === 'none') return { text: 'none', cls: 'badge-none', title: 'no such device was found on the machine' };
  return { text: 'not recorded', cls: 'badge-none', title: 'the run did not say how this was obtained' };
}

export function shortId(id) {
  return typeof id === 'string' && id.length > 8 ? id.slice(0, 8) : String(id ?? '');
}

const PROVIDERS = { aws: 'AWS', gcp: 'Google Cloud', azure: 'Azure' };

export function providerName(p) {
  return PROVIDERS[p] || p || '';
}

// An equivalent's amount: household_week is a fraction, shown as a percent.
export function formatEquivalent(e) {
  if (e.key === 'household_week') return `${formatPercent(e.amount)} ${e.unit}`;
  return `${formatNumber(e.amount)} ${e.unit}`;
}

// A display unit for a set of energies (kWh) whose largest is `maxKwh`:
// {factor, unit} with values shown as kwh * factor.
export function energyScale(maxKwh) {
  const p = energyParts(maxKwh > 0 ? maxKwh : 1);
  const factors = { GWh: 1e-6, MWh: 1e-3, kWh: 1, Wh: 1e3, mWh: 1e6, 'µWh': 1e9 };
  return { factor: factors[p.unit] ?? 1, unit: p.unit || 'kWh' };
}

export function massScale(maxKg) {
  const p = massParts(maxKg > 0 ? maxKg : 1);
  const factors = { t: 1e-3, kg: 1, g: 1e3, mg: 1e6, 'µg': 1e9 };
  return { factor: factors[p.unit] ?? 1, unit: `${p.unit || 'kg'} ${CO2E}` };
}
