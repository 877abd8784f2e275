// The console: a list of functions (#/), a page to create one (#/new), a page per function (#/fn/<name>) and the
// API keys and tenants (#/access, #/access/<tenant>), all over Granda's HTTP API (docs/http-api.md, docs/console.md).
// Plain ES modules, no build step, nothing from elsewhere.

import {
  h, append, clear, timeEl, clockTime, formatMs, formatGbSeconds, formatCount, copyButton, urlBox, spinner,
} from './dom.js';
import { api, buildStream, invoke, session, setUnauthorizedHandler, ApiError, NetworkError } from './api.js';
import { createEditor } from './editor.js';
import { usageChart, chartLegend } from './chart.js';
import { SAMPLES, sampleFor, languageOf } from './samples.js';

const main = document.getElementById('app');
const banner = document.getElementById('banner');
let view = null; // the view on screen: {signal, cleanups}
let flash = null; // a message for the next view, e.g. after a delete
let me = null; // who the signed-in key is (GET /whoami), null until signed in

// ---------------------------------------------------------------------------------------------------------------
// Messages: a banner for what concerns no field, the field's own message otherwise.

function describe(err) {
  if (err instanceof NetworkError || err instanceof ApiError) return err.message;
  return `Something went wrong in the console: ${err && err.message ? err.message : err}`;
}

function showBanner(message, kind = 'error') {
  clear(banner);
  banner.className = `banner ${kind}`;
  banner.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  banner.append(
    h('span', { class: 'banner-text', id: 'banner-text' }, message),
    h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss', onClick: hideBanner }, '×'));
  banner.hidden = false;
}

function hideBanner() {
  banner.hidden = true;
  clear(banner);
}

function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((e) => {
    e.textContent = '';
    e.hidden = true;
  });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/**
 * Shows an API error next to the field it names (its `field`), else in the form's own `.form-error` when it has one
 * (next to the form), else in the banner.
 */
function showError(form, err) {
  if (isUnauthorized(err)) return; // the sign-in page says it
  const name = err instanceof ApiError ? err.field : null;
  const field = name && form ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
  if (field) {
    const message = field.querySelector('.field-error');
    message.textContent = err.message;
    message.classList.toggle('multiline', err.message.includes('\n')); // a compiler's message, caret and all
    message.hidden = false;
    const control = field.querySelector('input, select, textarea');
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus({ preventScroll: true });
    }
    field.scrollIntoView({ block: 'center', behavior: 'smooth' });
    return;
  }
  const text = describe(err) + (name ? ` (field “${name}”)` : '');
  const box = form ? form.querySelector('.form-error') : null;
  if (box) {
    box.textContent = text;
    box.hidden = false;
    return;
  }
  showBanner(text);
}

window.addEventListener('error', (e) => showBanner(describe(e.error || e.message)));
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason && e.reason.name === 'AbortError') return;
  if (isUnauthorized(e.reason)) return;
  showBanner(describe(e.reason));
});

function isUnauthorized(err) {
  return err instanceof ApiError && err.status === 401;
}

// ---------------------------------------------------------------------------------------------------------------
// Signing in: the console sends the key on every API call; a 401 brings this page back.

function showIdentity() {
  const identity = document.getElementById('identity');
  const signOut = document.getElementById('sign-out');
  const keyed = me && me.apiKeysRequired;
  identity.hidden = !me;
  signOut.hidden = !keyed;
  identity.textContent = !me ? '' : keyed ? `${me.tenant} · ${me.role}${me.name ? ` (${me.name})` : ''}` : 'no key needed';
  identity.title = me && me.keyId ? `API key ${me.keyId}` : '';
  // A reader's key changes nothing: the console does not offer what the server would refuse.
  document.querySelectorAll('.topnav a[href$="#/new"]').forEach((a) => { a.hidden = !canChange(); });
}

/** @returns whether the signed-in key may change things (a reader key may only look) */
function canChange() {
  return !me || me.role !== 'reader';
}

/**
 * @returns whether the signed-in key may call the function from its page: a public function's URL needs no key, but
 *          the server refuses a reader's key a private one's (403 read_only_key: a call runs code and is billed)
 */
function canCall(fn) {
  return !fn.private || canChange();
}

/** Leaves whatever view is on screen (its requests are aborted, so it cannot draw over this) for the sign-in page. */
function toSignIn(message, kind = 'error') {
  me = null;
  session.signOut();
  showIdentity();
  if (view) {
    view.controller.abort();
    view.cleanups.forEach((f) => f());
  }
  const controller = new AbortController();
  view = { controller, signal: controller.signal, cleanups: [] };
  hideBanner();
  clear(main);
  signInView(message, kind);
}

/**
 * @returns why the console cannot work with a key, or null when it can: an invoker key only calls functions at their
 *          URLs, and the server refuses it every page's API (403 invoke_only_key), so it is told at sign-in rather
 *          than shown pages that all fail
 */
function unfitForConsole(who) {
  if (who.role !== 'invoker') return null;
  const scope = who.functions
    ? `only ${who.functions.length === 1 ? 'the function' : 'the functions'} ${who.functions.join(', ')}`
    : 'the private functions';
  return `This is an invoker key (${who.keyId}): it can call ${scope} of tenant ${who.tenant} at their URLs, and `
    + 'nothing else, so the console cannot work with it. Sign in with a tenant, reader or admin key.';
}

/** @return whether someone is signed in (or the server needs no key); else shows the sign-in page */
async function ensureSignedIn() {
  if (me) return true;
  const key = session.key();
  let who;
  try {
    who = await api.whoami({ key, signal: view.signal });
  } catch (err) {
    if (!isUnauthorized(err)) throw err;
    session.signOut();
    signInView(key ? `Your key was refused: ${err.message}` : null);
    return false;
  }
  const unfit = unfitForConsole(who);
  if (unfit) {
    session.signOut();
    signInView(unfit);
    return false;
  }
  me = who;
  showIdentity();
  return true;
}

function signInView(message, kind = 'error') {
  document.title = 'Sign in · Granda';
  const key = h('input', {
    type: 'password', id: 'signin-key', autocomplete: 'current-password', spellcheck: 'false',
    autocapitalize: 'off', placeholder: 'gk_…',
  });
  const form = h('form', { id: 'signin-form', class: 'form', novalidate: true });
  const keyField = field('key', 'API key', key, {
    wide: true, hint: 'The admin key Granda printed when it first started, or a tenant’s or reader’s key (an invoker '
      + 'key only calls functions). It is kept in this tab only, until you sign out or close it.',
  });
  const submit = submitRow('Sign in', 'signin-submit');
  form.append(h('div', { class: 'grid' }, keyField), submit.row);
  const fail = (text) => {
    const error = keyField.querySelector('.field-error');
    error.textContent = text;
    error.hidden = false;
    key.setAttribute('aria-invalid', 'true');
    key.focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const value = key.value.trim();
    if (!value) {
      fail('Enter an API key.');
      return;
    }
    busy(submit, 'Checking the key…');
    try {
      const who = await api.whoami({ key: value });
      const unfit = unfitForConsole(who);
      if (unfit) {
        // Not kept: the key is valid, but no page of the console would work with it.
        idle(submit);
        fail(unfit);
        return;
      }
      me = who;
      session.signIn(value);
      showIdentity();
      idle(submit);
      route();
    } catch (err) {
      idle(submit);
      fail(isUnauthorized(err) ? `That key was refused: ${err.message}` : describe(err));
    }
  });
  main.append(h('section', { class: 'card signin', id: 'signin' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Granda’s console works with an API key, like its HTTP API.'),
    message ? h('p', { class: `notice ${kind}`, id: 'signin-message', role: kind === 'error' ? 'alert' : 'status' },
      message) : null,
    form));
  key.focus();
}

