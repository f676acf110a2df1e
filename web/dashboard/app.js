// wattprint's dashboard: the router, the page shell (header, breadcrumbs,
// session), sign-in, the landing page and the error messages. The pages
// themselves are in page-*.js.
//
// Each page is an async function of a context; it returns {node, after}
// (after: functions to run once the node is in the document, e.g. drawing
// charts). When everything a page fetched is drawn, <main> gets
// data-ready="<the hash it drew>" and data-ready-ms (ms since navigation
// start), which the browser test waits for.

import { api, ApiError, getToken, setToken, clearToken } from './api.js';
import { h, link, messagePanel, loading, section, table, td } from './dom.js';
import { orgPage } from './page-org.js';
import { projectPage } from './page-project.js';
import { runPage } from './page-run.js';
import { jobPage } from './page-job.js';
import { loadUPlot } from './charts.js';

const ROUTES = [
  { re: /^\/$/, page: landingPage },
  { re: /^\/signin$/, page: signinPage },
  { re: /^\/org\/([^/]+)$/, page: orgPage },
  { re: /^\/project\/([^/]+)$/, page: projectPage },
  { re: /^\/run\/([^/]+)$/, page: runPage },
  { re: /^\/job\/([^/]+)\/([^/]+)$/, page: jobPage },
];

const main = document.getElementById('main');
const crumbsEl = document.getElementById('crumbs');
const sessionEl = document.getElementById('session');

let generation = 0;
let lastPath = null;
let session = null; // whoami of the stored token, when known

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  return { path: path || '/', query };
}

function matchRoute(path) {
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (m) return { page: r.page, params: m.slice(1).map((s) => decodeURIComponent(s)) };
  }
  return null;
}

function setTitle(text) {
  document.title = text ? `${text} · wattprint` : 'wattprint';
}

