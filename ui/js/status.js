// The status window: the service state, its address and TLS, each module's health, the devices,
// connected clients, payments running or unresolved, the last errors and the version. Polls BASE
// STATUS (no admin token needed) and the payment journals every two seconds and on every
// DEVICE_STATE event, so it is live without a page reload.

import { createClient, showConnection, el, fmtTime, fmtUptime, wireNav, inApp, appInvoke } from './page.js';

const POLL_MS = 2000;
const PAYMENT_TARGETS = ['MYPOS', 'PAYTEF', 'CASHGUARD'];
// A payment still running, or one whose outcome nobody knows (amber until resolved).
const OPEN_STATES = ['RECEIVED', 'SENT', 'IN_PROGRESS', 'UNKNOWN_OUTCOME'];
const $ = (id) => document.getElementById(id);
const client = createClient();
let timer = null;

wireNav();
showConnection(client, $('conn'));
client.on('state', ({ state, diagnosis }) => {
  if (state !== 'open' && (diagnosis || state === 'reconnecting')) showDown(diagnosis);
});
client.on('open', () => refresh());
client.on('DEVICE_STATE', () => refresh());
$('retry').addEventListener('click', async () => {
  if (inApp()) await appInvoke('restart_service').catch(() => {});
  $('failure-text').textContent = 'Trying again…';
  setTimeout(() => client.connect().catch(() => {}), 1000);
});
client.connect().catch(() => {});

async function showDown(diagnosis) {
  let message = diagnosis ? diagnosis.message : 'The connection to the service was lost; reconnecting…';
  if (inApp()) {
    try {
      const e = await appInvoke('endpoint');
      if (e.STATE === 'FAILED') message = e.MESSAGE;
      else if (e.STATE === 'STARTING') message = 'The service is starting…';
    } catch { /* keep the client's words */ }
  }
  setHero('problem', 'The Pispas service is not running', message);
  $('failure-text').textContent = message;
  $('failure').hidden = false;
}

function setHero(level, headline, subline) {
  $('hero').dataset.level = level;
  $('headline').textContent = headline;
  $('subline').textContent = subline;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const s = await client.call('BASE', 'STATUS', {}, { timeoutMs: 5000 });
    render(s);
    await renderPayments(s.MODULES || []);
  } catch (e) {
    if (client.state === 'open') setHero('problem', 'The service did not answer', e.message);
  }
  timer = setTimeout(refresh, POLL_MS);
}