setUnauthorizedHandler((err) => {
  if (me && !me.apiKeysRequired) return;
  toSignIn(`Your key no longer works (${err.message}). Sign in again.`);
});
document.getElementById('sign-out').addEventListener('click', () => toSignIn('You are signed out.', 'info'));

// ---------------------------------------------------------------------------------------------------------------
// Form pieces

let fieldIds = 0;

/** A labelled control with room for its error: <div class="field" data-field="name">. */
function field(name, label, control, { hint, wide, labelFor } = {}) {
  const target = labelFor || control;
  if (!target.id) target.id = `f${++fieldIds}-${name}`;
  const errorId = `${target.id}-error`;
  target.setAttribute('aria-describedby', errorId);
  if (!target.name) target.name = name;
  return h('div', { class: `field${wide ? ' wide' : ''}`, dataset: { field: name } },
    h('label', { for: target.id }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
}

const input = (attrs) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** A number field's value for the API: absent when empty, a number when it is one, else as typed (the API says why). */
function numberValue(el) {
  const raw = el.value.trim();
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

function nameField(form, value = '') {
  return field('name', 'Name', input({ value, placeholder: 'hello', 'data-1p-ignore': true, autocapitalize: 'off' }),
    { hint: 'Lowercase letters, digits and “-”; it starts the function’s URL.' });
}

/** Whether the function's URL needs a key: a checkbox, sent as `private`. */
function privateField(checked = false) {
  const box = h('input', { type: 'checkbox', name: 'private', id: `f${++fieldIds}-private`, checked });
  return h('div', { class: 'field check wide', dataset: { field: 'private' } },
    h('label', { for: box.id }, box, 'Private: calling its URL needs an API key of its tenant'),
    h('p', { class: 'field-error', hidden: true }));
}

function checkedOf(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.checked : false;
}

function settingsFields(fn = {}) {
  return [
    field('timeoutSeconds', 'Timeout (seconds)',
      input({ type: 'number', inputmode: 'numeric', min: 1, step: 1, value: fn.timeoutSeconds ?? 10 })),
    field('memoryMb', 'Memory (MiB)',
      input({ type: 'number', inputmode: 'numeric', min: 16, max: 4096, step: 16, value: fn.memoryMb ?? 128 })),
  ];
}

function valueOf(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value : undefined;
}

function submitRow(label, id) {
  const button = h('button', { type: 'submit', class: 'button primary', id }, label);
  const status = h('span', { class: 'submit-status', role: 'status' });
  return { row: h('div', { class: 'submit-row' }, button, status), button, status };
}

function busy(submit, text) {
  submit.button.disabled = true;
  clear(submit.status).append(spinner(text), ' ', text);
}

function idle(submit, text = '') {
  submit.button.disabled = false;
  clear(submit.status).append(text);
}

/** Asks for confirmation in a modal <dialog>; resolves true when confirmed. */
function confirmDialog(title, message, okLabel) {
  const dialog = document.getElementById('confirm-dialog');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  dialog.querySelector('#confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    dialog.querySelector('#confirm-cancel').focus();
  });
}

function statusPill(status, text) {
  const kind = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'ok';
  return h('span', { class: `pill ${kind}` }, text || String(status));
}

function outcomePill(outcome) {
  const kind = outcome === 'success' ? 'ok' : outcome === 'timeout' ? 'warn' : 'error';
  return h('span', { class: `pill ${kind}` }, (outcome || '').replace(/_/g, ' '));
}

function kindBadge(fn) {
  return fn.kind === 'code'
    ? h('span', { class: 'badge code' }, fn.runtime ? `code · ${fn.runtime}` : 'code')
    : h('span', { class: 'badge image' }, 'image');
}

function card(title, attrs = {}, ...children) {
  return h('section', { class: 'card', ...attrs },
    title ? h('div', { class: 'card-head' }, h('h2', {}, title)) : null, ...children);
}

// ---------------------------------------------------------------------------------------------------------------
// #/  the functions

async function listView() {
  document.title = 'Functions · Granda';
  const refresh = h('button', { type: 'button', class: 'button', onClick: () => route() }, 'Refresh');
  main.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'Functions'),
      h('p', { class: 'muted' }, 'Every function has a URL; calling it runs the function in its own container.')),
    h('div', { class: 'actions' }, refresh,
      canChange() ? h('a', { class: 'button primary', href: '#/new', id: 'new-function' }, 'New function') : null)));
  const box = h('section', { class: 'card flush' }, h('p', { class: 'loading' }, spinner(), ' Loading functions…'));
  main.append(box);

  const [list, usage] = await Promise.all([
    api.functions({ signal: view.signal }),
    api.allUsage('1h', { signal: view.signal }).catch((e) => (e.name === 'AbortError' ? Promise.reject(e) : null)),
  ]);
  clear(box);
  if (!list.items.length) {
    box.classList.remove('flush');
    box.append(h('div', { class: 'empty', id: 'no-functions' },
      h('h2', {}, 'No functions yet'),
      canChange() ? [
        h('p', {}, 'Create one from a container image, or from a few lines of Python, JavaScript, Go, Java or shell.'),
        h('a', { class: 'button primary', href: '#/new' }, 'Create a function')]
        : h('p', {}, 'Your key is read-only: functions appear here once a tenant key creates them.')));
    return;
  }
  const callsById = new Map(((usage && usage.functions) || []).map((f) => [f.id, f.calls]));
  const rows = list.items.map((fn) => {
    const lastCall = h('td', { 'data-label': 'Last call', class: 'last-call' }, h('span', { class: 'muted' }, '…'));
    api.invocations(fn.name, 1, null, { signal: view.signal })
      .then((page) => clear(lastCall).append(page.items.length ? timeEl(page.items[0].start) : h('span', { class: 'muted' }, 'never')))
      .catch(() => clear(lastCall).append(h('span', { class: 'muted' }, '?')));
    return h('tr', { dataset: { name: fn.name } },
      h('td', { 'data-label': 'Name', class: 'name' },
        h('a', { href: `#/fn/${encodeURIComponent(fn.name)}`, class: 'fn-link' }, fn.name),
        fn.description ? h('div', { class: 'muted small clamp' }, fn.description) : null),
      h('td', { 'data-label': 'Kind', class: 'kind-cell' },
        h('span', {}, kindBadge(fn), ' ', h('span', { class: 'muted small' }, fn.mode))),
      h('td', { 'data-label': 'Revision', class: 'num' }, String(fn.revision)),
      h('td', { 'data-label': 'URL', class: 'url-cell' },
        h('div', { class: 'url-inline' }, h('code', { class: 'url', title: fn.url }, fn.url), copyButton(fn.url))),
      lastCall,
      h('td', { 'data-label': 'Calls (1 h)', class: 'num calls-hour' }, formatCount(callsById.get(fn.id) || 0)));
  });
  box.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'function-list' },
    h('thead', {}, h('tr', {},
      h('th', {}, 'Name'), h('th', {}, 'Kind'), h('th', { class: 'num' }, 'Rev.'), h('th', {}, 'URL'),
      h('th', {}, 'Last call'), h('th', { class: 'num' }, 'Calls (1 h)'))),
    h('tbody', {}, rows))));
}

// ---------------------------------------------------------------------------------------------------------------
// #/new  create a function from an image or from code