// Breadcrumbs: [{label, href}], the last one is this page.
function setCrumbs(items) {
  crumbsEl.replaceChildren(...items.map((c, i) => {
    const last = i === items.length - 1;
    return h('li', null, last || !c.href
      ? h('span', { 'aria-current': last ? 'page' : null, 'data-testid': `crumb-${i}` }, c.label)
      : link(c.href, c.label, { 'data-testid': `crumb-${i}` }));
  }));
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function context(route, query, gen) {
  return {
    params: route.params,
    query,
    session,
    setTitle,
    setCrumbs,
    // Replaces this page by another without a history entry.
    redirect(hash) {
      history.replaceState(null, '', hash);
      render();
      return { redirected: true };
    },
    navigate(hash) {
      location.hash = hash;
    },
    stale: () => gen !== generation,
    rerender: () => render(),
  };
}

async function render() {
  const gen = ++generation;
  if (!location.hash) history.replaceState(null, '', '#/');
  const { path, query } = parseHash();
  const samePage = path === lastPath;
  lastPath = path;
  main.removeAttribute('data-ready');
  main.setAttribute('aria-busy', 'true');
  const focused = document.activeElement;
  const hadFocus = Boolean(focused && focused !== document.body && main.contains(focused));
  const focusKey = samePage && hadFocus ? focused.getAttribute('data-testid') : null;
  if (!samePage) {
    setCrumbs([]);
    main.replaceChildren(loading());
  }
  const route = matchRoute(path);
  let result;
  try {
    if (!route) throw new ApiError(404, `there is no page at #${path}`, location.hash);
    result = await route.page(context(route, query, gen));
  } catch (e) {
    result = { node: errorView(e) };
  }
  if (gen !== generation || result.redirected) return;
  main.replaceChildren(result.node);
  await Promise.all((result.after || []).map(async (fn) => {
    try {
      await fn();
    } catch (e) {
      if (gen === generation) main.append(errorView(e));
    }
  }));
  if (gen !== generation) return;
  await nextFrame();
  if (gen !== generation) return;
  main.removeAttribute('aria-busy');
  main.dataset.readyMs = performance.now().toFixed(1);
  main.dataset.ready = location.hash;
  restoreFocus(samePage, focusKey, hadFocus);
}

function restoreFocus(samePage, focusKey, hadFocus) {
  if (samePage && focusKey) {
    const el = main.querySelector(`[data-testid="${CSS.escape(focusKey)}"]`);
    if (el) el.focus();
    return;
  }
  if (!samePage && hadFocus) {
    // An in-app link was followed: start reading at the page's heading.
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
}

// ---------------------------------------------------------------- session

function renderSession() {
  const token = getToken();
  if (!token) {
    sessionEl.replaceChildren(link('#/signin', 'Sign in', { class: 'button button-small', 'data-testid': 'header-signin' }));
    return;
  }
  const who = session
    ? h('span', { class: 'who', 'data-testid': 'session-label', title: `${session.kind} token` },
      session.label || `${session.kind} token`)
    : null;
  sessionEl.replaceChildren(...[who, h('button', {
    type: 'button', class: 'button button-small button-quiet', 'data-testid': 'signout', onclick: signOut,
  }, 'Sign out')].filter(Boolean));
}

async function refreshSession() {
  const token = getToken();
  session = null;
  renderSession();
  if (!token) return;
  try {
    session = await api.whoami(token);
  } catch {
    session = null;
  }
  renderSession();
}

function signOut() {
  clearToken();
  session = null;
  renderSession();
  location.hash = '#/';
  render();
}

let formCount = 0;

// The sign-in form. onSignedIn(whoami) runs after the token is stored.
export function signInForm(onSignedIn, intro) {
  const id = `signin-token-${++formCount}`;
  const input = h('input', {
    id, type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'wpt_…', 'data-testid': 'signin-token', 'aria-describedby': `${id}-help`,
  });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'button', 'data-testid': 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'signin', 'data-testid': 'signin-form', novalidate: true },
    h('h2', null, 'Sign in'),
    h('p', { id: `${id}-help`, class: 'muted' }, intro ||
      'Paste a read token (it starts with wpt_). It stays in this browser only, never in a link.'),
    h('label', { for: id }, 'Read token'),
    h('div', { class: 'signin-row' }, input, button),
    error,
    h('p', { class: 'muted small signin-hint' }, 'No token? An administrator makes one with ',
      h('code', null, 'wattprint admin create-token --kind organization --scope ORG_ID --read'), '.'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    if (!token) return fail('Paste a token first.');
    button.disabled = true;
    try {
      const who = await api.whoami(token);
      setToken(token);
      session = who;
      renderSession();
      onSignedIn(who);
    } catch (e) {
      if (e instanceof ApiError && e.status === 0) fail(`The collector could not be reached (${e.message}).`);
      else if (e instanceof ApiError) fail(`The collector refused this token: ${e.message} (HTTP ${e.status}).`);
      else fail(`Sign-in failed: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// ---------------------------------------------------------------- errors

function retryButton() {
  return h('button', { type: 'button', class: 'button', onclick: () => render(), 'data-testid': 'retry' }, 'Try again');
}

export function errorView(e) {
  const wrap = h('div', { class: 'page page-error' });
  setTitle('Error');
  if (!(e instanceof ApiError)) {
    wrap.append(messagePanel({
      title: 'This page could not be drawn',
      text: `Something went wrong while drawing it: ${e && e.message ? e.message : e}.`,
      actions: [retryButton()],
    }));
    return wrap;
  }
  const detail = e.url ? `Request: ${e.url}` : '';
  const home = link('#/', 'Go to the start page', { class: 'button button-quiet' });
  if (e.status === 401 || e.status === 403) {
    const refused = e.status === 401 && getToken();
    wrap.append(messagePanel({
      title: e.status === 401 ? (refused ? 'Your token was refused' : 'Sign-in needed') : 'Not allowed',
      text: e.status === 401
        ? (refused ? `The collector refused the saved token: ${e.message}. Sign in with another one.`
          : `This page needs a read token: ${e.message}.`)
        : `Your token may not read this: ${e.message}. Sign in with a token that may.`,
      detail,
      testid: `message-${e.status}`,
    }), signInForm(() => render()));
  } else if (e.status === 404) {
    wrap.append(messagePanel({ title: 'Not found', text: `Nothing here: ${e.message}.`, detail, testid: 'message-404', actions: [home] }));
  } else if (e.status === 0) {
    wrap.append(messagePanel({
      title: 'The collector could not be reached',
      text: `The browser got no answer from ${location.host} (${e.message}). Check that wattprint serve is running and reachable, then try again.`,
      detail, testid: 'message-network', actions: [retryButton()],
    }));
  } else {
    wrap.append(messagePanel({
      title: `The collector answered ${e.status}`, text: e.message, detail, testid: `message-${e.status}`,
      actions: [retryButton(), home],
    }));
  }
  return wrap;
}

// ---------------------------------------------------------------- pages

function publicProjectsSection(list) {
  const rows = list.map((p) => h('tr', { 'data-testid': 'public-project-row', 'data-id': p.id },
    h('th', { scope: 'row' }, link(`#/project/${encodeURIComponent(p.id)}`, p.name)),
    td(p.organization_name)));
  return section('Public projects', 'public-projects',
    h('p', { class: 'muted' }, 'Anyone may read these projects, without a token.'),
    table({
      caption: 'Public projects',
      testid: 'public-projects',
      columns: [{ label: 'Project' }, { label: 'Organisation' }],
      rows,
      empty: 'No project is public on this collector.',
    }));
}

async function landingPage(ctx) {
  ctx.setTitle('Start');
  ctx.setCrumbs([{ label: 'Start' }]);
  const token = getToken();
  let notice = null;
  if (token) {
    try {
      const who = await api.whoami(token);
      if (who.kind === 'organization') return ctx.redirect(`#/org/${encodeURIComponent(who.scope_id)}`);
      if (who.kind === 'project') return ctx.redirect(`#/project/${encodeURIComponent(who.scope_id)}`);
      const orgs = await api.organizations();
      if (orgs.length === 1) return ctx.redirect(`#/org/${encodeURIComponent(orgs[0].id)}`);
      return { node: orgListPage(orgs) };
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      notice = messagePanel({
        title: 'Your saved token was refused',
        text: `The collector refused it: ${e.message}. Sign in again, or read a public project.`,
        testid: 'message-401',
      });
    }
  }
  const list = await api.publicProjects();
  return {
    node: h('div', { class: 'page page-landing' },
      h('header', { class: 'page-head' },
        h('h1', null, 'Energy and carbon of your computing'),
        h('p', { class: 'lede' }, 'wattprint measures the energy (kWh) and emissions (kg CO₂e) of runs, ',
          'projects and cluster jobs. Sign in with a read token, or look at a public project.')),
      notice,
      h('div', { class: 'landing-grid' },
        signInForm(() => { location.hash = '#/'; render(); }),
        publicProjectsSection(list))),
  };
}

function orgListPage(orgs) {
  return h('div', { class: 'page' },
    h('h1', null, 'Organisations'),
    table({
      caption: 'Organisations',
      testid: 'organizations',
      columns: [{ label: 'Organisation' }, { label: 'Description' }],
      rows: orgs.map((o) => h('tr', null,
        h('th', { scope: 'row' }, link(`#/org/${encodeURIComponent(o.id)}`, o.name)), td(o.description || ''))),
    }));
}

async function signinPage(ctx) {
  ctx.setTitle('Sign in');
  ctx.setCrumbs([{ label: 'Start', href: '#/' }, { label: 'Sign in' }]);
  return {
    node: h('div', { class: 'page page-signin' },
      h('h1', null, 'Sign in'),
      signInForm(() => { location.hash = '#/'; })),
  };
}

// ---------------------------------------------------------------- start

function start() {
  document.getElementById('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main.setAttribute('tabindex', '-1');
    main.focus();
  });
  window.addEventListener('hashchange', () => render());
  window.addEventListener('storage', (ev) => {
    if (ev.key === 'wattprint.token') refreshSession().then(render);
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => render());
  refreshSession();
  render();
  loadUPlot().catch(() => {}); // warm, beside the page's first requests
}

start();
