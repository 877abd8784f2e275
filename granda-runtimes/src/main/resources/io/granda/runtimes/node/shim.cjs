'use strict';
/*
 * Granda's shim for Node.js functions: serves the hot protocol (docs/hot-functions.md) and calls handler.js.
 *
 * The function's directory is the parent of the .granda/ directory this file is in (/app in the image). Two styles
 * (docs/runtimes.md):
 *
 * - module: handler.js exports a function (module.exports = fn, exports.handle = fn, export default fn or
 *   export function handle). It is loaded once, before the socket exists (its load time is the instance's init time),
 *   and called for every request; it may return a promise.
 * - program: handler.js exports nothing (the original Granda's scripts read process.argv[2]). It is run for every
 *   request as `node handler.js <payload>` with the payload on stdin too; exit 0 answers 200 with its stdout, any
 *   other exit 502 with the same JSON Granda answers for a failing run-mode function.
 *
 * Which style a file is, is read from its text, not by loading it: a program must not run at start. A file is a
 * module when it assigns module.exports or exports.<name>, or has an export statement.
 *
 * The file ends in .cjs so that it stays CommonJS in a package whose package.json says "type": "module".
 * Only Node's own modules are used, and nothing newer than Node 18.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const { pathToFileURL } = require('url');

const APP_DIR = path.dirname(__dirname);
const HANDLER_FILE = path.join(APP_DIR, 'handler.js');

const MAX_ARGUMENT_BYTES = 128 * 1024; // Linux's MAX_ARG_STRLEN, with its terminating NUL
const LOG_TAIL_BYTES = 4096;           // how much of a failed program's stderr the 502 answer carries
const OUTPUT_HEAD_BYTES = 4096;        // ...and of its stdout
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'content-length']);
const MODULE_PATTERN = /\bmodule\.exports\b|\bexports\.[A-Za-z_$][\w$]*\s*=|^\s*export\s+(default\b|async\b|function\b|const\b|let\b|var\b|\{)/m;

// ---------------------------------------------------------------------------------------------------------------------
// requests and responses

/** Headers whose names compare without case: request.headers['Content-Type'] is request.headers['content-type']. */
function caseInsensitive(headers) {
  const key = (name) => (typeof name === 'string' ? name.toLowerCase() : name);
  return new Proxy(headers, {
    get: (target, name) => target[key(name)],
    has: (target, name) => key(name) in target,
    getOwnPropertyDescriptor: (target, name) => Object.getOwnPropertyDescriptor(target, key(name)),
    set: () => false,
    deleteProperty: () => false,
  });
}

/** One call, as the handler receives it (docs/runtimes.md). */
function makeRequest(req, body) {
  const target = req.url;
  const question = target.indexOf('?');
  const rawPath = question < 0 ? target : target.slice(0, question);
  const rawQuery = question < 0 ? '' : target.slice(question + 1);
  const query = {};
  const queryAll = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    if (!(name in queryAll)) {
      queryAll[name] = [];
      query[name] = value;
    }
    queryAll[name].push(value);
  }
  let decodedPath;
  try {
    decodedPath = decodeURIComponent(rawPath);
  } catch (e) {
    decodedPath = rawPath; // a malformed escape: the path as sent
  }
  return {
    method: req.method,
    path: decodedPath,
    rawPath,
    query,
    queryAll,
    rawQuery,
    headers: caseInsensitive(req.headers),
    header: (name) => req.headers[String(name).toLowerCase()],
    body,
    get text() {
      return body.toString('utf8');
    },
    json() {
      return body.length ? JSON.parse(body.toString('utf8')) : null;
    },
  };
}

function isResponseObject(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) {
    return false;
  }
  const keys = Object.keys(value);
  const status = value.status !== undefined ? value.status : value.statusCode;
  return typeof status === 'number' && keys.every((k) => ['status', 'statusCode', 'headers', 'body'].includes(k));
}