async function newView(params) {
  document.title = 'New function · Granda';
  // The top bar hides the way here from a reader's key, but an address can still lead here.
  if (!canChange()) {
    main.append(h('section', { class: 'card empty', id: 'new-read-only-note' },
      h('h1', {}, 'New function'),
      h('p', {}, 'Your key is read-only: it cannot create functions. Sign in with a tenant key to create one.'),
      h('a', { class: 'button primary', href: '#/' }, 'All functions')));
    return;
  }
  let kind = params.get('kind') === 'code' ? 'code' : 'image';
  main.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'New function'),
      h('p', { class: 'muted' }, 'From a container image Granda pulls, or from code Granda builds into one.'))));

  const result = h('div', { id: 'create-result' });
  const imagePanel = h('div', { class: 'tab-panel', id: 'panel-image', role: 'tabpanel', 'aria-labelledby': 'tab-image' });
  const codePanel = h('div', { class: 'tab-panel', id: 'panel-code', role: 'tabpanel', 'aria-labelledby': 'tab-code' });
  const tabs = ['image', 'code'].map((k) => h('button', {
    type: 'button', role: 'tab', id: `tab-${k}`, class: 'tab', 'aria-controls': `panel-${k}`,
    onClick: () => selectTab(k),
  }, k === 'image' ? 'Image' : 'Code'));
  const selectTab = (k) => {
    kind = k;
    tabs.forEach((t) => t.setAttribute('aria-selected', String(t.id === `tab-${k}`)));
    imagePanel.hidden = k !== 'image';
    codePanel.hidden = k !== 'code';
    history.replaceState(null, '', k === 'code' ? '#/new?kind=code' : '#/new');
  };
  main.append(h('section', { class: 'card' },
    h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Create from' }, tabs),
    imagePanel, codePanel), result);
  imagePanel.append(imageForm(result));
  selectTab(kind);
  codePanel.append(h('p', { class: 'loading' }, spinner(), ' Loading runtimes…'));
  try {
    const runtimes = await api.runtimes({ signal: view.signal });
    clear(codePanel).append(codeForm(runtimes.items, result));
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    clear(codePanel).append(h('p', { class: 'error-text' }, `The runtimes could not be loaded: ${describe(e)}`));
  }
}

function imageForm(result) {
  const form = h('form', { id: 'image-form', class: 'form', novalidate: true });
  const submit = submitRow('Create function', 'image-submit');
  form.append(h('div', { class: 'grid' },
    nameField(form),
    field('image', 'Image', input({ placeholder: 'granda/hello', autocapitalize: 'off' }),
      { hint: 'Pulled when it is not on the engine yet.' }),
    field('description', 'Description', input({ placeholder: 'Greets whoever the payload names' }), { wide: true }),
    field('mode', 'Mode', select([['run', 'run: one container per call'], ['hot', 'hot: warm instances']], 'run')),
    ...settingsFields(), privateField()), submit.row);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    clear(result);
    const spec = {
      name: valueOf(form, 'name').trim(),
      description: valueOf(form, 'description'),
      image: valueOf(form, 'image').trim(),
      mode: valueOf(form, 'mode'),
      timeoutSeconds: numberValue(form.elements.namedItem('timeoutSeconds')),
      memoryMb: numberValue(form.elements.namedItem('memoryMb')),
      private: checkedOf(form, 'private'),
    };
    busy(submit, 'Creating (pulling the image if needed)…');
    try {
      const fn = await api.create(spec);
      idle(submit);
      result.append(createdCard(fn));
      result.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    } catch (err) {
      idle(submit);
      showError(form, err);
    }
  });
  return form;
}

function codeForm(runtimes, result) {
  const form = h('form', { id: 'code-form', class: 'form', novalidate: true });
  const byName = new Map(runtimes.map((r) => [r.name, r]));
  const first = byName.has('python') ? 'python' : (runtimes[0] && runtimes[0].name);
  // "Python 3 (handler.py: ...)" is shown as "Python 3"; the handler file is in the code's label.
  const runtimeSelect = select(runtimes.map((r) => [r.name, (r.description || r.name).split(' (')[0]]), first);
  const editor = createEditor({ id: 'code-editor', value: sampleFor(first), language: languageOf(first), rows: 12 });
  const codeLabel = h('span', {}, 'Code');
  const manifest = h('textarea', { rows: 4, spellcheck: 'false', class: 'mono', id: 'code-dependencies' });
  const manifestLabel = h('span', {});
  const manifestField = field('dependencies', manifestLabel, manifest,
    { hint: 'Optional: installed when the image is built.', wide: true });
  const codeField = field('code', codeLabel, editor.element, { labelFor: editor.textarea, wide: true,
    hint: 'Tab indents; press Escape then Tab to leave the editor.' });
  const untouched = (text) => text.trim() === '' || Object.values(SAMPLES).includes(text);
  const onRuntime = () => {
    const r = byName.get(runtimeSelect.value);
    if (!r) return;
    codeLabel.textContent = `Code (${r.handlerFile})`;
    if (untouched(editor.value)) editor.value = sampleFor(r.name);
    editor.setLanguage(languageOf(r.name));
    manifestField.hidden = !r.manifestFile;
    manifestLabel.textContent = r.manifestFile ? `Dependencies (${r.manifestFile})` : 'Dependencies';
  };
  runtimeSelect.addEventListener('change', onRuntime);
  onRuntime();

  const submit = submitRow('Build and create', 'code-submit');
  form.append(h('div', { class: 'grid' },
    nameField(form),
    field('runtime', 'Runtime', runtimeSelect),
    field('description', 'Description', input({ placeholder: 'What it does' }), { wide: true }),
    codeField, manifestField,
    ...settingsFields(), privateField()), submit.row);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    clear(result);
    const r = byName.get(runtimeSelect.value);
    const spec = {
      name: valueOf(form, 'name').trim(),
      description: valueOf(form, 'description'),
      runtime: runtimeSelect.value,
      code: editor.value,
      timeoutSeconds: numberValue(form.elements.namedItem('timeoutSeconds')),
      memoryMb: numberValue(form.elements.namedItem('memoryMb')),
      private: checkedOf(form, 'private'),
    };
    if (r && r.manifestFile && manifest.value.trim()) spec.dependencies = manifest.value;
    busy(submit, 'Building…');
    const build = buildPanel(`Building ${spec.name || 'the function'}`);
    result.append(build.element);
    try {
      const fn = await buildStream('POST', '/functions', spec, build.line);
      build.done(true, fn.build && fn.build.durationMs);
      idle(submit);
      result.append(createdCard(fn));
      result.lastChild.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    } catch (err) {
      idle(submit);
      if (build.lines() === 0) {
        build.element.remove(); // refused before building: the field's message says why
      } else {
        build.done(false);
      }
      showError(form, err);
    }
  });
  return form;
}

