// The customer-facing order-status board (a screen at the counter): order numbers under
// "Preparing" until the kitchen has them READY, then under "Ready" (pulsing for a moment) until
// they are served or voided. It SUBSCRIBEs without a station, so it is not counted as a kitchen
// display (KITCHEN_PRINT_WHEN=no_display still prints while only this board is on), and catches up
// by LAST_SEQ like the display. It shows only the order number (ORDER, else TABLE, else TICKET):
// no names, no items.

import { createClient, showConnection, el } from './page.js';

const $ = (id) => document.getElementById(id);
const client = createClient();
const tickets = new Map();
const fresh = new Set();
let setup = { STAGES: ['NEW', 'PREPARING', 'READY', 'SERVED'], READY_STAGE: 'READY' };
let lastSeq = null;

showConnection(client, $('conn'));
client.on('open', () => subscribe());
client.on('KITCHEN', (ev) => onEvent(ev.data));
client.connect().catch(() => {});

async function subscribe() {
  try {
    const p = lastSeq === null ? {} : { LAST_SEQ: lastSeq };
    const r = await client.call('ORDER_KITCHEN', 'SUBSCRIBE', p, { timeoutMs: 10000 });
    setup = r;
    if (r.SNAPSHOT) {
      tickets.clear();
      for (const t of r.SNAPSHOT) keep(t);
      lastSeq = r.SEQ;
    } else {
      for (const e of r.EVENTS || []) apply(e);
      lastSeq = Math.max(lastSeq ?? 0, r.SEQ);
    }
    render();
  } catch {
    setTimeout(subscribe, 3000);
  }
}

function onEvent(e) {
  if (lastSeq === null || e.SEQ <= lastSeq) return;
  if (e.SEQ > lastSeq + 1) {
    subscribe();
    return;
  }
  apply(e);
  render();
}

function apply(e) {
  if (lastSeq !== null && e.SEQ <= lastSeq) return;
  lastSeq = e.SEQ;
  if (!e.CARD) return;
  const was = tickets.get(e.CARD.TICKET);
  keep(e.CARD);
  const now = tickets.get(e.CARD.TICKET);
  if (now && now.STAGE === setup.READY_STAGE && (!was || was.STAGE !== setup.READY_STAGE)) {
    fresh.add(now.TICKET);
    setTimeout(() => { fresh.delete(now.TICKET); render(); }, 4000);
  }
}

/** Keeps a ticket while it is on its way to the customer; served and voided ones leave. */
function keep(t) {
  const served = setup.STAGES[setup.STAGES.length - 1];
  if (t.STAGE === served || t.VOIDED) tickets.delete(t.TICKET);
  else tickets.set(t.TICKET, t);
}

function label(t) {
  return t.ORDER || t.TABLE || t.TICKET;
}

function render() {
  const readyAt = setup.STAGES.indexOf(setup.READY_STAGE);
  const all = [...tickets.values()].sort((a, b) => a.ARRIVAL - b.ARRIVAL);
  const ready = all.filter((t) => setup.STAGES.indexOf(t.STAGE) >= readyAt);
  const preparing = all.filter((t) => setup.STAGES.indexOf(t.STAGE) < readyAt);
  $('preparing').replaceChildren(...preparing.map((t) => el('li', { 'data-ticket': t.TICKET }, label(t))));
  $('ready').replaceChildren(...ready.map((t) => el('li', { 'data-ticket': t.TICKET, class: fresh.has(t.TICKET) ? 'new' : '' }, label(t))));
}

// For the page tests (tests/ui/kitchen.test.mjs): loaded once lastSeq is set.
window.__board = { get lastSeq() { return lastSeq; } };
