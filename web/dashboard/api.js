// The collector's API: GET with the read token from localStorage, errors as
// ApiError with the status and the server's message.

const TOKEN_KEY = 'wattprint.token';

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message, url, field = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0: the collector could not be reached
    this.url = url;
    this.field = field;
  }
}

function headers(token, accept) {
  const h = { Accept: accept };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function errorOf(res, url) {
  let message = `${res.status} ${res.statusText}`.trim();
  let field = '';
  try {
    const body = await res.json();
    if (body && typeof body.error === 'string') message = body.error;
    if (body && typeof body.field === 'string') field = body.field;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message, url, field);
}

async function request(path, accept, token) {
  let res;
  try {
    res = await fetch(path, { headers: headers(token, accept), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, String((e && e.message) || e), path); // "Failed to fetch"...
  }
  if (!res.ok) throw await errorOf(res, path);
  return res;
}

// GET a JSON answer. `token` defaults to the stored one.
export async function getJson(path, token = getToken()) {
  const res = await request(path, 'application/json', token);
  try {
    return await res.json();
  } catch {
    throw new ApiError(res.status, 'the collector sent an answer that is not JSON', path);
  }
}

export async function getBlob(path, token = getToken()) {
  const res = await request(path, 'text/csv', token);
  return res.blob();
}

// A query string from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export const api = {
  whoami: (token) => getJson('/api/v1/whoami', token),
  publicProjects: () => getJson('/api/v1/public/projects', ''),
  organizations: () => getJson('/api/v1/organizations'),
  orgTotals: (org) => getJson(`/api/v1/organizations/${enc(org)}/totals`),
  orgProjects: (org) => getJson(`/api/v1/organizations/${enc(org)}/projects`),
  orgSeries: (org, bucket = 'week') => getJson(`/api/v1/organizations/${enc(org)}/series${query({ bucket })}`),
  orgJobs: (org, limit = 50, offset = 0) => getJson(`/api/v1/organizations/${enc(org)}/jobs${query({ limit, offset })}`),
  project: (p) => getJson(`/api/v1/projects/${enc(p)}`),
  projectTotals: (p) => getJson(`/api/v1/projects/${enc(p)}/totals`),
  projectSeries: (p, bucket = 'day') => getJson(`/api/v1/projects/${enc(p)}/series${query({ bucket })}`),
  experiments: (p) => getJson(`/api/v1/projects/${enc(p)}/experiments`),
  experimentTotals: (e) => getJson(`/api/v1/experiments/${enc(e)}/totals`),
  runs: (p, params) => getJson(`/api/v1/projects/${enc(p)}/runs${query(params)}`),
  runsCsv: (p, params) => getBlob(`/api/v1/projects/${enc(p)}/runs.csv${query(params)}`),
  run: (r) => getJson(`/api/v1/runs/${enc(r)}`),
  runTotals: (r) => getJson(`/api/v1/runs/${enc(r)}/totals`),
  runSeries: (r) => getJson(`/api/v1/runs/${enc(r)}/series`),
  alternatives: (r, top = 5) => getJson(`/api/v1/runs/${enc(r)}/alternatives${query({ top })}`),
  budgets: (year) => getJson(`/api/v1/budgets${query({ year })}`),
  job: (cluster, job) => getJson(`/api/v1/jobs/${enc(cluster)}/${enc(job)}`),
};

// A hash route with its query: hashOf('/project/p', {sort: 'energy'}).
export function hashOf(path, params = {}) {
  return `#${path}${query(params)}`;
}