/** The live build: a status line with the elapsed time, and the log as it streams. */
function buildPanel(title) {
  const started = performance.now();
  const status = h('div', { class: 'build-status', id: 'build-status' }, spinner('Building'), ' ', title, '…');
  const elapsed = h('span', { class: 'elapsed muted' }, '0.0 s');
  status.append(' ', elapsed);
  const log = h('pre', { class: 'log', id: 'build-log', tabindex: 0, 'aria-label': 'Build log' });
  const timer = setInterval(() => {
    elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  }, 100);
  view.cleanups.push(() => clearInterval(timer));
  let count = 0;
  const element = h('section', { class: 'card build', id: 'build-panel' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Build'), status), log);
  return {
    element,
    lines: () => count,
    line(text) {
      count++;
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      log.append(text + '\n');
      if (atBottom) log.scrollTop = log.scrollHeight;
    },
    done(ok, durationMs) {
      clearInterval(timer);
      const secs = ((durationMs ?? performance.now() - started) / 1000).toFixed(1);
      clear(status).append(ok
        ? h('span', { class: 'pill ok', id: 'build-result' }, `Built in ${secs} s`)
        : h('span', { class: 'pill error', id: 'build-result' }, 'Build failed'));
      element.classList.add(ok ? 'succeeded' : 'failed');
    },
  };
}

function createdCard(fn) {
  const href = `#/fn/${encodeURIComponent(fn.name)}`;
  return h('section', { class: 'card created', id: 'created' },
    h('div', { class: 'card-head' }, h('h2', {}, h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'),
      ` ${fn.name} is ready`), h('span', { class: 'muted' }, `revision ${fn.revision}`)),
    h('p', {}, 'Its URL runs it on every call:'),
    urlBox(fn.url, 'created-url'),
    h('pre', { class: 'snippet' }, `curl -X POST ${fn.url} -d 'World'`),
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href, id: 'open-function' }, `Open ${fn.name}`),
      h('a', { class: 'button', href: '#/' }, 'All functions')));
}

// ---------------------------------------------------------------------------------------------------------------
// #/fn/<name>  one function

async function functionView(name) {
  document.title = `${name} · Granda`;
  let fn;
  try {
    fn = await api.fn(name, { signal: view.signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      main.append(h('section', { class: 'card empty', id: 'not-found' },
        h('h1', {}, 'No such function'),
        h('p', {}, `There is no function named “${name}”. It may have been deleted.`),
        h('a', { class: 'button primary', href: '#/' }, 'All functions')));
      return;
    }
    throw e;
  }
  const editBox = h('div', { id: 'edit-box' });
  const deleteButton = h('button', { type: 'button', class: 'button danger', id: 'delete-function' }, 'Delete');
  const editButton = h('button', { type: 'button', class: 'button', id: 'edit-function' }, 'Edit');
  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Functions'), ' / ', name),
    h('div', { class: 'page-head' },
      h('div', { class: 'title-block' },
        h('h1', { id: 'function-name' }, fn.name),
        h('div', { class: 'badges' }, kindBadge(fn),
          h('span', { class: 'badge' }, fn.mode),
          h('span', { class: 'badge', id: 'function-revision' }, `revision ${fn.revision}`),
          h('span', { class: 'badge' }, `${fn.timeoutSeconds} s`),
          h('span', { class: 'badge' }, `${fn.memoryMb} MiB`),
          fn.private ? h('span', { class: 'badge', id: 'function-private' }, 'private') : null,
          me && me.role === 'admin' ? h('span', { class: 'badge muted' }, `tenant ${fn.tenant}`) : null),
        fn.description ? h('p', { class: 'description' }, fn.description) : null,
        h('p', { class: 'muted small' }, fn.kind === 'image' ? `Image ${fn.image}` : `Built image ${fn.image}`)),
      canChange() ? h('div', { class: 'actions' }, editButton, deleteButton) : null),
    urlBox(fn.url, 'function-url'),
    editBox);

  const invocations = invocationsCard(name, canCall(fn));
  const logs = logsCard(name);
  const usage = usageCard(name);
  const refresh = () => Promise.all([invocations.reload(), logs.reload(), usage.reload()]).catch((e) => {
    if (e.name !== 'AbortError') showBanner(describe(e));
  });
  main.append(h('div', { class: 'columns' }, invokeCard(fn, refresh), usage.element), invocations.element, logs.element);
  refresh();

  editButton.addEventListener('click', async () => {
    if (editBox.firstChild) {
      clear(editBox);
      editButton.textContent = 'Edit';
      return;
    }
    editButton.textContent = 'Close editor';
    editBox.append(h('section', { class: 'card' }, h('p', { class: 'loading' }, spinner(), ' Loading…')));
    try {
      const form = await editForm(fn);
      clear(editBox).append(form);
    } catch (e) {
      clear(editBox);
      editButton.textContent = 'Edit';
      showBanner(describe(e));
    }
  });
  deleteButton.addEventListener('click', async () => {
    const ok = await confirmDialog(`Delete ${name}?`,
      `Its URL stops answering at once and cannot be brought back (a new function of the same name gets a new URL). `
      + 'Its invocation records are kept for billing.', `Delete ${name}`);
    if (!ok) return;
    deleteButton.disabled = true;
    try {
      await api.remove(name);
      flash = { message: `Deleted ${name}.`, kind: 'info' };
      location.hash = '#/';
    } catch (e) {
      deleteButton.disabled = false;
      showBanner(describe(e));
    }
  });
}

function parseHeaders(text) {
  const headers = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ApiError(400, { error: 'invalid_request', field: 'headers', message: `Line ${i + 1} is not “Name: value”: ${line}` });
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function invokeCard(fn, onCalled) {
  if (!canCall(fn)) {
    return card('Invoke', { id: 'invoke' }, h('p', { class: 'muted', id: 'invoke-private-note' },
      'This function is private; a reader key cannot call it. A tenant key of its tenant can.'));
  }
  const form = h('form', { id: 'invoke-form', class: 'form', novalidate: true });
  const method = select(['POST', 'GET', 'PUT', 'PATCH', 'DELETE'].map((m) => [m, m]), 'POST', { id: 'invoke-method' });
  const body = h('textarea', { id: 'invoke-body', rows: 4, class: 'mono', spellcheck: 'false', placeholder: 'World' });
  const headers = h('textarea', { id: 'invoke-headers', rows: 2, class: 'mono', spellcheck: 'false', placeholder: 'Content-Type: text/plain' });
  const submit = submitRow('Send', 'invoke-send');
  const result = h('div', { id: 'invoke-result', class: 'invoke-result', 'aria-live': 'polite' });
  method.addEventListener('change', () => {
    body.disabled = method.value === 'GET';
  });
  form.append(h('div', { class: 'grid' },
    field('method', 'Method', method),
    field('headers', 'Headers', headers, { wide: true, hint: 'One “Name: value” per line (optional).' }),
    field('body', 'Body (the payload)', body, { wide: true })), submit.row);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    let hdrs;
    try {
      hdrs = parseHeaders(headers.value);
    } catch (err) {
      showError(form, err);
      return;
    }
    busy(submit, 'Calling…');
    try {
      const r = await invoke(fn.path, method.value, body.value, hdrs);
      idle(submit);
      append(clear(result), [invokeResult(r)]);
      onCalled();
    } catch (err) {
      idle(submit);
      clear(result).append(h('p', { class: 'error-text' }, describe(err)));
    }
  });
  return card('Invoke', { id: 'invoke' }, form, result);
}

function invokeResult(r) {
  let text = r.text;
  if (r.contentType.includes('json')) {
    try {
      text = JSON.stringify(JSON.parse(r.text), null, 2);
    } catch {
      // as sent
    }
  }
  const cold = r.cold === 'true';
  return [
    h('div', { class: 'result-meta' },
      h('span', { id: 'invoke-status' }, statusPill(r.status, `${r.status} ${r.statusText || ''}`.trim())),
      r.outcome ? outcomePill(r.outcome) : null,
      r.cold ? h('span', { class: `pill ${cold ? 'cold' : 'warm'}`, id: 'invoke-cold' }, cold ? 'cold' : 'warm') : null,
      h('span', { class: 'metric', id: 'invoke-duration' },
        h('strong', {}, r.durationMs !== null ? `${r.durationMs} ms` : formatMs(r.elapsedMs)), ' in Granda'),
      r.runMs !== null ? h('span', { class: 'metric' }, h('strong', {}, `${r.runMs} ms`), ' run') : null,
      r.revision ? h('span', { class: 'metric' }, `rev. ${r.revision}`) : null),
    r.invocationId ? h('p', { class: 'muted small mono', id: 'invoke-id' }, `invocation ${r.invocationId}`) : null,
    h('pre', { class: 'output', id: 'invoke-output' }, text === '' ? h('span', { class: 'muted' }, '(empty body)') : text),
  ];
}

