// The checks of each dashboard page against the collector's API.

import path from 'node:path';
import {
  check, step, same, close, qs, load, waitReady, clickAndWait, valuesOf, rowsOf, compareValues, compareRows,
  checkChart, canonical,
} from './util.mjs';

const T_KEYS = {
  energy_kwh: 'energy-kwh', emissions_kg: 'emissions-kg', runs: 'runs', gpu_hours: 'gpu-hours',
  duration_s: 'duration-s', cpu_energy_kwh: 'cpu-energy-kwh', gpu_energy_kwh: 'gpu-energy-kwh',
  ram_energy_kwh: 'ram-energy-kwh', intervals: 'intervals',
};

export function totalsExpected(prefix, t) {
  const out = {};
  for (const [k, id] of Object.entries(T_KEYS)) out[`${prefix}-${id}`] = t[k];
  for (const e of t.equivalents || []) out[`${prefix}-equiv-${e.key}`] = e.amount;
  return out;
}

export const RUNS_PAGE = { limit: 50, offset: 0, sort: 'start', order: 'desc' };

export function runExpected(r) {
  const f = r.figures || {};
  const m = r.methods || {};
  return {
    'run-duration-s': f.duration_s, 'run-cpu-energy-kwh': f.cpu_energy_kwh, 'run-gpu-energy-kwh': f.gpu_energy_kwh,
    'run-ram-energy-kwh': f.ram_energy_kwh, 'run-energy-kwh': f.energy_kwh, 'run-emissions-kg': f.emissions_kg,
    'run-intensity': r.intensity_g_per_kwh, 'badge-cpu': m.cpu, 'badge-gpu': m.gpu, 'badge-ram': m.ram,
  };
}

async function crumbs(page) {
  return page.$$eval('#crumbs li', (lis) => lis.map((li) => {
    const a = li.querySelector('a');
    return { text: li.textContent.trim(), href: a ? a.getAttribute('href') : null };
  }));
}

async function numbersHaveValues(page, name) {
  const bad = await page.$$eval('main .num', (els) => els.filter((e) => !e.hasAttribute('data-testid')
    || !e.hasAttribute('data-value')).map((e) => e.textContent).slice(0, 3));
  check(`${name}: every number has data-testid and data-value`, bad.length === 0, `without: ${bad.join(', ')}`);
}

async function equivalentsReachable(page, name, prefix) {
  const info = await page.$$eval(`[data-testid^="${prefix}-equiv-"]`, (els) => els.map((e) => {
    const tip = document.getElementById(e.getAttribute('aria-describedby') || '');
    return { title: e.getAttribute('title') || '', tab: e.tabIndex, tip: tip ? tip.textContent : '' };
  }));
  check(`${name}: equivalents shown`, info.length >= 4, `${info.length} equivalents`);
  for (const e of info) {
    check(`${name}: equivalent source on hover and focus`, /^Source: .+/.test(e.title) && e.tab === 0 && e.tip === e.title,
      JSON.stringify(e));
  }
}

export async function checkOrg(T, page) {
  const { api, ids, orgToken } = T;
  const org = ids.org;
  await T.measure('org', page, `${T.base}/#/org/${org}`);
  const [totals, projects, jobs, series] = await Promise.all([
    api.json(`/api/v1/organizations/${org}/totals`, orgToken),
    api.json(`/api/v1/organizations/${org}/projects`, orgToken),
    api.json(`/api/v1/organizations/${org}/jobs?limit=50&offset=0`, orgToken),
    api.json(`/api/v1/organizations/${org}/series?bucket=week`, orgToken),
  ]);
  compareValues('org totals', await valuesOf(page), totalsExpected('org', totals));
  await equivalentsReachable(page, 'org', 'org');
  compareRows('org projects', await rowsOf(page, 'project-row'), projects, (p) => p.id, (p) => ({
    'project-runs': p.totals.runs, 'project-energy-kwh': p.totals.energy_kwh,
    'project-emissions-kg': p.totals.emissions_kg, 'project-gpu-hours': p.totals.gpu_hours,
    'project-last': p.totals.last_us,
  }));
  compareRows('org jobs', await rowsOf(page, 'job-row'), jobs, (j) => `${j.cluster}/${j.job_id}`, (j) => ({
    'job-runs': j.totals.runs, 'job-energy-kwh': j.totals.energy_kwh, 'job-emissions-kg': j.totals.emissions_kg,
    'job-duration-s': j.totals.duration_s, 'job-last': j.totals.last_us,
  }));
  const bars = await rowsOf(page, 'chart-org-projects-row');
  check('org: a bar per project', bars.length === projects.length, `${bars.length} bars, ${projects.length} projects`);
  bars.forEach((b, i) => same(`org: bar ${i}`, b.values['chart-org-projects-value'], projects[i] && projects[i].totals.emissions_kg));
  check('org: several weeks in the series', series.points.length >= 3, `${series.points.length} weeks`);
  await checkChart(page, 'org', 'chart-org-weekly', 1);
  const c = await crumbs(page);
  check('org: breadcrumb', c.length === 1 && c[0].text === 'Acme Research', JSON.stringify(c));
  check('org: title', (await page.title()).includes('Acme Research'), await page.title());
  await numbersHaveValues(page, 'org');
}