/** What the handler returned, as {status, headers: [[name, value]], body: Buffer}; throws when it cannot be one. */
function toResponse(result) {
  if (result === undefined || result === null) {
    return { status: 204, headers: [], body: Buffer.alloc(0) };
  }
  let status = 200;
  let headers = [];
  let body = result;
  if (isResponseObject(result)) {
    status = result.status !== undefined ? result.status : result.statusCode;
    for (const [name, value] of Object.entries(result.headers || {})) {
      for (const one of Array.isArray(value) ? value : [value]) {
        headers.push([String(name), String(one)]);
      }
    }
    body = result.body;
  }
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`the status must be an integer from 200 to 599, not ${status}`);
  }
  let contentType = null;
  if (body === undefined || body === null) {
    body = Buffer.alloc(0);
  } else if (typeof body === 'string') {
    body = Buffer.from(body, 'utf8');
    contentType = 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(body) || body instanceof Uint8Array || body instanceof ArrayBuffer) {
    body = Buffer.from(body);
    contentType = 'application/octet-stream';
  } else if (typeof body === 'object' || typeof body === 'number' || typeof body === 'boolean') {
    body = Buffer.from(JSON.stringify(body), 'utf8');
    contentType = 'application/json';
  } else {
    throw new TypeError(`cannot answer with a ${typeof body}: return a string, a Buffer, an object (JSON), `
      + 'undefined, or {status, headers, body}');
  }
  headers = headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
  if (contentType && !headers.some(([name]) => name.toLowerCase() === 'content-type')) {
    headers.unshift(['Content-Type', contentType]);
  }
  return { status, headers, body };
}

function textResponse(status, text, contentType = 'text/plain; charset=utf-8') {
  return { status, headers: [['Content-Type', contentType]], body: Buffer.from(text, 'utf8') };
}

function send(res, response) {
  const headers = {};
  for (const [name, value] of response.headers) {
    const key = name.toLowerCase();
    (headers[key] = headers[key] || { name, values: [] }).values.push(value);
  }
  res.statusCode = response.status;
  for (const { name, values } of Object.values(headers)) {
    res.setHeader(name, values.length === 1 ? values[0] : values);
  }
  if (response.status !== 204 && response.status !== 304) {
    res.setHeader('Content-Length', response.body.length);
  }
  res.end(response.status === 204 || response.status === 304 ? undefined : response.body); // HEAD: Node sends none
}

// ---------------------------------------------------------------------------------------------------------------------
// the module style

async function loadHandler() {
  const mod = await import(pathToFileURL(HANDLER_FILE).href);
  const exported = mod.default;
  if (typeof exported === 'function') {
    return exported;
  }
  if (exported && typeof exported.handle === 'function') {
    return exported.handle.bind(exported);
  }
  if (typeof mod.handle === 'function') {
    return mod.handle;
  }
  throw new Error('handler.js exports no function: use module.exports = async (request) => ..., '
    + 'exports.handle = ..., export default ... or export function handle');
}