function usageCard(name) {
  const ranges = [['1h|minute', 'Last hour, by minute'], ['24h|hour', 'Last 24 hours, by hour'], ['7d|hour', 'Last 7 days, by hour']];
  const range = select(ranges, '1h|minute', { id: 'usage-range', 'aria-label': 'Window' });
  const totals = h('dl', { class: 'totals', id: 'usage-totals' });
  const chart = h('div', { class: 'chart-box', id: 'usage-chart' });
  const cost = h('p', { class: 'muted small cost', id: 'usage-cost' });
  let stop = null;
  const reload = async () => {
    const [since, granularity] = range.value.split('|');
    const u = await api.usage(name, since, granularity, { signal: view.signal });
    clear(totals).append(
      h('div', {}, h('dt', {}, 'Calls'), h('dd', { id: 'usage-calls' }, formatCount(u.calls))),
      h('div', {}, h('dt', {}, 'Failed'), h('dd', {}, formatCount(u.errors + u.timeouts + u.outOfMemory))),
      h('div', {}, h('dt', {}, 'Cold starts'), h('dd', {}, formatCount(u.coldStarts))),
      h('div', {}, h('dt', {}, 'GB-seconds'), h('dd', {}, formatGbSeconds(u.gbSeconds))));
    cost.textContent = `Cost of the window: ${formatGbSeconds(Number(u.cost.total))} ${u.cost.currency} `
      + `(${u.prices.perMillionRequests} per million calls, ${u.prices.perGbSecond} per GB-second).`;
    if (stop) stop();
    stop = usageChart(chart, u);
  };
  view.cleanups.push(() => stop && stop());
  range.addEventListener('change', () => reload().catch((e) => showBanner(describe(e))));
  const element = h('section', { class: 'card', id: 'usage' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Usage'), range), totals, chartLegend(), chart, cost);
  return { element, reload };
}

/** @param callable whether the page offers to call the function (then the empty history points there) */
function invocationsCard(name, callable) {
  const PAGE = 10;
  const tbody = h('tbody', {});
  const more = h('button', { type: 'button', class: 'button', id: 'invocations-more', hidden: true }, 'Load more');
  const empty = h('p', { class: 'muted empty-row', hidden: true },
    callable ? 'No calls yet: invoke it above.' : 'No calls yet.');
  let cursor = null;
  const row = (r) => h('tr', { dataset: { id: r.invocationId } },
    h('td', { 'data-label': 'Started' }, h('time', { datetime: r.start, title: new Date(r.start).toLocaleString() }, clockTime(r.start))),
    h('td', { 'data-label': 'Outcome' }, outcomePill(r.outcome)),
    h('td', { 'data-label': 'Duration', class: 'num' }, formatMs(r.durationMs)),
    h('td', { 'data-label': 'Run', class: 'num' }, formatMs(r.runMs)),
    h('td', { 'data-label': 'Start' }, r.cold ? h('span', { class: 'pill cold' }, 'cold') : h('span', { class: 'pill warm' }, 'warm')),
    h('td', { 'data-label': 'Rev.', class: 'num' }, String(r.revision)),
    h('td', { 'data-label': 'GB-s', class: 'num' }, formatGbSeconds(r.gbSeconds)),
    h('td', { 'data-label': 'Id', class: 'mono small muted id-cell' }, r.invocationId));
  const load = async (reset) => {
    const page = await api.invocations(name, PAGE, reset ? null : cursor, { signal: view.signal });
    if (reset) clear(tbody);
    page.items.forEach((r) => tbody.append(row(r)));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = tbody.children.length > 0;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load(false);
    } catch (e) {
      showBanner(describe(e));
    } finally {
      more.disabled = false;
    }
  });
  const element = card('Invocations', { id: 'invocations' },
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'invocations-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Started'), h('th', {}, 'Outcome'), h('th', { class: 'num' }, 'Duration'),
        h('th', { class: 'num' }, 'Run'), h('th', {}, 'Start'), h('th', { class: 'num' }, 'Rev.'),
        h('th', { class: 'num' }, 'GB-s'), h('th', {}, 'Invocation'))),
      tbody)),
    empty, h('div', { class: 'more' }, more));
  return { element, reload: () => load(true) };
}

