import http from 'node:http';

// Helpers of the browser test: the list of failures, the collector's API
// from node, reading the page's numbers, canvases and CSV.

export const failures = [];
export let passed = 0;

export function check(name, ok, detail = '') {
  if (ok) passed++;
  else failures.push(`${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}

// Runs a group of checks; an exception is one failure, and the next group
// still runs.
export async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    failures.push(`${name}: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
  }
}

export const str = (v) => (v === null || v === undefined ? '' : String(v));

export function same(name, actual, expected) {
  return check(name, actual === str(expected), `page shows ${JSON.stringify(actual)}, API says ${JSON.stringify(str(expected))}`);
}

export function close(a, b, rel = 1e-9) {
  return Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(a), Math.abs(b));
}

// One HTTP request on its own connection. Node's fetch keeps connections
// open, and each idle one holds one of the server's worker threads (8 by
// default) until its keep-alive timeout: the browser's requests would then
// wait for seconds.
const noKeepAlive = new http.Agent({ keepAlive: false });

export function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: noKeepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, text, headers: { get: (k) => res.headers[k.toLowerCase()] ?? null }, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function makeApi(base) {
  async function get(path, token, accept = 'application/json') {
    const headers = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    return request(base + path, { headers });
  }
  return {
    get,
    async json(path, token) {
      const r = await get(path, token);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 200)}`);
      return r.json();
    },
    async text(path, token, accept) {
      const r = await get(path, token, accept);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 200)}`);
      return r.text;
    },
  };
}

export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Waits until <main> says it drew the current hash; returns data-ready-ms.
export async function waitReady(page, timeout = 10000) {
  await page.waitForFunction(() => {
    const m = document.querySelector('main');
    return Boolean(m && m.dataset.ready && m.dataset.ready === (location.hash || '#/'));
  }, null, { timeout });
  return page.evaluate(() => Number(document.querySelector('main').dataset.readyMs));
}

// A fresh load of a URL (not a same-document hash change).
export async function load(page, url) {
  await page.goto('about:blank');
  await page.goto(url);
  return waitReady(page);
}

// Clicks something that changes the hash and waits for the new page.
export async function clickAndWait(page, selector) {
  const before = await page.evaluate(() => location.hash);
  await page.click(selector);
  await page.waitForFunction((b) => location.hash !== b, before, { timeout: 5000 });
  return waitReady(page);
}

// {testid: data-value} of every element under `root` (first one wins).
export async function valuesOf(page, root = 'main') {
  return page.$$eval(`${root} [data-testid][data-value]`, (els) => {
    const out = {};
    for (const e of els) if (!(e.dataset.testid in out)) out[e.dataset.testid] = e.dataset.value;
    return out;
  });
}

// Rows of a table: [{id, values: {testid: data-value}, text}].
export async function rowsOf(page, rowTestid) {
  return page.$$eval(`[data-testid="${rowTestid}"]`, (rows) => rows.map((r) => {
    const values = {};
    for (const e of r.querySelectorAll('[data-testid][data-value]')) {
      if (!(e.dataset.testid in values)) values[e.dataset.testid] = e.dataset.value;
    }
    return { id: r.dataset.id, values, text: r.textContent };
  }));
}

// The expected {testid: value} against what the page shows.
export function compareValues(name, actual, expected) {
  for (const [k, v] of Object.entries(expected)) {
    if (!(k in actual)) check(`${name} ${k}`, false, 'not on the page');
    else same(`${name} ${k}`, actual[k], v);
  }
}

export function compareRows(name, rows, expected, idOf, valuesOfRow) {
  if (!check(`${name}: row count`, rows.length === expected.length, `page ${rows.length}, API ${expected.length}`)) return;
  expected.forEach((e, i) => {
    const id = idOf(e);
    if (!check(`${name}: row ${i} id`, rows[i].id === id, `page ${rows[i].id}, API ${id}`)) return;
    compareValues(`${name}: row ${i} (${id})`, rows[i].values, valuesOfRow(e));
  });
}

// Pixels of the first canvas of a chart figure: painted ones and those of
// a saturated colour (series, not grey axes or grid).
export async function canvasOf(page, testid) {
  return page.evaluate((tid) => {
    const fig = document.querySelector(`[data-testid="${tid}"]`);
    if (!fig) return null;
    const c = fig.querySelector('canvas');
    const out = { series: fig.dataset.series, painted: 0, coloured: 0, width: 0, height: 0 };
    if (!c) return out;
    out.width = c.width;
    out.height = c.height;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      out.painted++;
      const mx = Math.max(d[i], d[i + 1], d[i + 2]);
      const mn = Math.min(d[i], d[i + 1], d[i + 2]);
      if (mx - mn > 50 && d[i + 3] > 100) out.coloured++;
    }
    return out;
  }, testid);
}

export async function checkChart(page, name, testid, series) {
  const c = await canvasOf(page, testid);
  if (!check(`${name}: chart ${testid} present`, c !== null, 'no such figure')) return;
  check(`${name}: chart ${testid} data-series`, c.series === String(series), `data-series ${c.series}, expected ${series}`);
  check(`${name}: chart ${testid} drawn`, c.width > 0 && c.coloured > 150,
    `canvas ${c.width}x${c.height}, ${c.painted} painted and ${c.coloured} coloured pixels`);
}

// RFC 4180 CSV to rows of fields.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// Relative luminance of a CSS rgb() colour, 0 (black) to 1 (white).
export function luminance(css) {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(css);
  if (!m) return NaN;
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(+m[1]) + 0.7152 * lin(+m[2]) + 0.0722 * lin(+m[3]);
}

// JSON with sorted keys, to compare two values whatever their key order.
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
