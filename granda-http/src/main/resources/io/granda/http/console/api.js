// Granda's HTTP API, as the console uses it (docs/http-api.md). Every failure becomes an ApiError (the API's JSON
// error: {error, message, field}) or a NetworkError (no answer at all), so the views can say what went wrong.
// Every call carries the API key the user signed in with (kept in sessionStorage: this tab only, gone when it
// closes); a 401 tells the app, which asks for a key again.

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback || `Granda answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.error) || 'http_' + status;
    this.field = (body && body.field) || null;
    this.body = body || null;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super(`Cannot reach Granda at ${location.origin}: the server may be stopped or the network down`
      + (cause && cause.message ? ` (${cause.message})` : '') + '.');
    this.name = 'NetworkError';
  }
}

const enc = encodeURIComponent;
const KEY = 'granda.apiKey';

/** The signed-in key, kept for this tab only. */
export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

let onUnauthorized = () => {};

/** Called with the ApiError of every 401 the API answers (a missing, wrong or revoked key). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function authorization(key = session.key()) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function send(method, path, { json, headers = {}, signal, key } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...authorization(key), ...headers }, signal };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let res;
  let text;
  try {
    res = await fetch(path, init);
    text = await res.text();
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, body, `Granda answered ${res.status} ${res.statusText}`.trim());
    // A key being tried (sign-in) is the caller's to judge; the session's key refused means signing in again.
    if (res.status === 401 && key === undefined) onUnauthorized(err);
    throw err;
  }
  if (text && body === null) {
    throw new ApiError(res.status, null, `Granda answered ${res.status} with something that is not JSON`);
  }
  return { body, res };
}

async function get(path, opts) {
  return (await send('GET', path, opts)).body;
}

export const api = {
  /** Who a key is; with {key: null} asks whether the server needs a key at all. */
  whoami: (opts) => get('/whoami', opts),
  runtimes: (opts) => get('/runtimes', opts),
  functions: (opts) => get('/functions', opts),
  fn: (name, opts) => get(`/functions/${enc(name)}`, opts),
  source: (name, opts) => get(`/functions/${enc(name)}/source`, opts),
  create: async (spec) => (await send('POST', '/functions', { json: spec })).body,
  update: async (name, spec, revision) => (await send('PUT', `/functions/${enc(name)}`, {
    json: spec, headers: revision ? { 'If-Match': `"${revision}"` } : {},
  })).body,
  remove: (name) => send('DELETE', `/functions/${enc(name)}`),
  invocations: (name, limit, cursor, opts) => get(`/functions/${enc(name)}/invocations?limit=${limit}`
    + (cursor ? `&cursor=${enc(cursor)}` : ''), opts),
  usage: (name, since, granularity, opts) => get(`/functions/${enc(name)}/usage?since=${enc(since)}`
    + (granularity ? `&granularity=${granularity}` : ''), opts),
  allUsage: (since, opts) => get(`/usage?since=${enc(since)}`, opts),
  logs: (name, opts) => get(`/functions/${enc(name)}/logs`, opts),
  tenants: (opts) => get('/tenants', opts),
  createTenant: async (id) => (await send('POST', '/tenants', { json: { id } })).body,
  deleteTenant: (id) => send('DELETE', `/tenants/${enc(id)}`),
  keys: (tenant, opts) => get(`/tenants/${enc(tenant)}/keys`, opts),
  /** The answer carries the key itself (`key`): the only time Granda ever shows it. */
  createKey: async (tenant, spec) => (await send('POST', `/tenants/${enc(tenant)}/keys`, { json: spec })).body,
  revokeKey: (keyId) => send('DELETE', `/keys/${enc(keyId)}`),
};

/**
 * Creates (POST) or updates (PUT) a function from source with ?stream=true and reads the NDJSON answer as it comes:
 * onLine(text) for every {"log": ...} line; resolves with the function of the final {"status": 2xx, "function"} line;
 * rejects with an ApiError for a refusal (before the stream: the HTTP status; in it: the last line's status and error).
 */
export async function buildStream(method, path, spec, onLine, { revision } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/x-ndjson', ...authorization() };
  if (revision) headers['If-Match'] = `"${revision}"`;
  let res;
  try {
    res = await fetch(path + (path.includes('?') ? '&' : '?') + 'stream=true',
      { method, headers, body: JSON.stringify(spec) });
  } catch (e) {
    throw new NetworkError(e);
  }
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok || !type.includes('ndjson') || !res.body) {
    let body = null;
    try {
      body = JSON.parse(await res.text());
    } catch {
      body = null;
    }
    if (res.ok && body && body.name) return body; // a server that answered without streaming
    const err = new ApiError(res.status, body, `Granda answered ${res.status} ${res.statusText}`.trim());
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  let final = null;
  const handle = (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      onLine(line);
      return;
    }
    if (typeof msg.log === 'string') {
      onLine(msg.log);
    } else if ('status' in msg) {
      final = msg;
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    handle(buffered);
  } catch (e) {
    throw new NetworkError(e);
  }
  if (!final) {
    throw new NetworkError({ message: 'the build stream ended before its result; the build may still be running' });
  }
  if (final.status >= 200 && final.status < 300 && final.function) return final.function;
  throw new ApiError(final.status, final.error, 'the build failed');
}

/**
 * Calls a function's URL as a browser would, and reports what came back with Granda's X-Granda-* headers. The key
 * goes as X-Granda-Key (a private function needs it; Granda never passes it on), so that an Authorization header the
 * user adds reaches the function.
 */
export async function invoke(path, method, body, headers) {
  const key = session.key();
  const init = { method, headers: { ...(key ? { 'X-Granda-Key': key } : {}), ...headers } };
  if (method !== 'GET' && method !== 'HEAD') init.body = body;
  const started = performance.now();
  let res;
  let text;
  try {
    res = await fetch(path, init);
    text = await res.text();
  } catch (e) {
    throw new NetworkError(e);
  }
  const header = (n) => res.headers.get(n);
  return {
    status: res.status,
    statusText: res.statusText,
    contentType: header('Content-Type') || '',
    text,
    elapsedMs: performance.now() - started,
    invocationId: header('X-Granda-Invocation-Id'),
    outcome: header('X-Granda-Outcome'),
    revision: header('X-Granda-Revision'),
    cold: header('X-Granda-Cold'),
    durationMs: header('X-Granda-Duration-Ms'),
    runMs: header('X-Granda-Run-Ms'),
  };
}