export async function checkProject(T, page, key, name) {
  const { api, ids, orgToken } = T;
  const id = ids[key].project_id;
  const ms = await T.measure('project', page, `${T.base}/#/project/${id}`);
  const [project, totals, runs, experiments] = await Promise.all([
    api.json(`/api/v1/projects/${id}`, orgToken),
    api.json(`/api/v1/projects/${id}/totals`, orgToken),
    api.json(`/api/v1/projects/${id}/runs${qs(RUNS_PAGE)}`, orgToken),
    api.json(`/api/v1/projects/${id}/experiments`, orgToken),
  ]);
  const v = await valuesOf(page);
  compareValues(`${name} totals`, v, totalsExpected('project', totals));
  if (project.intensity) same(`${name} intensity`, v['project-intensity'], project.intensity.g_per_kwh);
  if (project.last_run) {
    same(`${name} last run energy`, v['project-last-energy-kwh'], project.last_run.figures.energy_kwh);
    same(`${name} last run CO2e`, v['project-last-emissions-kg'], project.last_run.figures.emissions_kg);
  }
  const hosted = await page.$eval('[data-testid="project-hosted"]', (e) => e.textContent);
  if (project.hosted && project.hosted.on_cloud) {
    check(`${name}: hosted on cloud`, hosted.includes(project.hosted.cloud_region), hosted);
  } else if (project.hosted) {
    check(`${name}: hosted on premises`, /premises/.test(hosted), hosted);
  }
  compareRows(`${name} runs`, await rowsOf(page, 'run-row'), runs.runs, (r) => r.id, runExpected);
  same(`${name} runs total`, v['runs-total'], runs.total);
  compareRows(`${name} experiments`, await rowsOf(page, 'experiment-row'), experiments, (e) => e.id,
    (e) => ({ 'experiment-created': e.created_us }));
  await checkChart(page, name, 'chart-project-weekly', 1);
  if (experiments.length > 1) await checkExperimentFilter(T, page, id, experiments, name);
  const c = await crumbs(page);
  check(`${name}: breadcrumb`, c.length === 2 && c[0].href === `#/org/${ids.org}` && c[1].text === project.name,
    JSON.stringify(c));
  check(`${name}: title`, (await page.title()).includes(project.name), await page.title());
  await numbersHaveValues(page, name);
  return ms;
}

