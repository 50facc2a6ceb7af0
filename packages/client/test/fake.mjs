// A fake clock and a fake WebSocket server for the SDK's unit tests: time only moves when a test
// says so, and the "service" answers exactly what the test tells it to.

import { setImmediate as tick } from 'node:timers/promises';

/** Lets every pending promise callback run. */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await tick();
}

export class FakeClock {
  constructor() {
    this.t = 0;
    this.next = 1;
    this.timers = new Map();
  }
  now() {
    return this.t;
  }
  setTimeout(fn, ms) {
    const id = this.next++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, id });
    return id;
  }
  clearTimeout(id) {
    this.timers.delete(id);
  }
  /** Moves time forward by `ms`, running due timers in order and settling promises between. */
  async advance(ms) {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = [...this.timers.values()].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers.delete(due.id);
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/**
 * A fake service. `mode(url)` decides what a new socket does: 'open', 'refuse', 'hang' or
 * {error: 'message'}. Requests land in `requests`; `handler(req, socket)` may answer them
 * (return a value: SUCCESS with it; throw {code}: FAILURE; return undefined: no answer).
 */
export class FakeService {
  constructor() {
    this.sockets = [];
    this.requests = [];
    this.mode = () => 'open';
    this.handler = defaultHandler;
    const service = this;
    this.WebSocket = class FakeWebSocket {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.onopen = this.onmessage = this.onerror = this.onclose = null;
        this.sent = [];
        service.sockets.push(this);
        const m = service.mode(url);
        queueMicrotask(() => {
          if (this.readyState !== 0) return;
          if (m === 'open') {
            this.readyState = 1;
            this.onopen?.({});
          } else if (m === 'refuse' || (m && m.error)) {
            this.readyState = 3;
            this.onerror?.(m.error ? { message: m.error } : {});
            this.onclose?.({ code: 1006 });
          }
          // 'hang': nothing until the test calls open() or refuse()
        });
      }
      open() {
        this.readyState = 1;
        this.onopen?.({});
      }
      refuse() {
        this.readyState = 3;
        this.onerror?.({});
        this.onclose?.({ code: 1006 });
      }
      send(text) {
        if (this.readyState !== 1) throw new Error('not open');
        const req = JSON.parse(text);
        req.socket = this;
        this.sent.push(req);
        service.requests.push(req);
        let out;
        try {
          out = service.handler(req, this);
        } catch (e) {
          if (e && e.code) return queueMicrotask(() => this.fail(req, e.code, e.message));
          throw e;
        }
        if (out !== undefined) queueMicrotask(() => this.reply(req, out));
      }
      reply(req, data) {
        if (this.readyState !== 1) return;
        this.onmessage?.({ data: JSON.stringify({ SERVICE_NAME: req.TARGET, SERVICE_VERS: '0', MESSAGE_TYPE: 'RESPONSE', MESSAGE_EXEC: 'SUCCESS', MESSAGE_UUID: req.UUIDV4, MESSAGE_DATA: data }) });
      }
      fail(req, code, message = code, details) {
        if (this.readyState !== 1) return;
        this.onmessage?.({ data: JSON.stringify({ SERVICE_NAME: req.TARGET, MESSAGE_TYPE: 'RESPONSE', MESSAGE_EXEC: 'FAILURE', MESSAGE_UUID: req.UUIDV4, MESSAGE_DATA: { CODE: code, MESSAGE: message, ...(details ? { DETAILS: details } : {}) } }) });
      }
      event(uuid, data, target = 'BASE') {
        this.onmessage?.({ data: JSON.stringify({ SERVICE_NAME: target, MESSAGE_TYPE: 'EVENT', MESSAGE_EXEC: 'SUCCESS', MESSAGE_UUID: uuid, MESSAGE_DATA: data }) });
      }
      /** The service closes the connection. */
      drop(code = 1006) {
        if (this.readyState === 3) return;
        this.readyState = 3;
        this.onclose?.({ code });
      }
      close() {
        if (this.readyState === 3) return;
        this.readyState = 3;
        queueMicrotask(() => this.onclose?.({ code: 1000 }));
      }
    };
  }
  get open() {
    return this.sockets.filter((s) => s.readyState === 1);
  }
  /** The requests with this TARGET ACTION (normalised), oldest first. */
  sent(target, action) {
    const a = action.toUpperCase().replace(/_/g, '');
    return this.requests.filter((r) => r.TARGET === target && r.ACTION.toUpperCase().replace(/_/g, '') === a);
  }
}

/** Answers PING and CONFIG like the service; everything else is left to the test. */
export function defaultHandler(req) {
  if (req.TARGET === 'BASE' && req.ACTION === 'PING') return 'PONG';
  if (req.TARGET === 'BASE' && req.ACTION === 'CONFIG') return { PRINT_REPLY_TIMEOUT_MS: '30000' };
  return undefined;
}

/** A client wired to the fake service and clock, with deterministic jitter. */
export function fakeClient(PispasClient, service, clock, options = {}) {
  return new PispasClient({
    url: 'ws://127.0.0.1:5005',
    WebSocket: service.WebSocket,
    clock,
    random: () => 0.5,
    permissions: null,
    fetch: async () => {
      throw new Error('nothing answers');
    },
    probeUrls: [],
    watchPage: false,
    ...options,
  });
}
