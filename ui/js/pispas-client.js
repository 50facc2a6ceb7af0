// The Pispas local service client: the same WebSocket protocol the web POS speaks, in one small
// dependency-free ES module. Our own pages (status, configurator, command log) use it, so it is
// exercised every day, and a POS developer can copy it as is.
//
//   const client = new PispasClient({ port: 5005 });
//   await client.connect();
//   const data = await client.request('BASE', 'CHECK');        // MESSAGE_DATA of a SUCCESS
//   client.on('event', (envelope) => …);                         // every EVENT
//   client.on('state', ({ state, detail }) => …);                // connecting/open/reconnecting/blocked/closed
//
// What it does: tries wss:// first and falls back to ws:// (remembering what worked); matches
// replies to requests by UUID whatever order they come in; fails a request that gets no reply in
// time; reconnects with backoff after the service restarts and tells listeners ('reconnected') so
// they can subscribe again; and, when Chrome's Local Network Access permission blocks the page from
// reaching this computer, says so (state 'blocked') instead of "service not running".
// What it does not do: resend requests after a reconnect (a print could come out twice).

const DEFAULT_TIMEOUT_MS = 15000;
const CONNECT_TIMEOUT_MS = 4000;

/** A FAILURE reply, a timeout or a lost connection, with a stable `code`. */
export class PispasError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'PispasError';
    this.code = code;
    this.details = details;
  }
}

/** A random RFC 4122 version 4 UUID (crypto.randomUUID where the context allows it). */
export function uuidv4() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Whether Chrome's Local Network Access permission is denied for this page. Chrome 142+ names the
 * permission 'local-network-access'; later versions split it into 'local-network' and
 * 'loopback-network'. Unknown names throw and count as "not blocked".
 */
export async function localNetworkAccessDenied() {
  const perms = globalThis.navigator && globalThis.navigator.permissions;
  if (!perms || typeof perms.query !== 'function') return false;
  for (const name of ['loopback-network', 'local-network-access', 'local-network']) {
    try {
      const status = await perms.query({ name });
      if (status && status.state === 'denied') return true;
    } catch {
      // Not a permission this browser knows.
    }
  }
  return false;
}

export class PispasClient {
  /**
   * @param {object} options
   * @param {string} [options.host='127.0.0.1']
   * @param {number} [options.port=5005]
   * @param {() => Promise<{port?: number, host?: string, token?: string}>} [options.resolve]
   *   called before every (re)connect, so a page can follow the service to a new port
   * @param {string} [options.token] admin or LAN token (sent as ?token=)
   * @param {'auto'|'wss'|'ws'} [options.scheme='auto'] auto = wss first, then ws
   * @param {number} [options.timeoutMs=15000] default per-request timeout
   * @param {boolean} [options.reconnect=true]
   * @param {number} [options.minBackoffMs=250]
   * @param {number} [options.maxBackoffMs=5000]
   * @param {typeof WebSocket} [options.WebSocket] implementation (node: the `ws` package)
   */
  constructor(options = {}) {
    this.options = {
      host: '127.0.0.1',
      port: 5005,
      scheme: 'auto',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      reconnect: true,
      minBackoffMs: 250,
      maxBackoffMs: 5000,
      ...options,
    };
    this.WebSocket = options.WebSocket || globalThis.WebSocket;
    this.state = 'idle';
    this.detail = '';
    this.ws = null;
    this.pending = new Map();
    this.listeners = new Map();
    this.eventHandlers = new Map();
    this.preferred = null;
    this.attempt = 0;
    this.closedByUser = false;
    this.connectedOnce = false;
    this.reconnectTimer = null;
  }

