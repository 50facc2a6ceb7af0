// What every page shares: where the service is, the admin token, a connection banner and small
// DOM helpers. Pages run in two places: inside the desktop app (the app tells them the port and
// the admin token) and in a browser from http://127.0.0.1:<VIEWER_PORT>/ (the engine tells them
// the port; the admin token is typed by the user or passed as #token=… in the address).

import { PispasClient } from './pispas.js';

const TOKEN_KEY = 'pispas.adminToken';

/** Whether the page runs inside the desktop app. */
export function inApp() {
  return typeof window !== 'undefined' && !!window.__TAURI_INTERNALS__;
}

/** Calls a desktop app command (only inside the app). */
export function appInvoke(cmd, args = {}) {
  return window.__TAURI_INTERNALS__.invoke(cmd, args);
}

/** The admin token this tab knows: from #token=… (then removed from the address) or typed earlier. */
export function storedToken() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function rememberToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Where a paired kitchen tablet keeps its display token (kitchen LAN listener). */
export const DISPLAY_TOKEN_KEY = 'pispas.kitchen.token';

/** Where the service is, read again before every (re)connect. */
export async function resolveEndpoint({ admin }) {
  if (inApp()) {
    const e = await appInvoke('endpoint');
    if (e.STATE !== 'RUNNING') {
      const err = new Error(e.MESSAGE || `the service is ${String(e.STATE).toLowerCase()}`);
      err.endpoint = e;
      throw err;
    }
    return { host: '127.0.0.1', port: e.PORT, token: admin ? e.TOKEN : undefined };
  }
  const res = await fetch('/endpoint.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`endpoint.json: HTTP ${res.status}`);
  const e = await res.json();
  // The kitchen LAN listener (a paired tablet): the same host and port, the display's token.
  if (e.LAN) return { host: location.hostname.replace(/^\[|\]$/g, ''), port: e.PORT, token: localStorage.getItem(DISPLAY_TOKEN_KEY) || undefined };
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname);
  const host = loopback ? location.hostname.replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port: e.PORT, token: admin ? storedToken() || undefined : undefined };
}

/** A client for this page (the @pispas/local SDK, built into ./pispas.js from packages/client);
 * `admin` pages connect with the admin token. */
export function createClient({ admin = false } = {}) {
  return new PispasClient({
    resolve: async () => {
      const e = await resolveEndpoint({ admin });
      const host = String(e.host).includes(':') ? `[${e.host}]` : e.host;
      // A page served over http cannot use the self-signed wss:// certificate; the app can't either.
      const url = location.protocol === 'https:' ? [`wss://${host}:${e.port}`, `ws://${host}:${e.port}`] : `ws://${host}:${e.port}`;
      return { url, token: e.token };
    },
    probeUrls: [],
  });
}

/** The banner's word for a connection state (and why it is down, when known). */
export function connectionWord({ state, diagnosis }) {
  if (state === 'open') return { key: 'open', text: 'Connected' };
  if (state === 'idle') return { key: 'idle', text: 'Not connected' };
  if (state === 'closed') return { key: 'closed', text: 'Disconnected' };
  if (diagnosis) {
    const blocked = diagnosis.code === 'LNA_BLOCKED' || diagnosis.code === 'LNA_PROMPT';
    return blocked
      ? { key: 'blocked', text: 'Blocked by the browser (Local Network Access)' }
      : { key: 'unreachable', text: 'Not answering — retrying…' };
  }
  return state === 'reconnecting'
    ? { key: 'reconnecting', text: 'Connection lost — reconnecting…' }
    : { key: 'connecting', text: 'Connecting to the service…' };
}

/** Keeps a banner element in step with the connection state. */
export function showConnection(client, banner) {
  // Short words in the banner; the full sentence in its tooltip (the pages show it in full where
  // it matters, e.g. the status page's failure box).
  const update = (change) => {
    const { key, text } = connectionWord(change);
    banner.dataset.state = key;
    banner.textContent = text;
    banner.title = change.state === 'open' ? change.url || '' : change.diagnosis ? `${change.diagnosis.message} (${change.diagnosis.detail})` : '';
  };
  update({ state: client.state, url: client.url, diagnosis: client.lastDiagnosis });
  return client.on('state', update);
}

/** Creates an element: el('td', {class: 'x', onclick: fn}, 'text', child…). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Local date and time with milliseconds. */
export function fmtTime(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function fmtDuration(us) {
  if (us === null || us === undefined) return '';
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

export function fmtUptime(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** Navigation between pages: app windows in the app, links in a browser. */
export function wireNav(root = document) {
  for (const a of root.querySelectorAll('a[data-page]')) {
    a.addEventListener('click', (ev) => {
      if (!inApp()) return;
      ev.preventDefault();
      appInvoke('open_page', { page: a.dataset.page }).catch(() => {});
    });
  }
}

/**
 * Shows the admin token form inside `box` when the page has no token (browser only); calls
 * `onToken` with the typed token.
 */
export function askToken(box, message, onToken) {
  box.replaceChildren(
    el(
      'form',
      {
        class: 'token-form',
        onsubmit: (ev) => {
          ev.preventDefault();
          const t = ev.target.elements.token.value.trim();
          if (t) {
            rememberToken(t);
            onToken(t);
          }
        },
      },
      el('p', { role: 'alert' }, message),
      el('label', { for: 'token' }, 'Admin token'),
      el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true }),
      el('button', { type: 'submit' }, 'Continue'),
      el(
        'p',
        { class: 'hint' },
        'The token is in the file admin_token in the service data folder (or ADMIN_TOKEN in the configuration). ' +
          'The desktop app opens this page without asking.',
      ),
    ),
  );
  box.hidden = false;
  box.querySelector('input')?.focus();
}