function moduleServer(handle) {
  return async (request) => {
    try {
      return toResponse(await handle(request));
    } catch (e) {
      const trace = (e && e.stack) || String(e);
      process.stderr.write(trace + '\n');
      return textResponse(500, trace + '\n');
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// the program style

function fitsInOneArgument(payload) {
  return payload.length > 0 && payload.length < MAX_ARGUMENT_BYTES && !payload.includes(0);
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (e) {
    // already gone
  }
}

function failure(message, exitCode, out, err) {
  const tail = err.length > LOG_TAIL_BYTES ? err.subarray(err.length - LOG_TAIL_BYTES) : err;
  return textResponse(502, JSON.stringify({
    error: 'function_error', message, exitCode,
    logTail: tail.toString('utf8'), output: out.subarray(0, OUTPUT_HEAD_BYTES).toString('utf8'),
  }), 'application/json');
}

/** Runs handler.js once for a request, as Granda's run mode would run it. */
function runProgram(request) {
  return new Promise((resolve) => {
    const args = [HANDLER_FILE];
    // An argument is a string: a payload that is not valid UTF-8 arrives on stdin only.
    const text = request.body.toString('utf8');
    if (fitsInOneArgument(request.body) && Buffer.from(text, 'utf8').equals(request.body)) {
      args.push(text);
    }
    const env = { ...process.env, GRANDA_METHOD: request.method, GRANDA_PATH: request.rawPath,
      GRANDA_QUERY: request.rawQuery };
    delete env.GRANDA_SOCKET; // the child is a run-mode program, not a second server
    // detached: a process group of its own, so that a deadline kills whatever the program started too.
    const child = spawn(process.execPath, args, { cwd: APP_DIR, env, detached: true });
    const out = [];
    const err = [];
    let killedAtDeadline = false;
    let exit = null;
    const timeoutMs = parseInt(request.header('granda-timeout-ms'), 10);
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => {
      killedAtDeadline = true;
      killGroup(child.pid);
    }, timeoutMs) : null;
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => {
      err.push(chunk);
      process.stderr.write(chunk);
    });
    child.stdin.on('error', () => {}); // EPIPE: it exited without reading all of stdin
    child.stdin.end(request.body);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      killGroup(child.pid); // it exited; something it started may keep its output open
    });
    child.on('close', (code, signal) => {
      if (timer) {
        clearTimeout(timer);
      }
      const { code: exitCode, signal: bySignal } = exit || { code, signal };
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      if (killedAtDeadline) {
        resolve(failure(`handler.js was still running at its deadline (${timeoutMs} ms) and was killed`, null,
          stdout, stderr));
      } else if (exitCode === 0) {
        resolve({ status: 200, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: stdout });
      } else if (exitCode === null) {
        const number = require('os').constants.signals[bySignal] || 0;
        resolve(failure(`handler.js was killed by signal ${number} (${bySignal})`, 128 + number, stdout, stderr));
      } else {
        resolve(failure(`handler.js exited with code ${exitCode}`, exitCode, stdout, stderr));
      }
    });
    child.on('error', (e) => {
      if (timer) {
        clearTimeout(timer);
      }
      resolve(failure(`handler.js could not be started: ${e.message}`, null, Buffer.alloc(0),
        Buffer.from(String(e.message))));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// HTTP

/**
 * Listens on socketPath: bound under a temporary name and renamed into place once listening, as Granda takes the
 * socket's existence as readiness; connectable by anyone (umask 0), as Granda may run as another user.
 */
function listen(server, socketPath) {
  return new Promise((resolve, reject) => {
    fs.mkdirSync(path.dirname(socketPath), { recursive: true });
    const temporary = socketPath + '.new';
    for (const stale of [socketPath, temporary]) {
      fs.rmSync(stale, { force: true });
    }
    const oldMask = process.umask(0);
    server.once('error', reject);
    server.listen(temporary, () => {
      process.umask(oldMask);
      fs.renameSync(temporary, socketPath);
      resolve();
    });
  });
}

async function main() {
  const socketPath = process.env.GRANDA_SOCKET;
  if (!socketPath) {
    process.stderr.write('granda: GRANDA_SOCKET is not set: this image is a hot function and serves on that unix '
      + 'socket (docs/hot-functions.md)\n');
    process.exit(2);
  }
  const source = fs.readFileSync(HANDLER_FILE, 'utf8');
  const isModule = MODULE_PATTERN.test(source);
  const serve = isModule ? moduleServer(await loadHandler()) : runProgram;

  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    if (req.headers['transfer-encoding'] !== undefined) {
      res.shouldKeepAlive = false;
      send(res, textResponse(501, 'request bodies must have a Content-Length\n'));
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve()
        .then(() => serve(makeRequest(req, Buffer.concat(chunks))))
        .catch((e) => { // the shim's own failure: still an answer
          const trace = (e && e.stack) || String(e);
          process.stderr.write(trace + '\n');
          return textResponse(500, trace + '\n');
        })
        .then((response) => send(res, response));
    });
  });
  // Granda keeps connections open between calls and has its own deadlines: Node's idle and request timeouts would
  // only close connections Granda means to reuse.
  server.keepAliveTimeout = 0;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.timeout = 0;
  await listen(server, socketPath);

  const stop = (signal) => {
    fs.rmSync(socketPath, { force: true });
    process.exit(128 + require('os').constants.signals[signal]);
  };
  process.on('SIGTERM', stop); // as PID 1, SIGTERM does nothing unless handled
  process.on('SIGINT', stop);
  process.stderr.write(`granda: node ${process.version} serving handler.js (${isModule ? 'module' : 'program'}) `
    + `on ${socketPath}\n`);
}

main().catch((e) => {
  process.stderr.write(`granda: cannot start: ${(e && e.stack) || e}\n`);
  process.exit(1);
});