// Sorting by CO2e, paging, back, filter and CSV export on "climate".
export async function checkRunsTable(T, page) {
  const { api, ids, orgToken } = T;
  const id = ids.climate.project_id;
  const apiRuns = (p) => api.json(`/api/v1/projects/${id}/runs${qs({ ...RUNS_PAGE, ...p })}`, orgToken);
  await load(page, `${T.base}/#/project/${id}`);
  const compare = async (label, p) => {
    const want = await apiRuns(p);
    compareRows(`climate ${label}`, await rowsOf(page, 'run-row'), want.runs, (r) => r.id, runExpected);
    same(`climate ${label} total`, (await valuesOf(page))['runs-total'], want.total);
    return want;
  };
  const firstIds = (await rowsOf(page, 'run-row')).map((r) => r.id).join();
  await step('climate: sort by CO2e', async () => {
    await clickAndWait(page, '[data-testid="sort-emissions"]');
    check('climate: sort in the URL', /sort=emissions/.test(page.url()) && /order=desc/.test(page.url()), page.url());
    const rows = (await rowsOf(page, 'run-row')).map((r) => r.id).join();
    check('climate: sorting changed the rows', rows !== firstIds, 'same rows as before sorting');
    const want = await compare('sorted by CO2e desc', { sort: 'emissions', order: 'desc' });
    const kg = want.runs.map((r) => r.figures.emissions_kg);
    check('climate: API sorted desc', kg.every((x, i) => i === 0 || kg[i - 1] >= x), 'API order is not by CO2e');
    const sortState = await page.$eval('[data-testid="sort-emissions"]', (b) => b.closest('th').getAttribute('aria-sort'));
    check('climate: aria-sort', sortState === 'descending', `aria-sort=${sortState}`);
    await clickAndWait(page, '[data-testid="sort-emissions"]');
    check('climate: order asc in the URL', /order=asc/.test(page.url()), page.url());
    await compare('sorted by CO2e asc', { sort: 'emissions', order: 'asc' });
  });
  await step('climate: paging', async () => {
    const before = (await rowsOf(page, 'run-row')).map((r) => r.id).join();
    await clickAndWait(page, '[data-testid="pager-next"]');
    check('climate: offset in the URL', /offset=50/.test(page.url()), page.url());
    check('climate: paging changed the rows', (await rowsOf(page, 'run-row')).map((r) => r.id).join() !== before, 'same rows');
    await compare('page 2', { sort: 'emissions', order: 'asc', offset: 50 });
    same('climate page 2 first row number', (await valuesOf(page))['runs-from'], 51);
    await page.goBack();
    await waitReady(page);
    check('climate: back restores page 1', !/offset=/.test(page.url()) && /order=asc/.test(page.url()), page.url());
    await compare('back on page 1', { sort: 'emissions', order: 'asc' });
  });
  await step('climate: CSV export', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10000 }),
      page.click('[data-testid="export-csv"]'),
    ]);
    const file = path.join(T.out, 'runs-export.csv');
    await download.saveAs(file);
    const text = (await import('node:fs')).readFileSync(file, 'utf8');
    const want = await api.text(`/api/v1/projects/${id}/runs.csv${qs({ sort: 'emissions', order: 'asc' })}`, orgToken, 'text/csv');
    check('climate: CSV equals the API answer', text === want, `page ${text.length} bytes, API ${want.length} bytes`);
    const rows = T.parseCsv(text).filter((r) => r.length > 1);
    const all = await api.json(`/api/v1/projects/${id}/runs${qs({ limit: 1000, offset: 0, sort: 'emissions', order: 'asc' })}`, orgToken);
    check('climate: CSV header', rows[0] && rows[0][0] === 'run_id' && rows[0].includes('emissions_kg'), JSON.stringify(rows[0]));
    const col = rows[0].indexOf('emissions_kg');
    check('climate: CSV has every row', rows.length - 1 === all.total, `${rows.length - 1} rows, total ${all.total}`);
    const idsCsv = rows.slice(1).map((r) => r[0]).join();
    check('climate: CSV rows in the API order', idsCsv === all.runs.map((r) => r.id).join(), 'run ids differ');
    const kgOk = rows.slice(1).every((r, i) => all.runs[i] && close(Number(r[col]), all.runs[i].figures.emissions_kg, 1e-12));
    check('climate: CSV CO2e equals the API', kgOk, 'emissions_kg differ');
  });
  await step('climate: filter', async () => {
    await page.fill('[data-testid="runs-filter"]', 'node-003');
    await clickAndWait(page, '[data-testid="runs-filter-apply"]');
    check('climate: filter in the URL', /q=node-003/.test(page.url()), page.url());
    const want = await compare('filtered', { sort: 'emissions', order: 'asc', q: 'node-003' });
    check('climate: filter narrows', want.total > 0 && want.total < 250, `total ${want.total}`);
    const hosts = await page.$$eval('[data-testid="run-host"]', (els) => els.map((e) => e.textContent));
    check('climate: filtered rows match', hosts.every((hs) => hs.includes('node-003')), hosts.join(', '));
  });
}