function render(s) {
  $('failure').hidden = true;
  const modules = s.MODULES || [];
  const devices = s.DEVICES || [];
  const bad = [];
  let level = 'ok';
  // The engine rates every module and device (LEVEL: OK, ATTENTION, PROBLEM); the page only
  // shows the worst, so it never keeps a word list of its own.
  const worse = (a, b) => (a === 'problem' || b === 'problem' ? 'problem' : 'attention');
  for (const m of modules) {
    if (m.LEVEL === 'OK') continue;
    bad.push(`${m.TARGET}: ${m.DETAIL}`);
    level = worse(level, m.LEVEL === 'PROBLEM' ? 'problem' : 'attention');
  }
  for (const d of devices) {
    if (d.LEVEL === 'OK') continue;
    bad.push(`${d.DEVICE}: ${d.DETAIL || d.STATE}`);
    level = worse(level, d.LEVEL === 'PROBLEM' ? 'problem' : 'attention');
  }
  const clients = s.CONNECTIONS === 1 ? '1 client connected' : `${s.CONNECTIONS} clients connected`;
  if (bad.length === 0) setHero('ok', 'Pispas is running', `Every device is reachable · ${clients}`);
  else setHero(level, level === 'problem' ? 'Pispas needs attention' : 'Pispas is running with warnings', bad.join(' · '));

  const tls = s.TLS || {};
  const facts = [
    ['State', 'Running'],
    ['Address', `wss://${s.ADDRESS} and ws://${s.ADDRESS}`],
    ['TLS certificate', `${tls.SOURCE || '?'}${tls.SUBJECT ? ` — ${tls.SUBJECT}` : ''}${tls.NOT_AFTER ? `, valid until ${tls.NOT_AFTER.slice(0, 10)}` : ''}`],
    ['Clients', `${s.CONNECTIONS} now, ${s.CONNECTIONS_TOTAL} since start`],
    ['Requests', `${s.REQUESTS_OK} answered, ${s.REQUESTS_FAILED} failed`],
    ['Up for', fmtUptime(s.UPTIME_MS)],
    ['Version', s.VERSION],
    ['Pages in a browser', s.VIEWER || 'off'],
    ['Command log', s.COMMAND_LOG && s.COMMAND_LOG.ENABLED ? `on${s.COMMAND_LOG.DROPPED ? ` (${s.COMMAND_LOG.DROPPED} entries dropped under load)` : ''}` : 'off'],
    ['local.unpispas.es', !s.LOCAL_NAME ? 'checking…' : s.LOCAL_NAME.RESOLVES_HERE ? 'leads to this computer' : 'does not lead to this computer (the configurator can fix it)'],
  ];
  $('facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { dataset: { fact: k } }, v)]));

  const warnings = s.WARNINGS || [];
  $('warnings-section').hidden = warnings.length === 0;
  $('warnings').replaceChildren(...warnings.map((w) => el('li', {}, w)));

  $('modules').replaceChildren(
    ...modules.map((m) =>
      el('tr', {}, el('th', { scope: 'row' }, m.TARGET), el('td', { class: `state-${m.STATE}` }, m.STATE), el('td', {}, m.DETAIL)),
    ),
  );
  $('devices').replaceChildren(
    ...(devices.length
      ? devices.map((d) =>
          el('tr', {}, el('th', { scope: 'row' }, d.DEVICE), el('td', {}, d.SERVICE),
            el('td', { class: `state-${String(d.STATE).toUpperCase()}` }, d.STATE), el('td', {}, d.DETAIL || ''),
            el('td', {}, d.AT_MS ? fmtTime(d.AT_MS) : '')),
        )
      : [el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No device has reported yet.'))]),
  );
  const errors = (s.LAST_ERRORS || []).slice().reverse();
  $('errors').replaceChildren(
    ...(errors.length
      ? errors.map((e) =>
          el('tr', {}, el('td', {}, fmtTime(e.AT_MS)), el('td', {}, e.TARGET), el('td', {}, e.ACTION),
            el('td', { class: 'state-FAILURE' }, e.CODE), el('td', {}, e.MESSAGE)),
        )
      : [el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No errors since the service started.'))]),
  );
}

/** The journals of the payment modules that run: what is in progress or unresolved. */
async function renderPayments(modules) {
  const running = modules.filter((m) => PAYMENT_TARGETS.includes(m.TARGET) && (m.ACTIONS || []).includes('JOURNAL'));
  $('payments-section').hidden = running.length === 0;
  if (running.length === 0) return;
  const rows = [];
  for (const m of running) {
    for (const state of OPEN_STATES) {
      try {
        const list = await client.call(m.TARGET, 'JOURNAL', { STATE: state, LIMIT: 20 }, { timeoutMs: 5000 });
        for (const p of list || []) rows.push({ target: m.TARGET, ...p });
      } catch { /* a module that cannot answer shows in Modules above */ }
    }
  }
  rows.sort((a, b) => (b.CREATED_AT || 0) - (a.CREATED_AT || 0));
  const money = (p) => `${(Number(p.AMOUNT || 0) / 100).toFixed(2)} ${p.CURRENCY || ''}`.trim();
  const todo = (p) => (p.STATE === 'UNKNOWN_OUTCOME'
    ? p.MESSAGE || 'Check the terminal for this payment, then resolve it'
    : 'Running: wait for the terminal');
  $('payments').replaceChildren(
    ...(rows.length
      ? rows.map((p) =>
          el('tr', { dataset: { payment: p.PAYMENT, state: p.STATE } },
            el('th', { scope: 'row' }, `${p.target} ${p.TERMINAL || ''}`.trim()), el('td', {}, money(p)),
            el('td', { class: `state-${p.STATE}` }, p.STATE), el('td', {}, todo(p)),
            el('td', {}, p.CREATED_AT ? fmtTime(p.CREATED_AT) : '')),
        )
      : [el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No payment running and nothing to resolve.'))]),
  );
}