function logsCard(name) {
  const list = h('div', { class: 'log-list', id: 'logs-list' });
  const note = h('span', { class: 'muted small' });
  const reload = async () => {
    const logs = await api.logs(name, { signal: view.signal });
    note.textContent = `the last ${logs.capacity} calls, kept in memory`;
    clear(list);
    if (!logs.items.length) {
      list.append(h('p', { class: 'muted' }, 'No calls since the server started.'));
      return;
    }
    logs.items.forEach((c, i) => list.append(h('details', { class: 'log-entry', open: i === 0, dataset: { id: c.invocationId } },
      h('summary', {},
        statusPill(c.status), ' ', outcomePill(c.outcome), ' ',
        h('time', { datetime: c.start, title: new Date(c.start).toLocaleString() }, clockTime(c.start)),
        h('span', { class: 'muted' }, ` · ${formatMs(c.durationMs)} · ${c.cold ? 'cold' : 'warm'}`
          + (c.exitCode !== null ? ` · exit ${c.exitCode}` : '')),
        h('span', { class: 'mono small muted id-cell' }, c.invocationId)),
      c.logTail ? h('pre', { class: 'log small-log' }, c.logTail) : h('p', { class: 'muted small no-log' }, 'No log output.'))));
  };
  const element = h('section', { class: 'card', id: 'logs' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Recent logs'), note), list);
  return { element, reload };
}

/** Edits settings (PUT with If-Match); a function from code may also get new code, built like a create. */
async function editForm(fn) {
  const form = h('form', { id: 'edit-form', class: 'form', novalidate: true });
  const fields = [field('description', 'Description', input({ value: fn.description }), { wide: true })];
  let editor = null;
  let deps = null;
  let runtime = null;
  let originalCode = null;
  let originalDeps = null;
  let otherFiles = {};
  if (fn.kind === 'image') {
    fields.push(field('image', 'Image', input({ value: fn.image })),
      field('mode', 'Mode', select([['run', 'run: one container per call'], ['hot', 'hot: warm instances']], fn.mode)));
  } else {
    const [runtimes, source] = await Promise.all([api.runtimes(), api.source(fn.name)]);
    runtime = runtimes.items.find((r) => r.name === fn.runtime);
    const files = source.files || [];
    const handler = files.find((f) => runtime && f.path === runtime.handlerFile);
    const manifestFile = runtime && runtime.manifestFile;
    const manifest = files.find((f) => f.path === manifestFile);
    const binary = files.some((f) => f.encoding !== 'utf-8');
    if (handler && !binary) {
      originalCode = handler.content;
      editor = createEditor({ id: 'edit-code', value: originalCode, language: languageOf(fn.runtime), rows: 14 });
      fields.push(field('code', `Code (${runtime.handlerFile})`, editor.element, { labelFor: editor.textarea, wide: true,
        hint: 'Changing the code builds a new image; the current revision serves until it is ready.' }));
      if (manifestFile) {
        originalDeps = manifest ? manifest.content : '';
        deps = h('textarea', { rows: 3, class: 'mono', spellcheck: 'false', value: originalDeps });
        fields.push(field('dependencies', `Dependencies (${manifestFile})`, deps, { wide: true }));
      }
      files.filter((f) => f !== handler && f !== manifest).forEach((f) => { otherFiles[f.path] = f.content; });
    } else {
      fields.push(h('p', { class: 'hint wide' }, 'This function’s source has files the console cannot edit; '
        + 'upload a new archive through the API to change its code.'));
    }
  }
  fields.push(...settingsFields(fn), privateField(fn.private));
  const submit = submitRow('Save', 'edit-save');
  const buildBox = h('div', {});
  form.append(h('div', { class: 'grid' }, fields), submit.row, buildBox);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    clear(buildBox);
    const spec = {
      description: valueOf(form, 'description'),
      timeoutSeconds: numberValue(form.elements.namedItem('timeoutSeconds')),
      memoryMb: numberValue(form.elements.namedItem('memoryMb')),
      env: fn.env,
      keepAliveSeconds: fn.keepAliveSeconds,
      maxInstances: fn.maxInstances,
      concurrency: fn.concurrency,
      minInstances: fn.minInstances,
      private: checkedOf(form, 'private'),
    };
    if (fn.kind === 'image') {
      spec.image = valueOf(form, 'image').trim();
      spec.mode = valueOf(form, 'mode');
      if (spec.mode === 'run') spec.minInstances = 0;
    }
    const newCode = editor && (editor.value !== originalCode || (deps && deps.value !== originalDeps));
    busy(submit, newCode ? 'Building…' : 'Saving…');
    try {
      let updated;
      if (newCode) {
        Object.assign(spec, { runtime: fn.runtime, code: editor.value });
        if (deps && deps.value.trim()) spec.dependencies = deps.value;
        if (Object.keys(otherFiles).length) spec.files = otherFiles;
        const build = buildPanel(`Building revision ${fn.revision + 1}`);
        buildBox.append(build.element);
        try {
          updated = await buildStream('PUT', `/functions/${encodeURIComponent(fn.name)}`, spec, build.line, { revision: fn.revision });
          build.done(true, updated.build && updated.build.durationMs);
        } catch (err) {
          if (build.lines() === 0) build.element.remove();
          else build.done(false);
          throw err;
        }
      } else {
        updated = await api.update(fn.name, spec, fn.revision);
      }
      flash = { message: `Saved ${updated.name}: revision ${updated.revision}.`, kind: 'info' };
      route();
    } catch (err) {
      idle(submit);
      showError(form, err);
    }
  });
  return h('section', { class: 'card', id: 'edit' }, h('div', { class: 'card-head' }, h('h2', {}, 'Edit settings')), form);
}

// ---------------------------------------------------------------------------------------------------------------
// #/access, #/access/<tenant>  who the key is, a tenant's API keys and (admin keys) the tenants

async function accessView(chosen) {
  document.title = 'Access · Granda';
  const admin = me.role === 'admin';
  // A tenant key manages its own tenant's keys only; an admin key the tenant chosen in the list (its own at first).
  const tenant = admin && chosen ? chosen : me.tenant;
  main.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'Access'),
      h('p', { class: 'muted' }, admin
        ? 'Who you are signed in as, the tenants, and the API keys of each.'
        : 'Who you are signed in as, and your tenant’s API keys.'))),
    whoamiCard());
  let tenants = null;
  if (admin) {
    tenants = tenantsCard(tenant);
    main.append(tenants.element);
  }
  const keys = keysCard(tenant, admin);
  main.append(keys.element);
  await Promise.all([tenants && tenants.reload(), keys.reload()]);
}

function whoamiCard() {
  const keyed = me.apiKeysRequired;
  return card('Signed in as', { id: 'whoami' },
    h('dl', { class: 'totals facts' },
      h('div', {}, h('dt', {}, 'Tenant'), h('dd', { id: 'whoami-tenant' }, me.tenant)),
      h('div', {}, h('dt', {}, 'Role'), h('dd', { id: 'whoami-role' }, me.role)),
      h('div', {}, h('dt', {}, 'Key name'), h('dd', { id: 'whoami-name' }, me.name || (keyed ? '(none)' : '—'))),
      h('div', {}, h('dt', {}, 'Key id'), h('dd', { id: 'whoami-key', class: 'mono' }, me.keyId || '—'))),
    keyed ? null : h('p', { class: 'muted small' }, 'This server needs no API key: everyone acts as an admin.'));
}

/** The tenants (admin keys only): each leads to its keys; and a form to create one. */
function tenantsCard(chosen) {
  const tbody = h('tbody', {});
  const message = h('p', { class: 'status-text', id: 'tenants-message', role: 'status', tabindex: -1 });
  const error = h('p', { class: 'field-error', id: 'tenants-error', role: 'alert', hidden: true });
  const element = card('Tenants', { id: 'tenants' },
    message, error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'tenant-list' },
      h('caption', { class: 'offscreen' }, 'Tenants; choose one to manage its keys'),
      h('thead', {}, h('tr', {}, h('th', {}, 'Tenant'), h('th', {}, 'Created'), h('th', {}, 'Keys'),
        h('th', {}, h('span', { class: 'offscreen' }, 'Delete')))),
      tbody)),
    h('h3', { class: 'sub' }, 'Create a tenant'),
    createTenantForm());
  const reload = async () => {
    const list = await api.tenants({ signal: view.signal });
    append(clear(tbody), list.items.map((t) => {
      const href = `#/access/${encodeURIComponent(t.id)}`;
      const current = t.id === chosen;
      // The default tenant always exists; the server refuses to delete it, so the console does not offer to.
      const remove = t.id === 'default' ? null : h('button', {
        type: 'button', class: 'button small danger', dataset: { deleteTenant: t.id },
        'aria-label': `Delete tenant ${t.id}`,
      }, 'Delete');
      if (remove) remove.addEventListener('click', () => deleteTenant(t.id, remove));
      return h('tr', { dataset: { tenant: t.id }, class: current ? 'current' : null },
        h('td', { 'data-label': 'Tenant', class: 'name' },
          h('a', { href, class: 'fn-link', 'aria-current': current ? 'true' : null }, t.id)),
        h('td', { 'data-label': 'Created' }, timeEl(t.createdAt)),
        h('td', { 'data-label': 'Keys' }, current
          ? h('span', { class: 'badge' }, 'shown below')
          : h('a', { href, class: 'button small', 'aria-label': `Manage the keys of ${t.id}` }, 'Manage keys')),
        h('td', { 'data-label': 'Delete', class: 'key-action' }, remove || h('span', { class: 'muted' }, '—')));
    }));
  };
  const deleteTenant = async (id, button) => {
    const ok = await confirmDialog(`Delete tenant ${id}?`,
      'Every key of the tenant is revoked at once. A tenant that still has functions is not deleted: delete them '
      + 'first. The id is not given out again.', 'Delete tenant');
    if (!ok) return;
    error.hidden = true;
    message.textContent = '';
    button.disabled = true;
    try {
      await api.deleteTenant(id);
    } catch (err) {
      button.disabled = false;
      if (isUnauthorized(err)) return; // the sign-in page says it
      // Still has functions (409, naming them), the last admin keys (409), or gone meanwhile (404).
      error.textContent = describe(err);
      error.hidden = false;
      button.focus();
      return;
    }
    if (id === chosen) {
      flash = { message: `Deleted tenant ${id}; its keys are revoked.`, kind: 'info' };
      location.hash = '#/access';
      return;
    }
    try {
      await reload();
    } catch (err) {
      if (err.name === 'AbortError' || isUnauthorized(err)) return;
      error.textContent = describe(err);
      error.hidden = false;
    }
    message.textContent = `Deleted tenant ${id}; its keys are revoked.`;
    message.focus();
  };
  return { element, reload };
}

