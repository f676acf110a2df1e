// `wattprint report --format html` opened in headless Chromium: the file is
// self-contained (the page asks the network for nothing), every plot is
// drawn with a size, the numbers on the page are the records' sums, and
// screenshots (colour and greyscale) land in --out for a person to look at.
//
//   node report_browser.mjs --wattprint PATH --fixtures DIR --out DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const failures = [];
let passed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failures.push(`${name}${detail ? `: ${detail}` : ''}`);
}

function args() {
  const a = process.argv.slice(2);
  const get = (flag) => {
    const i = a.indexOf(flag);
    if (i < 0 || i + 1 >= a.length) throw new Error(`${flag} is required`);
    return a[i + 1];
  };
  return { wattprint: get('--wattprint'), fixtures: get('--fixtures'), out: get('--out') };
}

async function main() {
  const { wattprint, fixtures, out } = args();
  fs.mkdirSync(out, { recursive: true });
  const records = ['job-4242-gpu-a01.json', 'job-4242-gpu-a02.json'].map((n) => path.join(fixtures, n));
  const html = path.join(out, 'report.html');
  execFileSync(wattprint, ['report', ...records, '--format', 'html', '-o', html, '--title', 'BERT fine-tuning, job 4242'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WATTPRINT_CLOUD_METADATA: 'false' } });
  const expected = records.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const kwh = expected.reduce((s, r) => s + r.emissions.machine.energy.kwh, 0);
  const kg = expected.reduce((s, r) => s + r.emissions.machine.kg, 0);

  const browser = await chromium.launch({
    executablePath: process.env.WP_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run',
      '--disable-dev-shm-usage'],
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    const asked = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      asked.push(url);
      return route.abort();
    });
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${html}`);
    check('no request leaves the file', asked.length === 0, asked.join(', '));
    check('no console error', errors.length === 0, errors.join('; '));

    const plots = await page.$$eval('figure svg', (svgs) => svgs.map((s) => {
      const r = s.getBoundingClientRect();
      return { w: r.width, h: r.height, title: s.querySelector('title')?.textContent || '',
        lines: s.querySelectorAll('path,polyline,line,rect').length };
    }));
    check('five plots (power of each node, tasks, cumulative, runs)', plots.length === 5, JSON.stringify(plots.map((p) => p.title)));
    for (const p of plots) {
      check(`plot "${p.title}" is drawn with a size`, p.w > 300 && p.h > 100, `${p.w}x${p.h}`);
      check(`plot "${p.title}" has marks`, p.lines > 5, String(p.lines));
    }
    const statement = await page.$eval('blockquote.statement', (b) => b.textContent);
    check('the statement names the method', statement.includes('measured (hardware energy counter)'), statement);
    check('the statement cites the grid source', statement.includes('Electricity Maps'), statement);

    // The runs table's energy and CO2e columns sum to the records' figures.
    const table = await page.$$eval('table', (ts) => {
      const t = ts.find((x) => x.querySelector('caption').textContent.startsWith('One row per run'));
      const head = [...t.querySelectorAll('thead th')].map((th) => th.textContent);
      return { head, rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)) };
    });
    // Each column has one unit, in its header: "Energy (J)", "CO2e (mg)".
    const units = { J: 1 / 3.6e6, Wh: 1e-3, kWh: 1, MWh: 1e3, mg: 1e-6, g: 1e-3, kg: 1, t: 1e3 };
    const sum = (what) => {
      const i = table.head.findIndex((h) => h.startsWith(`${what} (`));
      const unit = table.head[i].slice(what.length + 2, -1);
      return table.rows.reduce((s, r) => s + Number(r[i]), 0) * units[unit];
    };
    check('two runs in the table', table.rows.length === 2, String(table.rows.length));
    const near = (a, b) => Math.abs(a - b) <= 0.006 * Math.max(Math.abs(a), Math.abs(b));  // 3 significant figures
    check('runs table energy = records', near(sum('Energy'), kwh), `${sum('Energy')} vs ${kwh}`);
    check('runs table CO2e = records', near(sum('CO2e'), kg), `${sum('CO2e')} vs ${kg}`);

    await page.screenshot({ path: path.join(out, 'report.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.addStyleTag({ content: 'html{filter:grayscale(1)}' });
    await page.screenshot({ path: path.join(out, 'report-greyscale.png'), fullPage: true });
    const pdf = path.join(out, 'report.pdf');
    await page.pdf({ path: pdf, format: 'A4' });
    check('prints to PDF', fs.statSync(pdf).size > 10000, String(fs.statSync(pdf).size));
  } finally {
    await browser.close();
  }
  console.log(`report_browser: ${passed} checks passed, ${failures.length} failed; screenshots in ${out}`);
  for (const f of failures) console.log(`FAIL ${f}`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => {
  console.error(`report_browser: ${e.stack || e}`);
  process.exit(1);
});
