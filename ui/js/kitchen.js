// The kitchen display: ORDER_KITCHEN tickets as cards, kept in step with KITCHEN events. On
// every (re)connect it SUBSCRIBEs with the last SEQ it applied and gets what it missed (or a
// snapshot), so a display that was offline misses nothing; a SEQ it already applied is skipped,
// a jump in SEQ makes it subscribe again. Tap a line: done; tap the header: bump; the Recall
// button (or `.`) undoes this display's last bump. Bump-bar keys: docs/kitchen.md.
//
// On the till (the app's window, or with the admin token) it pairs tablets: "Pair a tablet"
// shows a one-time QR code for the kitchen LAN listener, and lists paired displays to revoke. A
// tablet opened from that code trades it for a display token kept in its browser. It does not
// talk to printers.

import { createClient, showConnection, el, inApp, storedToken, DISPLAY_TOKEN_KEY } from './page.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const NAME_KEY = 'pispas.kitchen.name';
// A tablet opened from the till's pairing QR code: trade the one-time code for a display token
// (kept, with the display's name, in this browser) before anything else.
const pairCode = params.get('pair');
let pairError = '';
if (pairCode) {
  try {
    const r = await fetch(`/pair?code=${encodeURIComponent(pairCode)}`, { cache: 'no-store' });
    if (!r.ok) throw new Error(await r.text());
    const p = await r.json();
    localStorage.setItem(DISPLAY_TOKEN_KEY, p.TOKEN);
    localStorage.setItem(NAME_KEY, p.NAME);
  } catch (e) {
    pairError = `Pairing failed: ${e.message}`;
  }
  params.delete('pair');
  history.replaceState(null, '', location.pathname + (params.toString() ? `?${params}` : ''));
}
/** On the till (the app's window, or a browser with the admin token) this page can pair tablets. */
const canPair = inApp() || !!storedToken();
const STATION_KEY = 'pispas.kitchen.station';
const EXPO = 'EXPO';

/** This display's name, sent as BY (kept, so RECALL after a reload still finds its bumps). */
const by = params.get('name') || localStorage.getItem(NAME_KEY) || `DISPLAY-${Math.random().toString(36).slice(2, 6).toUpperCase()}`;
localStorage.setItem(NAME_KEY, by);

const client = createClient({ admin: canPair });
const tickets = new Map();
let setup = { STAGES: ['NEW', 'PREPARING', 'READY', 'SERVED'], READY_STAGE: 'READY', ALERTS: {}, STATIONS: [] };
let station = params.get('station') || localStorage.getItem(STATION_KEY) || EXPO;
let lastSeq = null;
let selected = 0;
let skew = 0; // server clock − local clock
let soundOn = false;
let audio = null;