export async function checkRun(T, page, name, runName, expectSeries, measureAs = '') {
  const { api, orgToken, records } = T;
  const id = records[runName].metadata.run_id;
  const url = `${T.base}/#/run/${id}`;
  const ms = measureAs ? await T.measure(measureAs, page, url) : await load(page, url);
  const [run, alt] = await Promise.all([
    api.json(`/api/v1/runs/${id}`, orgToken),
    api.json(`/api/v1/runs/${id}/alternatives?top=5`, orgToken),
  ]);
  check(`${name}: the API keeps the record whole`, canonical(run.record) === canonical(records[runName]),
    'GET /api/v1/runs/{id} record differs from the one posted');
  const v = await valuesOf(page);
  const f = run.figures;
  compareValues(`${name} figures`, v, {
    'run-energy-kwh': f.energy_kwh, 'run-emissions-kg': f.emissions_kg, 'run-duration-s': f.duration_s,
    'run-cpu-energy-kwh': f.cpu_energy_kwh, 'run-gpu-energy-kwh': f.gpu_energy_kwh, 'run-ram-energy-kwh': f.ram_energy_kwh,
    'run-intensity': run.intensity_g_per_kwh,
  });
  const rec = run.record;
  const kinds = {};
  for (const k of ['cpu', 'dram', 'gpu']) {
    kinds[`scope-${k}-machine-kwh`] = rec.kinds[k].machine ? rec.kinds[k].machine.kwh : null;
    kinds[`scope-${k}-process-kwh`] = rec.kinds[k].process ? rec.kinds[k].process.kwh : null;
  }
  kinds['scope-total-machine-kwh'] = rec.energy.machine.kwh;
  kinds['scope-emissions-machine-kg'] = rec.emissions.machine.kg;
  kinds['scope-emissions-process-kg'] = rec.emissions.process.kg;
  compareValues(`${name} scopes`, v, kinds);
  await checkChart(page, name, 'chart-run-power', expectSeries.power);
  await checkChart(page, name, 'chart-run-energy', expectSeries.energy);
  if (expectSeries.intensity) await checkChart(page, name, 'chart-run-intensity', expectSeries.intensity);
  const tasks = await rowsOf(page, 'task-row');
  check(`${name}: tasks`, tasks.length === rec.tasks.length, `${tasks.length} rows, ${rec.tasks.length} tasks`);
  tasks.forEach((t, i) => same(`${name}: task ${i} energy`, t.values['task-energy-kwh'], rec.tasks[i].energy.machine.kwh));
  await checkComparison(T, page, name, run, alt);
  const c = await crumbs(page);
  check(`${name}: breadcrumb org > project > run`, c.length === 3 && c[0].href === `#/org/${T.ids.org}`
    && c[1].text === rec.metadata.project_name && /^Run /.test(c[2].text), JSON.stringify(c));
  check(`${name}: link back to the project`, await page.$('[data-testid="run-project"]') !== null, 'no link');
  await numbersHaveValues(page, name);
  return ms;
}

