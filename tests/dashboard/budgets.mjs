// The organisation page's CO2e budgets panel: hidden while no budget is
// set and when the collector refuses the list; with budgets set by the
// admin token, a row per account whose figures, spent-of-budget text and
// state word are the API's.

import path from 'node:path';
import { check, step, same, close, load, rowsOf, request } from './util.mjs';

const PANEL = '[data-testid="org-budgets"]';

// The accounts the seeded runs carry (seed.mjs), and the state each
// budget is set to reach.
export const BUDGET_PLAN = [
  { account: 'climate-ml', state: 'ok', of: (spent) => (spent > 0 ? spent * 4 : 1) },
  { account: 'geo-sim', state: 'over', of: (spent) => spent * 0.5 },
  { account: 'ocean-lab', state: 'warn80', of: (spent) => spent / 0.86 },
];

async function putBudget(T, account, year, kg) {
  const res = await request(`${T.base}/api/v1/budgets/${encodeURIComponent(account)}/${year}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${T.adminToken}` },
    body: JSON.stringify({ kg }),
  });
  if (res.status !== 200) throw new Error(`PUT /api/v1/budgets/${account}/${year}: ${res.status} ${res.text}`);
  return res.json();
}

// Sets each account's budget from what it has spent this budget year (the
// collector's own sum), so the states hold whatever the date.
export async function seedBudgets(T) {
  const { year } = await T.api.json('/api/v1/budgets', T.orgToken);
  const refused = await request(`${T.base}/api/v1/budgets/geo-sim/${year}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${T.orgToken}` },
    body: JSON.stringify({ kg: 1 }),
  });
  check('budgets: an organisation token may not set one', refused.status === 401 || refused.status === 403,
    `status ${refused.status}`);
  for (const b of BUDGET_PLAN) {
    const first = await putBudget(T, b.account, year, 1);
    check(`budgets: ${b.account} has runs`, first.runs > 0, `${first.runs} runs`);
    await putBudget(T, b.account, year, b.of(first.spent_kg));
  }
  return year;
}

async function panelText(page) {
  const el = await page.$(PANEL);
  return el ? el.textContent() : null;
}

// Before any budget is set: the list is empty and the page has no panel.
export async function checkBudgetsNone(T, page) {
  const want = await T.api.json('/api/v1/budgets', T.orgToken);
  check('budgets: none set yet', Array.isArray(want.budgets) && want.budgets.length === 0, JSON.stringify(want).slice(0, 200));
  await load(page, `${T.base}/#/org/${T.ids.org}`);
  check('budgets: no panel without budgets', (await page.$(PANEL)) === null, 'the panel is shown');
  check('budgets: the page drew', (await page.$('[data-testid="page-org"]')) !== null, 'no org page');
}