showConnection(client, $('conn'));
if (pairError) showError(pairError);
else if (!inApp() && !['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname) && !localStorage.getItem(DISPLAY_TOKEN_KEY)) {
  showError('This tablet is not paired yet: on the till, open the kitchen window, press “Pair a tablet” and scan the code it shows.');
}
client.on('open', () => subscribe());
client.on('KITCHEN', (ev) => onEvent(ev.data));
client.connect().catch(() => {});

async function subscribe() {
  try {
    const p = { STATION: station };
    if (lastSeq !== null) p.LAST_SEQ = lastSeq;
    const r = await client.call('ORDER_KITCHEN', 'SUBSCRIBE', p, { timeoutMs: 10000 });
    setup = r;
    skew = (r.NOW || Date.now()) - Date.now();
    fillStations();
    if (r.SNAPSHOT) {
      tickets.clear();
      for (const t of r.SNAPSHOT) tickets.set(t.TICKET, t);
      lastSeq = r.SEQ;
    } else {
      for (const e of r.EVENTS || []) apply(e, false);
      lastSeq = Math.max(lastSeq ?? 0, r.SEQ);
    }
    showError('');
    render();
  } catch (e) {
    showError(`Could not load the tickets: ${e.message}`);
  }
}

function onEvent(e) {
  if (lastSeq === null || e.SEQ <= lastSeq) return; // not loaded yet (the reply brings it), or applied
  if (e.SEQ > lastSeq + 1) {
    subscribe(); // a gap: ask for what is missing
    return;
  }
  apply(e, true);
  render();
}

function isOpen(t) {
  const served = setup.STAGES[setup.STAGES.length - 1];
  return t.STAGE !== served && !(t.VOIDED && t.VOID_ACKED);
}

function apply(e, live) {
  if (lastSeq !== null && e.SEQ <= lastSeq) return;
  lastSeq = e.SEQ;
  const t = e.CARD;
  if (!t) return;
  if (isOpen(t)) tickets.set(t.TICKET, t);
  else tickets.delete(t.TICKET);
  if (live && e.ACTION === 'SENT' && !e.DUPLICATE && linesFor(t).length) beep();
}

function linesFor(t) {
  return station === EXPO ? t.LINES : t.LINES.filter((l) => l.STATION === station);
}

function visible() {
  return [...tickets.values()].filter((t) => linesFor(t).length).sort((a, b) => a.ARRIVAL - b.ARRIVAL);
}

function fillStations() {
  const sel = $('station');
  const want = [EXPO, ...(setup.STATIONS || [])];
  if (sel.options.length === want.length) return;
  sel.replaceChildren(...want.map((s) => el('option', { value: s, selected: s === station }, s === EXPO ? 'Expo (all stations)' : s)));
}

$('station').addEventListener('change', (ev) => changeStation(ev.target.value));

function changeStation(s) {
  station = s;
  localStorage.setItem(STATION_KEY, s);
  selected = 0;
  // Subscribe again so STATUS counts this display at its new station.
  client.call('ORDER_KITCHEN', 'UNSUBSCRIBE', {}).catch(() => {}).then(() => subscribe());
  render();
}

function age(ms) {
  const s = Math.max(0, Math.floor((Date.now() + skew - ms) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function late(t) {
  const alert = setup.ALERTS?.[t.STAGE];
  return alert !== undefined && Date.now() + skew - t.STAGE_AT > alert * 1000;
}

function lineNode(t, l) {
  const changes = [];
  if (!l.ACKED) {
    if (l.VOIDED) changes.push('VOID');
    else if (l.ADDED) changes.push('ADDED');
    if (l.REFIRED) changes.push('RE-FIRE');
    if (l.CANCELLED) changes.push(`−${l.CANCELLED} CANCELLED`);
  }
  if (l.NOTE_CHANGED) changes.push('NOTE CHANGED');
  const changed = changes.length > 0;
  return el(
    'li',
    {
      class: [l.DONE && 'done', l.VOIDED && 'voided', changed && 'changed'].filter(Boolean).join(' '),
      dataset: { line: l.LINE },
      onclick: (ev) => {
        ev.stopPropagation();
        if (changed) act('ACK', { TICKET: t.TICKET, LINE: l.LINE });
        else if (!l.VOIDED) act('LINE_DONE', { TICKET: t.TICKET, LINE: l.LINE });
      },
    },
    changed ? el('div', { class: 'change' }, changes.join(' · '), ' — tap to acknowledge') : null,
    el('span', { class: 'qty' }, `${l.QTY}×`),
    el('span', { class: 'name' }, l.NAME),
    l.SEAT ? el('span', { class: 'mods' }, ` seat ${l.SEAT}`) : null,
    station === EXPO ? el('span', { class: 'mods' }, ` · ${l.STATION}`) : null,
    l.MODIFIERS.length ? el('div', { class: 'mods' }, l.MODIFIERS.join(', ')) : null,
    l.NOTE ? el('div', { class: 'note' }, `“${l.NOTE}”`) : null,
    l.ALLERGENS.length ? el('div', { class: 'allergens' }, `⚠ ${l.ALLERGENS.join(', ')}`) : null,
  );
}

function cardNode(t, i) {
  const stageIndex = setup.STAGES.indexOf(t.STAGE);
  const ready = stageIndex >= setup.STAGES.indexOf(setup.READY_STAGE);
  return el(
    'article',
    {
      class: ['card', ready && 'ready', late(t) && 'late', t.VOIDED && 'voided', i === selected && 'selected'].filter(Boolean).join(' '),
      dataset: { ticket: t.TICKET, stage: t.STAGE, stageIndex: String(stageIndex) },
    },
    el(
      'header',
      { role: 'button', tabindex: '0', title: 'Tap to bump', onclick: () => (t.VOIDED ? act('ACK', { TICKET: t.TICKET }) : act('BUMP', { TICKET: t.TICKET })) },
      el('span', { class: 'num' }, i < 9 ? `${i + 1}` : ''),
      el('span', { class: 'where' }, t.TABLE ? `Table ${t.TABLE}` : t.ORDER ? `#${t.ORDER}` : `#${t.TICKET}`, t.TABLE && t.ORDER ? ` · #${t.ORDER}` : ''),
      el('span', { class: 'age', dataset: { since: String(t.STAGE_AT), created: String(t.CREATED_AT) } }, age(t.CREATED_AT)),
      el(
        'span',
        { class: 'meta' },
        t.DUPLICATE ? el('span', { class: 'badge dup' }, 'DUPLICATE') : null,
        t.VOIDED ? el('span', { class: 'badge void' }, 'VOID') : null,
        t.PRIORITY ? el('span', { class: 'badge rush' }, 'RUSH') : null,
        el('span', { class: 'badge' }, t.CHANNEL),
        t.COURSE ? el('span', { class: 'badge' }, t.COURSE) : null,
        t.GUESTS ? `${t.GUESTS} guests · ` : '',
        t.STAGE,
      ),
    ),
    t.NOTE ? el('div', { class: 'ticket-note' }, t.NOTE_CHANGED ? 'NOTE CHANGED: ' : '', t.NOTE) : null,
    el('ul', {}, linesFor(t).map((l) => lineNode(t, l))),
    el('button', { class: 'void-ack', type: 'button', onclick: () => act('ACK', { TICKET: t.TICKET }) }, 'VOIDED — tap to acknowledge'),
  );
}

/** Cards already built, by ticket: rebuilt only when what they show changed (an event changes one
 * ticket; rebuilding 200 cards for it made a busy screen lag). */
const built = new Map();

function cardFor(t, i) {
  const key = `${station}|${i < 9 ? i : '-'}|${i === selected}|${JSON.stringify(t)}`;
  const had = built.get(t.TICKET);
  if (had && had.key === key) return had.node;
  const node = cardNode(t, i);
  built.set(t.TICKET, { key, node });
  return node;
}

/** Makes `container`'s children exactly `nodes`, moving only what is out of place. */
function place(container, nodes) {
  let child = container.firstChild;
  for (const node of nodes) {
    if (child === node) {
      child = child.nextSibling;
      continue;
    }
    container.insertBefore(node, child);
  }
  while (child) {
    const next = child.nextSibling;
    child.remove();
    child = next;
  }
}

function render() {
  const list = visible();
  if (selected >= list.length) selected = Math.max(0, list.length - 1);
  const keep = new Set(list.map((t) => t.TICKET));
  for (const id of built.keys()) if (!keep.has(id)) built.delete(id);
  place($('cards'), list.length ? list.map(cardFor) : [el('p', { class: 'empty' }, 'No open tickets')]);
  $('counts').textContent = `${list.length} open`;
  renderAllDay(list);
}

function renderAllDay(list) {
  const counts = new Map();
  for (const t of list) {
    for (const l of linesFor(t)) {
      if (l.VOIDED || l.DONE) continue;
      counts.set(l.NAME, (counts.get(l.NAME) || 0) + l.QTY);
    }
  }
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  $('allday-list').replaceChildren(...rows.map(([name, n]) => el('li', {}, el('span', {}, name), el('b', {}, String(n)))));
}

$('allday-toggle').addEventListener('click', () => {
  const box = $('allday');
  box.hidden = !box.hidden;
  $('allday-toggle').setAttribute('aria-expanded', String(!box.hidden));
});
$('recall').addEventListener('click', () => act('RECALL', {}));

async function act(action, p) {
  try {
    await client.call('ORDER_KITCHEN', action, { ...p, BY: by }, { timeoutMs: 10000 });
    showError('');
  } catch (e) {
    showError(`${action}: ${e.message}`);
  }
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = !text;
}

// Bump-bar keys: digits select a card, Enter bumps it, `.`/Backspace recalls, `*` serves,
// `+` cycles the station.
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLSelectElement) return;
  const list = visible();
  if (/^[1-9]$/.test(ev.key)) {
    selected = Number(ev.key) - 1;
    render();
  } else if (ev.key === 'Enter' && list[selected]) {
    ev.preventDefault();
    act('BUMP', { TICKET: list[selected].TICKET });
  } else if (ev.key === '.' || ev.key === 'Backspace') {
    ev.preventDefault();
    act('RECALL', {});
  } else if (ev.key === '*' && list[selected]) {
    act('SERVE', { TICKET: list[selected].TICKET });
  } else if (ev.key === '+') {
    const all = [EXPO, ...(setup.STATIONS || [])];
    changeStation(all[(all.indexOf(station) + 1) % all.length]);
  } else {
    return;
  }
  unlockSound();
});

// Browsers play sound only after the page was touched once: say so until it has been.
function unlockSound() {
  if (soundOn) return;
  try {
    audio = new (window.AudioContext || window.webkitAudioContext)();
    audio.resume();
    soundOn = true;
    // Words change, the layout does not: a tap must land where the cook aimed.
    $('sound').dataset.on = 'true';
    $('sound').textContent = '🔊 Sound on';
  } catch {
    /* no audio on this device: keep the banner */
  }
}
// On click, not pointerdown: the banner's words change, and a layout that moved between press and
// release would send the tap to the wrong line.
document.addEventListener('click', unlockSound, { capture: true });

function beep() {
  if (!audio) return;
  const o = audio.createOscillator();
  const g = audio.createGain();
  o.frequency.value = 880;
  g.gain.setValueAtTime(0.3, audio.currentTime);
  g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
  o.connect(g).connect(audio.destination);
  o.start();
  o.stop(audio.currentTime + 0.4);
}

// Elapsed times tick without a round trip.
setInterval(() => {
  for (const node of document.querySelectorAll('.age')) node.textContent = age(Number(node.dataset.created));
  for (const card of document.querySelectorAll('.card')) {
    const t = tickets.get(card.dataset.ticket);
    if (t) card.classList.toggle('late', late(t));
  }
}, 1000);

// For tests and support: what the page holds.
window.__kitchen = { get lastSeq() { return lastSeq; }, tickets, by };

// ---- pairing tablets (on the till only) ------------------------------------------------------

$('pair').hidden = !canPair;
$('pair').addEventListener('click', () => openPairing());
$('pair-close').addEventListener('click', () => {
  $('pairing').hidden = true;
  clearInterval(pairPoll);
});
// While the panel is open the list follows: a tablet appears as soon as it has paired.
let pairPoll = null;
$('pair-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('pair-name').value.trim().toUpperCase();
  $('pair-result').replaceChildren();
  try {
    const r = await client.call('ORDER_KITCHEN', 'PAIR', { NAME: name }, { timeoutMs: 10000 });
    const svg = new DOMParser().parseFromString(r.QR_SVG, 'image/svg+xml').documentElement;
    const until = new Date(r.EXPIRES_AT).toLocaleTimeString();
    $('pair-result').replaceChildren(
      el('div', { class: 'qr', 'aria-label': `QR code for ${r.URL}` }, document.importNode(svg, true)),
      el('p', {}, 'On the tablet, scan this code or open ', el('b', { class: 'pair-url' }, r.URL), '.'),
      el('p', {}, 'Code ', el('b', { class: 'pair-code' }, r.CODE), ` · valid until ${until}, once.`),
      el('p', { class: 'muted' }, 'Over plain http:// on the shop network; with the production certificate installed, https:// works too.'));
  } catch (e) {
    $('pair-result').replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
  }
  listDisplays();
});

function openPairing() {
  $('pairing').hidden = false;
  $('pair-name').focus();
  listDisplays();
  clearInterval(pairPoll);
  pairPoll = setInterval(listDisplays, 2000);
}

async function listDisplays() {
  try {
    const r = await client.call('ORDER_KITCHEN', 'DISPLAYS', {}, { timeoutMs: 10000 });
    $('pair-lan').textContent = r.LAN ? `Kitchen listener for tablets: ${r.LAN}` : 'The kitchen listener for tablets is off: set KITCHEN_LAN=on in the configurator (Kitchen display).';
    $('pair-list').replaceChildren(...r.DISPLAYS.map((d) => el('li', { 'data-display': d.NAME },
      `${d.NAME} · paired ${new Date(d.PAIRED_AT).toLocaleString()} `,
      el('button', { type: 'button', class: 'revoke', onclick: () => revoke(d.NAME) }, 'Revoke'))));
  } catch (e) {
    $('pair-lan').textContent = e.message;
  }
}

async function revoke(name) {
  try {
    await client.call('ORDER_KITCHEN', 'REVOKE', { NAME: name }, { timeoutMs: 10000 });
  } finally {
    listDisplays();
  }
}