// The region comparison against `wattprint intensity --list --json`.
async function checkComparison(T, page, name, run, alt) {
  const grid = T.grid;
  const E = run.figures.energy_kwh;
  const K = run.figures.emissions_kg;
  same(`${name}: comparison energy`, (await valuesOf(page, '[data-testid="comparison"]'))['alt-energy-kwh'], alt.energy_kwh);
  check(`${name}: comparison energy is the run's`, alt.energy_kwh === E, `alternatives ${alt.energy_kwh}, run ${E}`);
  const items = await page.$$eval('[data-testid="alt-cloud"], [data-testid="alt-zone"]', (els) => els.map((e) => ({
    kind: e.dataset.testid, provider: e.dataset.provider, region: e.dataset.region, zone: e.dataset.zone,
    g: Number(e.dataset.gPerKwh), kg: Number(e.dataset.kg), kgLess: Number(e.dataset.kgLess),
    text: e.querySelector('.alt-sentence').textContent,
  })));
  const cloud = items.filter((i) => i.kind === 'alt-cloud');
  const zones = items.filter((i) => i.kind === 'alt-zone');
  const providers = run.cloud_provider ? [run.cloud_provider] : ['aws', 'gcp', 'azure'];
  const pool = grid.cloud_regions.filter((c) => providers.includes(c.provider)).map((c) => c.g_per_kwh).sort((a, b) => a - b);
  check(`${name}: 5 cloud regions`, cloud.length === 5, `${cloud.length} shown`);
  check(`${name}: the cleanest cloud regions`, cloud.map((c) => c.g).join() === pool.slice(0, cloud.length).join(),
    `page ${cloud.map((c) => c.g)}, database ${pool.slice(0, 5)}`);
  for (const c of cloud) {
    const db = grid.cloud_regions.find((x) => x.provider === c.provider && x.region === c.region);
    if (!check(`${name}: ${c.provider} ${c.region} is in the database`, Boolean(db), 'not found')) continue;
    check(`${name}: ${c.region} provider`, providers.includes(c.provider), c.provider);
    checkLine(name, c, db.g_per_kwh, E, K, new RegExp(`^Had this been run in ${c.region} region, then the emitted carbon would have been `));
  }
  const zpool = grid.zones.map((z) => z.g_per_kwh).sort((a, b) => a - b);
  check(`${name}: 5 grid zones`, zones.length === 5, `${zones.length} shown`);
  check(`${name}: the cleanest grid zones`, zones.map((z) => z.g).join() === zpool.slice(0, zones.length).join(),
    `page ${zones.map((z) => z.g)}, database ${zpool.slice(0, 5)}`);
  for (const z of zones) {
    const db = grid.zones.find((x) => x.zone === z.zone);
    if (!check(`${name}: zone ${z.zone} is in the database`, Boolean(db), 'not found')) continue;
    checkLine(name, z, db.g_per_kwh, E, K, /^Had this been run in .+, then the emitted carbon would have been /);
  }
}

function checkLine(name, item, g, E, K, opening) {
  const what = item.region || item.zone;
  check(`${name}: ${what} g/kWh from the database`, item.g === g, `page ${item.g}, database ${g}`);
  const kg = (E * g) / 1000;
  check(`${name}: ${what} kg = energy x intensity`, close(item.kg, kg), `page ${item.kg}, expected ${kg}`);
  check(`${name}: ${what} kg less`, close(item.kgLess, K - kg, 1e-9) || Math.abs(item.kgLess - (K - kg)) < 1e-15,
    `page ${item.kgLess}, expected ${K - kg}`);
  const word = K - kg > 0 ? 'reducing' : 'increasing';
  check(`${name}: ${what} wording`, opening.test(item.text) && item.text.includes(`${word} the current emissions by `),
    item.text);
}

export async function checkJob(T, page) {
  const { api, orgToken } = T;
  const ms = await T.measure('job', page, `${T.base}/#/job/hpc/4242`);
  const job = await api.json('/api/v1/jobs/hpc/4242', orgToken);
  compareValues('job totals', await valuesOf(page), totalsExpected('job', job.totals));
  compareRows('job nodes', await rowsOf(page, 'node-row'), job.nodes, (n) => n.node, (n) => ({
    'node-runs': n.runs, 'node-first': n.first_us, 'node-last': n.last_us, 'node-cpu-energy-kwh': n.cpu_energy_kwh,
    'node-gpu-energy-kwh': n.gpu_energy_kwh, 'node-ram-energy-kwh': n.ram_energy_kwh, 'node-energy-kwh': n.energy_kwh,
    'node-emissions-kg': n.emissions_kg, 'node-duration-s': n.duration_s,
  }));
  check('job: three nodes', job.nodes.length === 3, `${job.nodes.length} nodes`);
  const c = await crumbs(page);
  check('job: breadcrumb', c.length >= 1 && /4242/.test(c[c.length - 1].text), JSON.stringify(c));
  await numbersHaveValues(page, 'job');
  return ms;
}