function createTenantForm() {
  const form = h('form', { id: 'tenant-form', class: 'form', novalidate: true });
  const submit = submitRow('Create tenant', 'tenant-submit');
  form.append(h('div', { class: 'grid' },
    field('id', 'Tenant id', input({ placeholder: 'acme', autocapitalize: 'off', 'data-1p-ignore': true }), {
      hint: 'Like a function name: 1 to 63 lowercase letters, digits and “-”, starting with a letter and not '
        + 'ending with “-”. It cannot be changed.',
    })), submit.row, formError());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    busy(submit, 'Creating…');
    try {
      const t = await api.createTenant(valueOf(form, 'id').trim());
      flash = { message: `Created tenant ${t.id}. It has no keys yet: create one below.`, kind: 'info' };
      location.hash = `#/access/${encodeURIComponent(t.id)}`;
    } catch (err) {
      idle(submit);
      showError(form, err);
    }
  });
  return form;
}

/** Where a form's errors that name none of its fields go: next to the form rather than in the banner. */
function formError() {
  return h('p', { class: 'field-error form-error', role: 'alert', hidden: true });
}

/** A tenant's keys: revoked ones too, each live one with "Revoke"; a form to create one, whose secret shows once. */
function keysCard(tenant, admin) {
  const reader = me.role === 'reader';
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'muted empty-row', id: 'no-keys', hidden: true }, 'No keys yet: create one below.');
  const message = h('p', { class: 'status-text', id: 'keys-message', role: 'status', tabindex: -1 });
  const error = h('p', { class: 'field-error', id: 'keys-error', role: 'alert', hidden: true });
  const issued = h('div', { id: 'new-key-box' });
  const reload = async () => {
    let list;
    try {
      list = await api.keys(tenant, { signal: view.signal });
    } catch (err) {
      if (!(err instanceof ApiError) || isUnauthorized(err)) throw err;
      // No such tenant (404), or another tenant's (403): said in the card, the rest of the page stands.
      showKeysError(err);
      return;
    }
    append(clear(tbody), list.items.map(keyRow));
    empty.hidden = list.items.length > 0;
  };
  const showKeysError = (err) => {
    error.textContent = describe(err);
    error.hidden = false;
  };
  const keyRow = (k) => {
    const own = k.keyId === me.keyId;
    const revoke = k.revokedAt || reader ? null : h('button', {
      type: 'button', class: 'button small danger', dataset: { revoke: k.keyId },
      'aria-label': `Revoke ${keyLabel(k)}`,
    }, 'Revoke');
    if (revoke) revoke.addEventListener('click', () => revokeKey(k, revoke));
    return h('tr', { dataset: { keyId: k.keyId }, class: k.revokedAt ? 'revoked' : null },
      h('td', { 'data-label': 'Name', class: 'name' },
        h('span', { class: 'key-name' }, k.name || h('span', { class: 'muted' }, '(no name)')),
        own ? h('span', { class: 'badge own-key' }, 'signed in with this key') : null),
      h('td', { 'data-label': 'Key id', class: 'mono small id-cell' }, k.keyId),
      h('td', { 'data-label': 'Role' }, k.role, k.role === 'invoker' ? keyScope(k) : null),
      h('td', { 'data-label': 'Created' }, timeEl(k.createdAt)),
      h('td', { 'data-label': 'Status', class: 'key-status' }, keyStatus(k)),
      h('td', { 'data-label': 'Revoke', class: 'key-action' }, revoke || h('span', { class: 'muted' }, '—')));
  };
  const revokeKey = async (k, button) => {
    const own = k.keyId === me.keyId;
    const ok = await confirmDialog(`Revoke ${keyLabel(k)}?`,
      'Whatever uses it is refused from its next request on, and a revoked key cannot be brought back.'
      + (own ? ' It is the key you are signed in with: the console signs you out.' : ''), 'Revoke key');
    if (!ok) return;
    error.hidden = true;
    message.textContent = '';
    button.disabled = true;
    try {
      await api.revokeKey(k.keyId);
    } catch (err) {
      button.disabled = false;
      if (isUnauthorized(err)) return; // the sign-in page says it
      showKeysError(err);
      button.focus();
      return;
    }
    if (own) {
      toSignIn(`You revoked the key you were signed in with (${k.keyId}). Sign in with another key.`, 'info');
      return;
    }
    try {
      await reload();
    } catch (err) {
      if (err.name === 'AbortError' || isUnauthorized(err)) return;
      showKeysError(err);
    }
    message.textContent = `Revoked ${keyLabel(k)}.`;
    message.focus();
  };
  const element = card(`Keys of ${tenant}`, { id: 'keys', dataset: { tenant } },
    message, error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table responsive', id: 'key-list' },
      h('caption', { class: 'offscreen' }, `API keys of ${tenant}`),
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Key id'), h('th', {}, 'Role'),
        h('th', {}, 'Created'), h('th', {}, 'Status'), h('th', {}, h('span', { class: 'offscreen' }, 'Revoke')))),
      tbody)),
    empty,
    reader ? h('p', { class: 'muted', id: 'read-only-note' },
      'Your key is read-only: it shows this tenant’s keys but cannot make or revoke any.')
      : [h('h3', { class: 'sub' }, 'Create a key'), createKeyForm(tenant, admin, issued, reload)],
    issued);
  return { element, reload };
}

/** What an invoker key may call: the functions it names, or every private function of its tenant. */
function keyScope(k) {
  return h('span', { class: 'muted small key-scope' }, k.functions
    ? `calls ${k.functions.join(', ')}` : `calls every private function of ${k.tenant}`);
}

function keyLabel(k) {
  return k.name ? `key “${k.name}” (${k.keyId})` : `key ${k.keyId}`;
}

/** Active, revoked (when), and when it expires if it does (`expiresAt`, which a server may leave out). */
function keyStatus(k) {
  if (k.revokedAt) return [h('span', { class: 'pill error' }, 'revoked'), ' ', timeEl(k.revokedAt)];
  if (!k.expiresAt) return h('span', { class: 'pill ok' }, 'active');
  const at = Date.parse(k.expiresAt);
  const past = !Number.isNaN(at) && at <= Date.now();
  const when = Number.isNaN(at) ? k.expiresAt
    : new Date(at).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  return [h('span', { class: `pill ${past ? 'error' : 'ok'}` }, past ? 'expired' : 'active'), ' ',
    h('span', { class: 'muted small key-expiry' }, past ? '' : 'expires ',
      h('time', { datetime: k.expiresAt, title: Number.isNaN(at) ? null : new Date(at).toLocaleString() }, when))];
}