  /** Adds a listener: 'state', 'event', 'open', 'reconnected', 'close'. Returns a remover. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, value) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(value);
      } catch (e) {
        console.error(e);
      }
    }
  }

  setState(state, detail = '') {
    if (this.state === state && this.detail === detail) return;
    this.state = state;
    this.detail = detail;
    this.emit('state', { state, detail });
  }

  /** Connects (trying wss then ws); resolves once open. Rejects only when reconnect is off. */
  connect() {
    this.closedByUser = false;
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const offOpen = this.on('open', () => {
        offOpen();
        offFail();
        resolve();
      });
      const offFail = this.on('close', (info) => {
        if (this.options.reconnect && !this.closedByUser) return;
        offOpen();
        offFail();
        reject(new PispasError(info.code || 'DISCONNECTED', info.reason || 'could not connect'));
      });
      if (this.state !== 'connecting' && this.opening !== true) {
        // "Try again" while a reconnect is scheduled: go now instead of opening twice.
        clearTimeout(this.reconnectTimer);
        this.open();
      }
    });
  }

  async open() {
    if (this.opening) return;
    this.opening = true;
    try {
      await this.openOnce();
    } finally {
      this.opening = false;
    }
  }

  async openOnce() {
    this.setState(this.connectedOnce ? 'reconnecting' : 'connecting', this.detail);
    let target;
    try {
      target = { host: this.options.host, port: this.options.port, token: this.options.token };
      if (this.options.resolve) target = { ...target, ...(await this.options.resolve()) };
    } catch (e) {
      return this.failed(e && e.message ? e.message : `the service address could not be read (${e})`);
    }
    if (this.closedByUser) return;
    const schemes =
      this.options.scheme === 'auto'
        ? this.preferred === 'ws'
          ? ['ws', 'wss']
          : ['wss', 'ws']
        : [this.options.scheme];
    const host = String(target.host).includes(':') ? `[${target.host}]` : target.host;
    const query = target.token ? `/?token=${encodeURIComponent(target.token)}` : '/';
    for (const scheme of schemes) {
      if (this.closedByUser) return;
      const ws = await this.tryOpen(`${scheme}://${host}:${target.port}${query}`);
      if (ws) {
        this.preferred = scheme;
        this.adopt(ws, `${scheme}://${host}:${target.port}`);
        return;
      }
    }
    if (await localNetworkAccessDenied()) {
      return this.failed(
        'This browser blocked the page from reaching the Pispas service on this computer ' +
          '(Local Network Access). Allow "Local network access" for this site in the address ' +
          "bar's site settings, or ask IT to set the LocalNetworkAccessAllowedForUrls policy.",
        'blocked',
      );
    }
    this.failed(`the Pispas service is not answering on port ${target.port}`);
  }

  /** Resolves with an open socket, or null when this URL did not work. */
  tryOpen(url) {
    return new Promise((resolve) => {
      let ws;
      try {
        ws = new this.WebSocket(url);
      } catch {
        return resolve(null);
      }
      let done = false;
      const finish = (ok) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.onopen = ws.onerror = ws.onclose = null;
        if (!ok) {
          try {
            ws.close();
          } catch {
            /* already closed */
          }
        }
        resolve(ok ? ws : null);
      };
      const timer = setTimeout(() => finish(false), CONNECT_TIMEOUT_MS);
      ws.onopen = () => finish(true);
      ws.onerror = () => finish(false);
      ws.onclose = () => finish(false);
    });
  }

  adopt(ws, url) {
    this.ws = ws;
    this.url = url;
    this.attempt = 0;
    const reconnected = this.connectedOnce;
    this.connectedOnce = true;
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = (ev) => this.lost(ev && ev.code, ev && ev.reason);
    ws.onerror = () => {};
    this.setState('open', url);
    this.emit('open', { url });
    if (reconnected) this.emit('reconnected', { url });
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (msg.MESSAGE_TYPE === 'EVENT') {
      const handler = this.eventHandlers.get(msg.MESSAGE_UUID);
      if (handler) handler(msg.MESSAGE_DATA, msg);
      this.emit('event', msg);
      return;
    }
    const waiter = this.pending.get(msg.MESSAGE_UUID);
    if (!waiter) return;
    this.pending.delete(msg.MESSAGE_UUID);
    clearTimeout(waiter.timer);
    if (msg.MESSAGE_EXEC === 'SUCCESS') waiter.resolve(msg.MESSAGE_DATA);
    else {
      const d = msg.MESSAGE_DATA || {};
      waiter.reject(new PispasError(d.CODE || 'FAILURE', d.MESSAGE || 'request failed', d.DETAILS));
    }
  }

  lost(code, reason) {
    this.ws = null;
    for (const [, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new PispasError('DISCONNECTED', 'the connection to the service was lost'));
    }
    this.pending.clear();
    this.emit('close', { code, reason });
    if (this.closedByUser) return this.setState('closed');
    this.scheduleReconnect(reason ? `connection closed: ${reason}` : 'connection lost');
  }

  failed(detail, state = 'unreachable') {
    this.emit('close', { code: state === 'blocked' ? 'BLOCKED' : 'UNREACHABLE', reason: detail });
    if (this.closedByUser) return this.setState('closed');
    if (!this.options.reconnect) return this.setState(state, detail);
    this.setState(state, detail);
    this.scheduleReconnect(detail, state);
  }

  scheduleReconnect(detail, state = 'reconnecting') {
    if (!this.options.reconnect || this.closedByUser) return this.setState('closed', detail);
    const { minBackoffMs, maxBackoffMs } = this.options;
    const delay = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(this.attempt, 10));
    this.attempt += 1;
    this.setState(state, detail);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), delay * (0.75 + Math.random() * 0.5));
  }

  /**
   * Sends a request; resolves with MESSAGE_DATA of the SUCCESS reply, rejects with a PispasError
   * (the FAILURE's CODE, or TIMEOUT, or DISCONNECTED).
   */
  request(target, action, params = {}, { timeoutMs, uuid } = {}) {
    if (!this.ws || this.state !== 'open') {
      return Promise.reject(new PispasError('DISCONNECTED', 'not connected to the service'));
    }
    const id = uuid || uuidv4();
    const body = JSON.stringify({ ...params, UUIDV4: id, TARGET: target, ACTION: action });
    return new Promise((resolve, reject) => {
      const ms = timeoutMs ?? this.options.timeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new PispasError('TIMEOUT', `${target} ${action}: no reply within ${ms} ms`));
      }, ms);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.ws.send(body);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new PispasError('DISCONNECTED', `could not send: ${e.message || e}`));
      }
    });
  }

  /**
   * Sends a subscribing request and routes the EVENTs that carry its UUID to `onEvent`; sends it
   * again after every reconnect. Returns a function that stops listening.
   */
  subscribe(target, action, params, onEvent) {
    let uuid = uuidv4();
    this.eventHandlers.set(uuid, onEvent);
    const send = () => this.request(target, action, params, { uuid }).catch(() => {});
    const offReconnect = this.on('reconnected', () => {
      this.eventHandlers.delete(uuid);
      uuid = uuidv4();
      this.eventHandlers.set(uuid, onEvent);
      send();
    });
    const first = this.state === 'open' ? this.request(target, action, params, { uuid }) : Promise.resolve();
    first.catch(() => {}); // callers that do not await `ready` must not see an unhandled rejection
    const stop = () => {
      offReconnect();
      this.eventHandlers.delete(uuid);
    };
    stop.ready = first;
    return stop;
  }

  /** Closes for good (no reconnect). */
  close() {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    if (this.ws) {
      try {
        this.ws.close(1000, 'client closing');
      } catch {
        /* already closed */
      }
    } else {
      this.setState('closed');
    }
  }
}