// org -> project -> run -> job, then back three times.
export async function checkNavigation(T, page) {
  const { ids, records } = T;
  await load(page, `${T.base}/#/org/${ids.org}`);
  await clickAndWait(page, `[data-testid="project-row"][data-id="${ids.vision.project_id}"] [data-testid="project-link"]`);
  check('nav: org -> project', page.url().endsWith(`#/project/${ids.vision.project_id}`), page.url());
  const runId = records.job_n1.metadata.run_id;
  await clickAndWait(page, `[data-testid="run-row"][data-id="${runId}"] [data-testid="run-link"]`);
  check('nav: project -> run', page.url().endsWith(`#/run/${runId}`), page.url());
  await clickAndWait(page, '[data-testid="run-job"]');
  check('nav: run -> job', page.url().endsWith('#/job/hpc/4242'), page.url());
  check('nav: job page shown', await page.$('[data-testid="page-job"]') !== null, 'no job page');
  const back = async (suffix, testid) => {
    await page.goBack();
    await waitReady(page);
    check(`nav: back to ${suffix}`, page.url().endsWith(suffix) && await page.$(`[data-testid="${testid}"]`) !== null, page.url());
  };
  await back(`#/run/${runId}`, 'page-run');
  await back(`#/project/${ids.vision.project_id}`, 'page-project');
  await back(`#/org/${ids.org}`, 'page-org');
  await page.goForward();
  await waitReady(page);
  check('nav: forward to the project', page.url().endsWith(`#/project/${ids.vision.project_id}`), page.url());
  await step('sign out', async () => {
    await page.click('[data-testid="signout"]');
    await page.waitForFunction(() => location.hash === '#/' && document.querySelector('main').dataset.ready === '#/');
    check('sign out: the token is gone', !(await page.evaluate(() => localStorage.getItem('wattprint.token'))), 'still stored');
    check('sign out: the sign-in form is back', await page.isVisible('[data-testid="signin-token"]'), 'no form');
  });
}

// A run with intervals only (no record): charts from /runs/{r}/series.
export async function checkStreamingRun(T, page, id) {
  const { api, orgToken } = T;
  await load(page, `${T.base}/#/run/${id}`);
  const [run, series] = await Promise.all([
    api.json(`/api/v1/runs/${id}`, orgToken), api.json(`/api/v1/runs/${id}/series`, orgToken),
  ]);
  check('streaming run: no record', !run.record, 'the API has a record');
  check('streaming run: its intervals', series.intervals.length === 12, `${series.intervals.length} intervals`);
  const f = run.figures;
  compareValues('streaming run figures', await valuesOf(page), {
    'run-energy-kwh': f.energy_kwh, 'run-emissions-kg': f.emissions_kg, 'run-duration-s': f.duration_s,
    'run-cpu-energy-kwh': f.cpu_energy_kwh, 'run-ram-energy-kwh': f.ram_energy_kwh,
  });
  await checkChart(page, 'streaming run', 'chart-run-power', 3);
  await checkChart(page, 'streaming run', 'chart-run-energy', 1);
  check('streaming run: no error', (await page.$('[data-testid^="message-"]')) === null, 'an error message is shown');
}

// Only the runs of one experiment, and back to all of them.
async function checkExperimentFilter(T, page, id, experiments, name) {
  const { api, orgToken } = T;
  const exp = experiments.find((e) => e.name === 'ablation') || experiments[experiments.length - 1];
  await clickAndWait(page, `[data-testid="experiment-row"][data-id="${exp.id}"] [data-testid="experiment-filter"]`);
  check(`${name}: experiment in the URL`, page.url().includes(`experiment=${exp.id}`), page.url());
  const want = await api.json(`/api/v1/projects/${id}/runs${qs({ ...RUNS_PAGE, experiment_id: exp.id })}`, orgToken);
  compareRows(`${name} runs of ${exp.name}`, await rowsOf(page, 'run-row'), want.runs, (r) => r.id, runExpected);
  check(`${name}: the experiment's runs only`, want.total === 2 && want.runs.every((r) => r.experiment_id === exp.id),
    `total ${want.total}`);
  check(`${name}: the filter is shown`, await page.isVisible('[data-testid="experiment-active"]'), 'no note');
  await clickAndWait(page, '[data-testid="experiment-active"] a');
  check(`${name}: all runs again`, !page.url().includes('experiment='), page.url());
  await page.goBack();
  await waitReady(page);
  check(`${name}: back to the experiment`, page.url().includes(`experiment=${exp.id}`), page.url());
  await page.goBack();
  await waitReady(page);
}
