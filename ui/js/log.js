// The command log: support's view of every request, reply and event the service handled. A live
// table (BASE LOG_SUBSCRIBE) with filters (target, result, text), a detail pane with the full
// JSON (LOG_GET), older pages (LOG_QUERY with BEFORE_ID) and export of the filtered range as JSON
// lines (LOG_EXPORT). Every action needs the admin token; the engine refuses them without it.

import { createClient, showConnection, el, fmtTime, fmtDuration, wireNav, inApp, appInvoke, askToken, storedToken } from './page.js';

const PAGE = 200;
const MAX_ROWS = 2000;
const $ = (id) => document.getElementById(id);
const client = createClient({ admin: true });
const rows = new Map();
const targets = new Set();
let filter = {};
let oldest = null;
let stopLive = null;
let selected = null;

wireNav();
showConnection(client, $('conn'));
// A new connection (first, or after a reconnect): the live subscription of the old one is gone.
client.on('open', () => {
  stopLive = null;
  reload();
});
$('filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  reload();
});
for (const id of ['f-target', 'f-result']) $(id).addEventListener('change', () => reload());
$('live').addEventListener('change', () => setLive($('live').checked));
$('more').addEventListener('click', () => loadPage(true));
$('export').addEventListener('click', () => exportLines());
$('rows').addEventListener('keydown', (ev) => {
  if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
  const tr = ev.target.closest('tr');
  const next = ev.key === 'ArrowDown' ? tr?.nextElementSibling : tr?.previousElementSibling;
  if (next) {
    ev.preventDefault();
    next.focus();
    showDetail(Number(next.dataset.id));
  }
});

if (!inApp() && !storedToken()) {
  askToken($('token-box'), 'The command log needs the admin token.', () => location.reload());
} else {
  client.connect().catch(() => {});
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function currentFilter() {
  const f = {};
  const target = $('f-target').value;
  const result = $('f-result').value;
  const text = $('f-text').value.trim();
  if (target) f.TARGET = target;
  if (result) f.RESULT = result;
  if (text) f.TEXT = text;
  // datetime-local values are local time; Date parses them as such.
  const since = $('f-since').value;
  const until = $('f-until').value;
  if (since) f.SINCE_MS = new Date(since).getTime();
  if (until) f.UNTIL_MS = new Date(until).getTime() + 999;
  return f;
}

async function reload() {
  filter = currentFilter();
  rows.clear();
  oldest = null;
  $('rows').replaceChildren();
  const ok = await loadPage(false);
  // Kept across filter changes (they are applied to live entries here): unsubscribing and
  // subscribing again on every change lost the entries that came in between.
  if (ok && !stopLive) setLive($('live').checked);
}

async function loadPage(older) {
  let r;
  try {
    r = await client.call('BASE', 'LOG_QUERY', { ...filter, LIMIT: PAGE, ...(older && oldest ? { BEFORE_ID: oldest } : {}) });
  } catch (e) {
    if (e.code === 'UNAUTHORIZED') {
      $('view').hidden = true;
      notice('Refused: reading the command log needs the admin token.');
      if (!inApp()) askToken($('token-box'), 'Refused: the command log needs a valid admin token.', () => location.reload());
      return false;
    }
    notice(`The log could not be read: ${e.message}`);
    return false;
  }
  notice('');
  $('token-box').hidden = true;
  $('view').hidden = false;
  for (const entry of r.ENTRIES) addRow(entry, 'append');
  $('more').hidden = !r.MORE;
  const s = r.STATS || {};
  $('summary').textContent = `${rows.size} shown · ${s.ENTRIES ?? '?'} in the log${s.OLDEST_MS ? ` since ${fmtTime(s.OLDEST_MS)}` : ''}`;
  return true;
}

function setLive(on) {
  if (stopLive) {
    stopLive.stop(); // sends LOG_UNSUBSCRIBE
    stopLive = null;
  }
  if (on) {
    stopLive = client.base.logSubscribe();
    stopLive.on((ev) => ev.data && ev.data.ENTRY && liveEntry(ev.data.ENTRY));
  }
}

/** Whether a live entry passes the filter (text is matched on what the table shows). */
function passes(e) {
  if (filter.TARGET && e.TARGET !== filter.TARGET) return false;
  if (filter.RESULT && e.RESULT !== filter.RESULT) return false;
  if (filter.SINCE_MS && e.AT_MS < filter.SINCE_MS) return false;
  if (filter.UNTIL_MS && e.AT_MS > filter.UNTIL_MS) return false;
  if (filter.TEXT) {
    const hay = `${e.CLIENT} ${e.TARGET} ${e.ACTION} ${e.UUID || ''} ${e.CODE || ''}`.toLowerCase();
    if (!hay.includes(filter.TEXT.toLowerCase())) return false;
  }
  return true;
}

function liveEntry(e) {
  noteTarget(e.TARGET);
  if (!passes(e)) {
    // A PENDING row that now failed a RESULT filter disappears.
    rows.get(e.ID)?.remove();
    rows.delete(e.ID);
    return;
  }
  addRow(e, 'prepend');
  if (selected === e.ID) showDetail(e.ID);
}

function noteTarget(t) {
  if (!t || t === '-' || targets.has(t)) return;
  targets.add(t);
  const sel = $('f-target');
  const opts = [...targets].sort().map((x) => el('option', { value: x, selected: x === sel.value }, x));
  sel.replaceChildren(el('option', { value: '' }, 'all'), ...opts);
}

function addRow(e, where) {
  noteTarget(e.TARGET);
  const tr = el('tr', { tabindex: 0, 'data-id': e.ID, 'aria-selected': selected === e.ID ? 'true' : 'false',
    onclick: () => showDetail(e.ID), onkeydown: (ev) => ev.key === 'Enter' && showDetail(e.ID) },
    el('td', { class: 'mono' }, fmtTime(e.AT_MS)),
    el('td', {}, e.CLIENT),
    el('td', {}, e.TARGET),
    el('td', {}, e.ACTION),
    el('td', { class: `state-${e.RESULT}` }, e.RESULT === 'FAILURE' && e.CODE ? `FAILURE ${e.CODE}` : e.RESULT),
    el('td', { class: 'mono' }, fmtDuration(e.DURATION_US)));
  const existing = rows.get(e.ID);
  if (existing) existing.replaceWith(tr);
  else if (where === 'prepend') $('rows').prepend(tr);
  else $('rows').append(tr);
  rows.set(e.ID, tr);
  if (oldest === null || e.ID < oldest) oldest = e.ID;
  while (rows.size > MAX_ROWS) {
    const last = $('rows').lastElementChild;
    rows.delete(Number(last.dataset.id));
    last.remove();
    $('more').hidden = false;
  }
}

async function showDetail(id) {
  selected = id;
  for (const tr of $('rows').children) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === id));
  const pane = $('detail');
  try {
    const e = await client.call('BASE', 'LOG_GET', { ID: id });
    pane.replaceChildren(
      el('h2', {}, `${e.TARGET} ${e.ACTION}`),
      el('dl', { class: 'facts' },
        el('dt', {}, 'Time'), el('dd', {}, `${fmtTime(e.AT_MS)} (${e.AT})`),
        el('dt', {}, 'Client'), el('dd', {}, `${e.CLIENT}${e.CONN ? ` · connection ${e.CONN}` : ''}`),
        el('dt', {}, 'Result'), el('dd', { class: `state-${e.RESULT}` }, `${e.RESULT}${e.CODE ? ` ${e.CODE}` : ''}`),
        el('dt', {}, 'Duration'), el('dd', {}, fmtDuration(e.DURATION_US) || '—'),
        el('dt', {}, 'UUID'), el('dd', { class: 'mono' }, e.UUID || '—')),
      el('h3', {}, e.KIND === 'EVENT' ? 'Event' : 'Request'),
      el('pre', { class: 'json', 'data-part': 'request' }, JSON.stringify(e.REQUEST, null, 2)),
      e.KIND === 'EVENT' ? null : el('h3', {}, 'Reply'),
      e.KIND === 'EVENT' ? null : el('pre', { class: 'json', 'data-part': 'reply' }, e.REPLY === null ? '(no reply yet)' : JSON.stringify(e.REPLY, null, 2)));
    const job = printJobOf(e);
    if (job !== null) pane.append(resendBox(job));
  } catch (err) {
    pane.replaceChildren(el('p', { class: 'state-FAILURE' }, err.message));
  }
}