// The panel against GET /api/v1/budgets, on the org page now shown.
export async function checkBudgets(T, page) {
  const want = await T.api.json('/api/v1/budgets', T.orgToken);
  const byAccount = Object.fromEntries(want.budgets.map((b) => [b.account, b]));
  for (const b of BUDGET_PLAN) {
    const got = byAccount[b.account];
    check(`budgets: the API has ${b.account} ${b.state}`, got && got.state === b.state,
      got ? `state ${got.state}, spent ${got.spent_kg} of ${got.budget_kg}` : 'no such budget');
  }
  if (!check('budgets: the panel is shown', (await page.$(PANEL)) !== null, 'no panel')) return;
  const heading = await page.$eval(`${PANEL} h2`, (e) => e.textContent);
  check('budgets: the heading names the year', /CO₂e budgets/.test(heading) && heading.includes(String(want.year)), heading);
  const rows = await rowsOf(page, 'budget-row');
  check('budgets: a row per budget', rows.length === want.budgets.length,
    `page ${rows.length} rows, API ${want.budgets.length}`);
  // The spent-of-budget text and percentages as format.js writes them.
  const texts = await page.evaluate(async (list) => {
    const f = await import('/assets/format.js');
    return list.map((b) => ({
      spent: `${f.formatMass(b.spent_kg, 3, false)} of ${f.formatMass(b.budget_kg)}`,
      used: f.formatPercent(b.used, 2),
    }));
  }, want.budgets);
  const words = { ok: 'Within budget', warn80: 'Warning: past 80 %', warn95: 'Warning: past 95 %', over: 'Over budget' };
  want.budgets.forEach((b, i) => {
    const r = rows[i];
    if (!r || !check(`budgets: row ${i} account`, r.id === b.account, `page ${r && r.id}, API ${b.account}`)) return;
    const name = `budgets: ${b.account}`;
    same(`${name} spent`, r.values['budget-spent-kg'], b.spent_kg);
    same(`${name} budget`, r.values['budget-kg'], b.budget_kg);
    same(`${name} used`, r.values['budget-used'], b.used);
    same(`${name} runs`, r.values['budget-runs'], b.runs);
    check(`${name} projection`, close(Number(r.values['budget-projected-kg']), b.projected_kg, 1e-3),
      `page ${r.values['budget-projected-kg']}, API ${b.projected_kg}`);
    if (b.state === 'over') same(`${name} over by`, r.values['budget-over-kg'], b.spent_kg - b.budget_kg);
    else same(`${name} left`, r.values['budget-remaining-kg'], b.remaining_kg);
    check(`${name} state word`, r.text.includes(words[b.state]), r.text);
  });
  const cells = await page.$$eval('[data-testid="budget-row"]', (trs) => trs.map((tr) => {
    const badge = tr.querySelector('[data-testid="budget-state"]');
    const bar = tr.querySelector('[data-testid="budget-bar"]');
    const mark = bar && bar.querySelector('.budget-mark');
    const s = getComputedStyle(badge);
    return {
      id: tr.dataset.id,
      spent: tr.querySelector('[data-testid="budget-spent"]').textContent,
      state: badge.dataset.state,
      badge: badge.textContent,
      border: s.borderTopStyle,
      filled: s.backgroundColor,
      stripe: getComputedStyle(tr.querySelector('th')).boxShadow,
      role: bar && bar.getAttribute('role'),
      label: bar && bar.getAttribute('aria-label'),
      markLeft: mark ? parseFloat(mark.style.left) : NaN,
    };
  }));
  want.budgets.forEach((b, i) => {
    const c = cells[i];
    if (!c || c.id !== b.account) return;
    const name = `budgets: ${b.account}`;
    check(`${name} spent of budget text`, c.spent === texts[i].spent, `page ${JSON.stringify(c.spent)}, expected ${JSON.stringify(texts[i].spent)}`);
    check(`${name} state`, c.state === b.state && c.badge.includes(words[b.state]), `${c.state}: ${c.badge}`);
    check(`${name} bar is an image with its numbers`, c.role === 'img' && c.label.includes(`${texts[i].used} of the budget spent`)
      && /of the year gone/.test(c.label), `${c.role}: ${c.label}`);
    check(`${name} pace line at the year gone`, Math.abs(c.markLeft - b.year_gone * 100) < 0.1,
      `line at ${c.markLeft} %, year gone ${b.year_gone}`);
  });
  // Not colour alone: the warning and over rows are marked by the border
  // of their badge and a stripe at the row's start, which greyscale keeps.
  const of = (s) => cells.find((c) => c.state === s);
  const ok = of('ok');
  const warn = of('warn80');
  const over = of('over');
  if (ok && warn && over) {
    check('budgets: a warning badge has a dashed border', warn.border === 'dashed', warn.border);
    check('budgets: only warning and over rows have a stripe', ok.stripe === 'none' && warn.stripe !== 'none'
      && over.stripe !== 'none', `${ok.stripe} / ${warn.stripe} / ${over.stripe}`);
    check('budgets: the over badge is filled', over.filled !== ok.filled, `${over.filled} vs ${ok.filled}`);
  }
  const caption = await page.$eval('[data-testid="budgets"] caption', (e) => e.textContent);
  check('budgets: the table has a caption', /budgets/.test(caption), caption);
  const text = await panelText(page);
  check('budgets: the year gone is said in words', /of the year gone|share of the year gone/.test(text), text);
}

// A collector that refuses the list (401/403) or fails (500): the page
// still draws, without the panel or with a note in it.
export async function checkBudgetsRefused(T, B, refusedRe) {
  for (const status of [401, 403]) {
    B.scenario(`budgets refused ${status}`, [refusedRe]);
    await step(`budgets: hidden on a ${status}`, async () => {
      const ctx = await B.context(B.withToken(T.orgToken));
      const page = await ctx.newPage();
      await page.route('**/api/v1/budgets*', (route) => route.fulfill({
        status, contentType: 'application/json', body: JSON.stringify({ error: 'this token may not read' }),
      }));
      await load(page, `${T.base}/#/org/${T.ids.org}`);
      check(`budgets ${status}: the org page drew`, (await page.$('[data-testid="page-org"]')) !== null, 'no org page');
      check(`budgets ${status}: no message`, (await page.$('[data-testid^="message-"]')) === null, 'an error message');
      check(`budgets ${status}: no panel`, (await page.$(PANEL)) === null, 'the panel is shown');
      await ctx.close();
    });
  }
  B.scenario('budgets fail', [/Failed to load resource: the server responded with a status of 500/]);
  await step('budgets: a failure is said in the panel', async () => {
    const ctx = await B.context(B.withToken(T.orgToken));
    const page = await ctx.newPage();
    await page.route('**/api/v1/budgets*', (route) => route.fulfill({
      status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'database is locked' }),
    }));
    await load(page, `${T.base}/#/org/${T.ids.org}`);
    check('budgets 500: the org page drew', (await page.$('[data-testid="page-org"]')) !== null, 'no org page');
    const note = await page.$('[data-testid="budgets-error"]');
    check('budgets 500: a note in the panel', note !== null && /database is locked/.test(await note.textContent()), 'no note');
    await ctx.close();
  });
}

// The panel alone, and in greyscale, for a reader to look at.
export async function budgetsScreenshots(T, page, prefix) {
  const panel = await page.$(PANEL);
  if (!check(`${prefix}: the budgets panel`, panel !== null, 'no panel')) return;
  await panel.screenshot({ path: path.join(T.out, `${prefix}-budgets.png`) });
  await page.evaluate(() => { document.documentElement.style.filter = 'grayscale(1)'; });
  await panel.screenshot({ path: path.join(T.out, `${prefix}-budgets-grey.png`) });
  await page.evaluate(() => { document.documentElement.style.filter = ''; });
}