function createKeyForm(tenant, admin, issued, onCreated) {
  const form = h('form', { id: 'key-form', class: 'form', novalidate: true });
  const submit = submitRow('Create key', 'key-submit');
  const fields = [field('name', 'Name', input({ placeholder: 'ci', maxlength: 100, 'data-1p-ignore': true }),
    { hint: 'A label to tell keys apart, such as where the key is used (at most 100 characters).' })];
  fields.push(field('expiresInDays', 'Expires', select([
    ['', 'never'], ['7', 'in 7 days'], ['30', 'in 30 days'], ['90', 'in 90 days'], ['365', 'in a year'],
  ], ''), { hint: 'From then on the key is refused, as if revoked.' }));
  const roles = [
    ['tenant', `tenant: ${tenant}’s functions and keys`],
    ['reader', `reader: looks at ${tenant}’s functions, usage and keys, changes nothing`],
    ['invoker', `invoker: calls ${tenant}’s private functions, nothing else`],
  ];
  if (admin) roles.push(['admin', 'admin: every tenant, its functions and keys']);
  const role = select(roles, 'tenant');
  fields.push(field('role', 'Role', role, {
    hint: (admin ? 'An admin key can do everything; give it sparingly. ' : '')
      + 'A reader key suits dashboards and monitoring; an invoker key, an app that only calls functions.',
  }));
  // Only an invoker key may be limited to some functions: the field shows for that role only.
  const functions = field('functions', 'Functions it may call',
    input({ placeholder: 'resize, thumbnail', autocapitalize: 'off', 'data-1p-ignore': true }), {
      wide: true,
      hint: `Function names, separated by commas; leave empty for every private function of ${tenant}. A name `
        + 'need not exist yet: a function created later under it can be called with the key.',
    });
  const showFunctions = () => { functions.hidden = role.value !== 'invoker'; };
  role.addEventListener('change', showFunctions);
  fields.push(functions);
  showFunctions();
  form.append(h('div', { class: 'grid' }, fields), submit.row, formError());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    hideBanner();
    clear(issued);
    const spec = { name: valueOf(form, 'name').trim() };
    const days = valueOf(form, 'expiresInDays');
    if (days) spec.expiresInDays = Number(days);
    spec.role = valueOf(form, 'role');
    if (spec.role === 'invoker') {
      const names = valueOf(form, 'functions').split(',').map((n) => n.trim()).filter((n) => n);
      if (names.length) spec.functions = names;
    }
    busy(submit, 'Creating…');
    try {
      const key = await api.createKey(tenant, spec);
      form.reset();
      showFunctions();
      idle(submit, 'Key created: copy it now, it is shown only once.');
      const panel = newKeyPanel(key, () => {
        clear(issued);
        idle(submit);
        form.elements.namedItem('name').focus();
      });
      issued.append(panel.element);
      panel.secret.focus();
      panel.secret.select();
      onCreated().catch((err) => {
        if (err.name !== 'AbortError') showBanner(describe(err));
      });
    } catch (err) {
      idle(submit);
      showError(form, err);
    }
  });
  return form;
}

/**
 * The new key, once: Granda keeps only its hash, and the console keeps it nowhere (not in the page's state, not in
 * storage), so leaving or reloading the page loses it for good.
 */
function newKeyPanel(key, onDone) {
  const secret = h('input', {
    type: 'text', id: 'new-key-secret', class: 'mono secret', readonly: true, value: key.key,
    spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', 'aria-describedby': 'new-key-note',
  });
  const done = h('button', { type: 'button', class: 'button', id: 'new-key-done' }, 'I have saved it');
  done.addEventListener('click', onDone);
  const element = h('section', { class: 'new-key', id: 'new-key', 'aria-labelledby': 'new-key-title' },
    h('h3', { id: 'new-key-title' }, h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'),
      ` New ${key.role} key for ${key.tenant}`),
    h('p', { id: 'new-key-note', class: 'new-key-note' },
      h('strong', {}, 'Copy it now: you will not see it again. '),
      'Granda keeps only a hash of it. If it is lost, create another key and revoke this one.',
      key.expiresAt ? [' It expires ', h('time', { datetime: key.expiresAt, id: 'new-key-expiry' },
        new Date(Date.parse(key.expiresAt)).toLocaleString()), '.'] : null,
      key.role === 'invoker' ? [' It ', h('span', { id: 'new-key-scope' }, key.functions
        ? `can call only ${key.functions.join(', ')}` : `can call every private function of ${key.tenant}`),
      ', and nothing else.'] : null),
    h('div', { class: 'field' },
      h('label', { for: secret.id }, `API key ${key.name ? `“${key.name}” ` : ''}(${key.keyId})`),
      h('div', { class: 'secret-box' }, secret, copyButton(() => secret.value, 'Copy'))),
    h('div', { class: 'actions' }, done));
  return { element, secret };
}

// ---------------------------------------------------------------------------------------------------------------
// The router, and what shows when a view fails

function notFoundView() {
  document.title = 'Not found · Granda';
  main.append(h('section', { class: 'card empty' }, h('h1', {}, 'Nothing here'),
    h('p', {}, 'This page of the console does not exist.'), h('a', { class: 'button primary', href: '#/' }, 'All functions')));
}

function failedView(err) {
  clear(main).append(h('section', { class: 'card empty failure', id: 'view-error' },
    h('h1', {}, err instanceof NetworkError ? 'Granda cannot be reached' : 'This page could not be loaded'),
    h('p', {}, describe(err)),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button primary', onClick: () => route() }, 'Try again'),
      h('a', { class: 'button', href: '#/' }, 'All functions'))));
}

/** The top bar's entry a page belongs to: 'new', 'access' or 'functions' (the list and each function's page). */
function section(hash) {
  if (hash.startsWith('#/new')) return 'new';
  if (hash.startsWith('#/access')) return 'access';
  return 'functions';
}

function markNav(hash) {
  document.querySelectorAll('.topnav a').forEach((a) => {
    const active = section(a.getAttribute('href').replace(/^\/console/, '')) === section(hash);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

async function route() {
  if (view) {
    view.controller.abort();
    view.cleanups.forEach((f) => f());
  }
  const controller = new AbortController();
  view = { controller, signal: controller.signal, cleanups: [] };
  const mine = view;
  hideBanner();
  if (flash) {
    showBanner(flash.message, flash.kind);
    flash = null;
  }
  clear(main);
  const hash = location.hash || '#/';
  markNav(hash);
  let m;
  try {
    if (!(await ensureSignedIn())) return;
    if (view !== mine) return;
    if (hash === '#/' || hash === '#') await listView();
    else if ((m = /^#\/new(?:\?(.*))?$/.exec(hash))) await newView(new URLSearchParams(m[1] || ''));
    else if ((m = /^#\/fn\/([^/?#]+)$/.exec(hash))) await functionView(decodeURIComponent(m[1]));
    else if ((m = /^#\/access(?:\/([^/?#]+))?$/.exec(hash))) await accessView(m[1] ? decodeURIComponent(m[1]) : null);
    else notFoundView();
  } catch (err) {
    if (err && err.name === 'AbortError') return;
    if (isUnauthorized(err)) return; // the sign-in page is on screen
    if (view === mine) failedView(err);
  }
}

async function checkHealth() {
  const dot = document.getElementById('server-status');
  if (!dot) return;
  try {
    const res = await fetch('/health', { headers: { Accept: 'application/json' } });
    const body = await res.json().catch(() => ({}));
    const up = res.ok && body.status === 'UP';
    dot.className = `server-status ${up ? 'up' : 'down'}`;
    dot.textContent = up ? 'online' : 'degraded';
    dot.title = up ? 'Granda and its Docker engine answer' : 'Granda answers, but a component is down: see /health';
  } catch {
    dot.className = 'server-status down';
    dot.textContent = 'offline';
    dot.title = 'Granda does not answer';
  }
}

window.addEventListener('hashchange', route);
route();
checkHealth();
setInterval(checkHealth, 30_000);