// The print job a PRINT entry is about: from its reply (SUCCESS data or FAILURE details) or, for
// a JOB event (an expired job, say), from the event itself.
function printJobOf(e) {
  if (e.TARGET !== 'PRINT') return null;
  const reply = e.REPLY?.MESSAGE_DATA ?? e.REPLY;
  const event = e.REQUEST?.MESSAGE_DATA ?? e.REQUEST;
  const id = reply?.JOB_ID ?? reply?.DETAILS?.JOB_ID ?? event?.JOB?.JOB_ID;
  return Number.isInteger(id) ? id : null;
}

// "Re-send to printer…": PRINT REPRINT of the job, to the same or another configured printer.
function resendBox(jobId) {
  const select = el('select', { 'aria-label': 'Printer' }, el('option', { value: '' }, 'the same printer'));
  const result = el('span', { class: 'muted', role: 'status' });
  const button = el('button', { type: 'submit' }, 'Re-send to printer…');
  const form = el('form', { class: 'resend', 'data-part': 'resend' },
    el('h3', {}, `Print job ${jobId}`), select, ' ', button, ' ', result);
  client.call('PRINT', 'GET_PRINTERS', {}).then((r) => {
    for (const p of r.PRINTERS || []) select.append(el('option', { value: p.NAME }, `${p.NAME} (${p.STATE})`));
  }).catch(() => {});
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    result.textContent = 'sending…';
    try {
      const params = { JOB_ID: jobId };
      if (select.value) params.PRINTER = select.value;
      const r = await client.call('PRINT', 'REPRINT', params, { timeoutMs: 60000 });
      result.textContent = `job ${r.JOB_ID}: ${r.STATE}${r.REASON ? ` (${r.REASON})` : ''}`;
    } catch (err) {
      result.textContent = `${err.code || 'FAILED'}: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

async function exportLines() {
  const button = $('export');
  button.disabled = true;
  try {
    const r = await client.call('BASE', 'LOG_EXPORT', filter, { timeoutMs: 120000 });
    const name = `pispas-log-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
    let where;
    if (inApp()) {
      where = await appInvoke('save_export', { name, text: r.JSONL });
    } else {
      const url = URL.createObjectURL(new Blob([r.JSONL], { type: 'application/x-ndjson' }));
      const a = el('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      where = name;
    }
    $('summary').textContent = `Exported ${r.LINES} entries to ${where}${r.TRUNCATED ? ` (only the newest ${r.MAX_LINES})` : ''}`;
  } catch (e) {
    notice(`Export failed: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}
