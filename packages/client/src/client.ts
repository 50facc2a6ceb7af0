// PispasClient: one WebSocket to the Pispas local service, with calls matched to replies by
// UUIDV4 in any order, a timeout and an AbortSignal per call, reconnect with backoff, keep-alive
// pings, calls held (bounded, timeouts running) while reconnecting, safe retries with the same
// UUIDV4 for the actions the description marks idempotent, subscriptions that survive
// reconnects, and diagnose().
//
// What it deliberately does not do: resend a call that is not idempotent after the socket
// dropped (it may have printed, charged or been done already); that call fails with
// DISCONNECTED and the POS decides.

import { PROTOCOL, DIAGNOSES, type EventMap, type EventName, type Helpers } from './generated/protocol.js';
import { PispasError } from './errors.js';
import { uuidv4 } from './uuid.js';
import { EventQueue } from './queue.js';
import { classify, diagnosis, lnaPermission, type PermissionsLike } from './diagnose.js';
import { openSocket, withToken, type Attempt } from './socket.js';
import type {
  ActionInfo,
  CallOptions,
  Clock,
  ConnectionState,
  Diagnosis,
  Endpoint,
  PispasClientOptions,
  PispasEvent,
  StateChange,
  SubscribeOptions,
  Subscription,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

export const DEFAULT_URLS = ['wss://local.unpispas.es:5005', 'ws://127.0.0.1:5005'];
const DEFAULT_PROBE_URLS = ['http://127.0.0.1:8081/endpoint.json'];

const realClock: Clock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** How the engine matches actions: upper case, underscores ignored. */
export function normaliseAction(action: string): string {
  return action.toUpperCase().replace(/_/g, '');
}

/** camelCase → UPPER_SNAKE (jobId → JOB_ID); keys already in UPPER_SNAKE are kept. */
export function wireKey(key: string): string {
  if (/^[A-Z0-9_]+$/.test(key)) return key;
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

const INDEX = new Map<string, { target: string; action: string; info: ActionInfo }>();
for (const [target, t] of Object.entries(PROTOCOL.targets)) {
  for (const [action, info] of Object.entries(t.actions)) {
    INDEX.set(`${target} ${normaliseAction(action)}`, { target, action, info });
  }
}

/** What the description says about TARGET ACTION, or undefined. */
export function describe(target: string, action: string): ActionInfo | undefined {
  return INDEX.get(`${target.toUpperCase()} ${normaliseAction(action)}`)?.info;
}

interface Pending {
  uuid: string;
  frame: string;
  idempotent: boolean;
  /** Subscriptions and keep-alive: never held or resent by the call machinery. */
  internal: boolean;
  sent: boolean;
  resolve(value: unknown): void;
  reject(error: PispasError): void;
  done(): void;
}

interface Group {
  key: string;
  target: string;
  action: string;
  stop: string;
  params: Record<string, unknown>;
  uuid: string | null;
  handles: Set<SubscriptionHandle>;
  ready: Promise<unknown>;
  settle: { resolve(v: unknown): void; reject(e: unknown): void; settled: boolean };
  inflight: Promise<unknown> | null;
  buffer: number;
}

type Listener = (value: never) => void;

class SubscriptionHandle implements Subscription<EventName, unknown> {
  readonly listeners = new Set<(ev: PispasEvent) => void>();
  readonly queues = new Set<EventQueue<PispasEvent>>();
  stopped = false;

  constructor(private readonly client: PispasClient, readonly group: Group) {}

  get ready(): Promise<unknown> {
    return this.group.ready;
  }

  on(listener: (ev: PispasEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  deliver(ev: PispasEvent): void {
    for (const l of this.listeners) safe(() => l(ev));
    for (const q of this.queues) q.push(ev);
  }

  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    for (const q of this.queues) q.end();
    this.queues.clear();
    this.listeners.clear();
    return this.client._unsubscribe(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<PispasEvent> {
    const q = new EventQueue<PispasEvent>(this.group.buffer, () => {
      this.queues.delete(q);
    });
    if (this.stopped) q.end();
    else this.queues.add(q);
    return q;
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    // A listener's bug must not break the client.
    (globalThis as { console?: Console }).console?.error(e);
  }
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface PispasClient extends Helpers {}

export class PispasClient {
  private readonly opts: Required<
    Pick<
      PispasClientOptions,
      | 'connectTimeoutMs'
      | 'timeoutMarginMs'
      | 'defaultTimeoutMs'
      | 'reconnect'
      | 'minBackoffMs'
      | 'maxBackoffMs'
      | 'keepAliveMs'
      | 'keepAliveTimeoutMs'
      | 'maxHeld'
      | 'learnTimeouts'
      | 'probeUrls'
    >
  > &
    PispasClientOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly WS: WebSocketConstructor | undefined;
  private _state: ConnectionState = 'idle';
  private _url: string | undefined;
  private _diagnosis: Diagnosis | undefined;
  private ws: WebSocketLike | null = null;
  private generation = 0;
  private wanted = false;
  private closedByUser = false;
  private attempting = false;
  private everOpened = false;
  private failures = 0;
  private preferred: string | undefined;
  private backoffTimer: unknown = null;
  private idleTimer: unknown = null;
  private readonly pending = new Map<string, Pending>();
  private readonly groups = new Map<string, Group>();
  private readonly routes = new Map<string, Group>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly streams = new Set<{ names: Set<string> | null; queue: EventQueue<PispasEvent> }>();
  private connectWaiters: Array<{ resolve(): void; reject(e: PispasError): void }> = [];
  private readonly learned = new Map<string, number>();
  private readonly unwatch: Array<() => void> = [];

  constructor(options: PispasClientOptions = {}) {
    this.opts = {
      connectTimeoutMs: 5000,
      timeoutMarginMs: 10000,
      defaultTimeoutMs: 30000,
      reconnect: true,
      minBackoffMs: 250,
      maxBackoffMs: 10000,
      keepAliveMs: 25000,
      keepAliveTimeoutMs: 10000,
      maxHeld: 100,
      learnTimeouts: true,
      probeUrls: DEFAULT_PROBE_URLS,
      ...options,
    };
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    for (const [target, t] of Object.entries(PROTOCOL.targets)) {
      const actions = Object.entries(t.actions);
      if (!actions.length) continue;
      const helpers: Record<string, unknown> = {};
      for (const [action, info] of actions) {
        helpers[info.helper] = info.subscription
          ? (params?: Record<string, unknown>, o?: SubscribeOptions) =>
              this.subscribe(target, action, toWire(params, info), o)
          : (params?: Record<string, unknown>, o?: CallOptions) => this.call(target, action, toWire(params, info), o);
      }
      Object.defineProperty(this, t.helper, { value: Object.freeze(helpers), enumerable: true });
    }
    if (options.watchPage !== false) this.watchPage();
  }

  /** idle, connecting, open, reconnecting or closed. */
  get state(): ConnectionState {
    return this._state;
  }

  /** The URL of the open connection. */
  get url(): string | undefined {
    return this._url;
  }

  /** Why the last attempt failed (undefined once open). */
  get lastDiagnosis(): Diagnosis | undefined {
    return this._diagnosis;
  }

  // ---------------------------------------------------------------- listeners

  /** Lifecycle ('state', 'open', 'close'), every event ('event'), or one EVENT by name. Returns a
   * remover. */
  on(type: 'state', listener: (change: StateChange) => void): () => void;
  on(type: 'open', listener: (info: { url: string; reconnected: boolean }) => void): () => void;
  on(type: 'close', listener: (info: { reason: string }) => void): () => void;
  on(type: 'event', listener: (event: PispasEvent) => void): () => void;
  on<E extends EventName>(type: E, listener: (event: PispasEvent<E>) => void): () => void;
  on(type: string, listener: (value: never) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener);
    return () => set!.delete(listener as Listener);
  }

  private emit(type: string, value: unknown): void {
    for (const l of this.listeners.get(type) ?? []) safe(() => (l as (v: unknown) => void)(value));
  }

  /** Every event (or those named), as an async iterator; `break` ends it. */
  events<E extends EventName>(names?: E | E[], options: { buffer?: number } = {}): AsyncIterableIterator<PispasEvent<E>> {
    const list = names === undefined ? null : new Set<string>(Array.isArray(names) ? names : [names]);
    const entry = {
      names: list,
      queue: new EventQueue<PispasEvent>(options.buffer ?? 1000, () => this.streams.delete(entry)),
    };
    if (this.closedByUser) entry.queue.end();
    else this.streams.add(entry);
    return entry.queue as unknown as AsyncIterableIterator<PispasEvent<E>>;
  }

  // ---------------------------------------------------------------- connecting

  /**
   * Connects (trying each URL in order). Resolves once open; rejects with CONNECT_FAILED and the
   * diagnose() result (`error.diagnosis`) when the first round of attempts fails — while it
   * keeps trying in the background (unless `reconnect: false`), so a call made now is held and
   * sent when the service appears.
   */
  connect(): Promise<void> {
    this.closedByUser = false;
    this.wanted = true;
    if (this._state === 'open') return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (!this.attempting) {
      this.cancelBackoff();
      void this.attempt();
    }
    return p;
  }

  /** Closes for good: no reconnect; calls still waiting fail with CLOSED. */
  close(): void {
    this.closedByUser = true;
    this.wanted = false;
    this.cancelBackoff();
    this.stopKeepAlive();
    for (const off of this.unwatch.splice(0)) off();
    const ws = this.ws;
    this.ws = null;
    this.generation++;
    if (ws) {
      try {
        ws.close(1000, 'client closing');
      } catch {
        /* already closed */
      }
    }
    for (const p of [...this.pending.values()]) {
      p.done();
      p.reject(new PispasError('CLOSED', 'the client was closed'));
    }
    for (const g of this.groups.values()) {
      for (const h of g.handles) for (const q of h.queues) q.end();
    }
    for (const s of this.streams) s.queue.end();
    this.streams.clear();
    this.rejectConnectWaiters(new PispasError('CLOSED', 'the client was closed'));
    this.setState('closed');
  }

  private setState(state: ConnectionState, extra: Partial<StateChange> = {}): void {
    this._state = state;
    this.emit('state', { state, ...extra });
  }

  private async endpoint(): Promise<Endpoint> {
    let urls = this.opts.url === undefined ? DEFAULT_URLS : Array.isArray(this.opts.url) ? this.opts.url : [this.opts.url];
    let token = this.opts.token;
    if (this.opts.resolve) {
      const r = await this.opts.resolve();
      if (r.url !== undefined) urls = Array.isArray(r.url) ? r.url : [r.url];
      if (r.token !== undefined) token = r.token;
    }
    // The URL that worked last time goes first.
    if (this.preferred && urls.includes(this.preferred)) urls = [this.preferred, ...urls.filter((u) => u !== this.preferred)];
    return { urls, ...(token ? { token } : {}) };
  }

  private async attempt(): Promise<void> {
    this.attempting = true;
    const round = this.generation;
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    let result: { ws: WebSocketLike; url: string } | Diagnosis;
    try {
      result = await this.tryEndpoints();
    } catch (e) {
      result = diagnosis('SERVICE_NOT_RUNNING', e instanceof Error ? e.message : String(e));
    }
    this.attempting = false;
    if (!this.wanted || round !== this.generation) {
      if ('ws' in result) result.ws.close();
      return;
    }
    if ('ws' in result) this.adopt(result.ws, result.url);
    else this.failed(result);
  }

  /** Tries every URL once: the first to open wins; otherwise why none did. */
  private async tryEndpoints(): Promise<{ ws: WebSocketLike; url: string } | Diagnosis> {
    const WS = this.WS;
    if (!WS) return diagnosis('SERVICE_NOT_RUNNING', 'no WebSocket implementation: pass options.WebSocket (the `ws` package on Node < 22)');
    const ep = await this.endpoint();
    const permissions = this.permissions();
    const permission = await lnaPermission(permissions);
    const attempts: Attempt[] = [];
    for (const url of ep.urls) {
      if (!this.wanted) break;
      // While the browser shows the cashier its Local Network Access prompt the socket waits;
      // closing it would take the prompt away, so a slow attempt is kept and adopted if it opens.
      const a = await openSocket(WS, withToken(url, ep.token), this.opts.connectTimeoutMs, this.clock,
        () => permission === 'prompt',
        (late) => {
          if (late.ws && this.wanted && this._state !== 'open') this.adopt(late.ws, url);
          else if (late.ws) late.ws.close();
          else if (this.wanted && this._state !== 'open' && !this.attempting) this.scheduleReconnect();
        });
      if (a.ws) return { ws: a.ws, url };
      attempts.push({ ...a, url });
      if (a.outcome === 'timeout' && permission === 'prompt') break;
    }
    // Asked again: the attempt itself may have made the browser ask, and the cashier (or a
    // headless browser) answered "block".
    return this.classify(attempts, await this.permissionAfter(permission), ep.token);
  }

  private async permissionAfter(before: Diagnosis['permission'] & string): Promise<Diagnosis['permission'] & string> {
    const after = await lnaPermission(this.permissions());
    return after === 'unknown' ? before : after;
  }

  private permissions(): PermissionsLike | null {
    if (this.opts.permissions !== undefined) return this.opts.permissions;
    const nav = (globalThis as { navigator?: { permissions?: PermissionsLike } }).navigator;
    return nav?.permissions ?? null;
  }

  private classify(attempts: Attempt[], permission: Diagnosis['permission'] & string, token?: string): Promise<Diagnosis> {
    const WS = this.WS!;
    const fetcher = this.opts.fetch ?? (globalThis as { fetch?: PispasClientOptions['fetch'] }).fetch;
    return classify({
      attempts,
      permission,
      probeUrls: this.opts.probeUrls,
      probeSocket: async (url) => {
        const a = await openSocket(WS, withToken(url, token), this.opts.connectTimeoutMs, this.clock);
        a.ws?.close();
        return !!a.ws;
      },
      probeHttp: async (url) => {
        if (!fetcher) return false;
        let timer: unknown;
        const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
        try {
          return await Promise.race([
            fetcher(url, { mode: 'no-cors', cache: 'no-store', ...(controller ? { signal: controller.signal } : {}) }).then(() => true, () => false),
            new Promise<boolean>((r) => {
              timer = this.clock.setTimeout(() => {
                controller?.abort();
                r(false);
              }, 3000);
            }),
          ]);
        } finally {
          this.clock.clearTimeout(timer);
        }
      },
    });
  }

  private failed(d: Diagnosis): void {
    this._diagnosis = d;
    this.failures++;
    this.rejectConnectWaiters(new PispasError('CONNECT_FAILED', d.message, d, d));
    if (this.opts.reconnect && this.wanted) {
      this.setState(this.everOpened ? 'reconnecting' : 'connecting', { diagnosis: d });
      // While the cashier is being asked, the waiting socket is the attempt: it is adopted when
      // they allow, and a new round starts when they block.
      if (d.code !== 'LNA_PROMPT') this.scheduleReconnect();
    } else {
      this.wanted = false;
      this.failHeld(new PispasError('DISCONNECTED', `not connected: ${d.message}`));
      this.setState('closed', { diagnosis: d });
    }
  }

  private rejectConnectWaiters(e: PispasError): void {
    for (const w of this.connectWaiters.splice(0)) w.reject(e);
  }

  private scheduleReconnect(): void {
    this.cancelBackoff();
    const { minBackoffMs, maxBackoffMs } = this.opts;
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(this.failures, 20));
    // Half fixed, half random: tills that lost the service together do not come back in step.
    const delay = ceiling / 2 + (ceiling / 2) * this.random();
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = null;
      if (this.wanted && !this.attempting && this._state !== 'open') void this.attempt();
    }, delay);
  }

  private cancelBackoff(): void {
    if (this.backoffTimer !== null) this.clock.clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
  }

  /** Reconnect at once (or check the socket) when the tab is visible again or the network is back:
   * Chrome closes idle background tabs' sockets, and a till left overnight must print at once. */
  private watchPage(): void {
    const g = globalThis as {
      addEventListener?: (t: string, f: () => void) => void;
      removeEventListener?: (t: string, f: () => void) => void;
      document?: { visibilityState?: string; addEventListener?: (t: string, f: () => void) => void; removeEventListener?: (t: string, f: () => void) => void };
    };
    const wake = () => {
      if (g.document && g.document.visibilityState === 'hidden') return;
      this.wake();
    };
    if (g.addEventListener && g.removeEventListener) {
      g.addEventListener('online', wake);
      this.unwatch.push(() => g.removeEventListener!('online', wake));
    }
    const doc = g.document;
    if (doc?.addEventListener && doc.removeEventListener) {
      doc.addEventListener('visibilitychange', wake);
      this.unwatch.push(() => doc.removeEventListener!('visibilitychange', wake));
    }
  }

  /** Reconnects now if a reconnect is pending; pings now if open (a socket that died while the
   * computer slept is then noticed at once). */
  wake(): void {
    if (!this.wanted) return;
    if (this._state === 'open') {
      this.ping();
      return;
    }
    if (!this.attempting) {
      this.cancelBackoff();
      this.failures = 0;
      void this.attempt();
    }
  }

  private adopt(ws: WebSocketLike, url: string): void {
    const gen = ++this.generation;
    this.ws = ws;
    this._url = url;
    this.preferred = url;
    this.failures = 0;
    this._diagnosis = undefined;
    const reconnected = this.everOpened;
    this.everOpened = true;
    ws.onmessage = (ev) => {
      if (gen === this.generation) this.receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen === this.generation) this.lost(`connection closed${ev && ev.code ? ` (${ev.code})` : ''}`);
    };
    ws.onerror = () => {
      /* a close follows */
    };
    this.setState('open', { url });
    this.emit('open', { url, reconnected });
    for (const w of this.connectWaiters.splice(0)) w.resolve();
    this.armKeepAlive();
    if (this.opts.learnTimeouts) this.learnConfig();
    for (const g of this.groups.values()) this.sendSubscribe(g);
    this.flush();
  }

  /** The socket is gone (closed, or dead by keep-alive). */
  private lost(reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.generation++;
    this._url = undefined;
    this.stopKeepAlive();
    try {
      ws.close();
    } catch {
      /* already closed */
    }
    for (const p of [...this.pending.values()]) {
      if (!p.sent) continue;
      if (p.idempotent && !p.internal) {
        // Resent with the same UUIDV4 when connected again: the service answers the first
        // outcome and does nothing twice.
        p.sent = false;
      } else {
        p.done();
        p.reject(new PispasError('DISCONNECTED', 'the connection to the service dropped before the reply; the service may or may not have done it'));
      }
    }
    for (const g of this.groups.values()) {
      if (g.uuid) this.routes.delete(g.uuid);
      g.uuid = null;
    }
    this.emit('close', { reason });
    if (this.closedByUser) return this.setState('closed');
    if (this.opts.reconnect && this.wanted) {
      this.setState('reconnecting');
      this.scheduleReconnect();
    } else {
      this.wanted = false;
      this.failHeld(new PispasError('DISCONNECTED', `not connected: ${reason}`));
      this.setState('closed');
    }
  }

  private failHeld(e: PispasError): void {
    for (const p of [...this.pending.values()]) {
      if (p.sent) continue;
      p.done();
      p.reject(e);
    }
  }

  // ---------------------------------------------------------------- keep-alive

  private armKeepAlive(): void {
    this.stopKeepAlive();
    if (!this.opts.keepAliveMs) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = null;
      this.ping();
    }, this.opts.keepAliveMs);
  }

  private stopKeepAlive(): void {
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** A PING; no reply within keepAliveTimeoutMs means the socket is dead (half-open). */
  private ping(): void {
    if (this._state !== 'open') return;
    const gen = this.generation;
    this.send('BASE', 'PING', {}, { timeoutMs: this.opts.keepAliveTimeoutMs }, true).then(
      () => this.armKeepAlive(),
      (e: PispasError) => {
        if (e.code === 'CLIENT_TIMEOUT' && gen === this.generation) this.lost('no reply to the keep-alive ping');
        else if (e.fromService) this.armKeepAlive();
      },
    );
  }

  /** Reads the configured reply times (PRINT_REPLY_TIMEOUT_MS) so default timeouts follow them. */
  private learnConfig(): void {
    const keys = new Set<string>();
    for (const t of Object.values(PROTOCOL.targets)) for (const a of Object.values(t.actions)) if (a.within.config) keys.add(a.within.config);
    if (!keys.size) return;
    this.send('BASE', 'CONFIG', {}, { timeoutMs: 10000 }, true).then(
      (data) => {
        const d = (data ?? {}) as Record<string, unknown>;
        for (const k of keys) {
          const n = Number(d[k]);
          if (Number.isFinite(n) && n > 0) this.learned.set(k, n);
        }
      },
      () => {},
    );
  }

  // ---------------------------------------------------------------- calls

  /**
   * Sends TARGET ACTION with `params` (top-level request fields, UPPER_SNAKE as on the wire).
   * Resolves with MESSAGE_DATA on SUCCESS; rejects with a PispasError whose `code`, `message` and
   * `details` are the service's CODE, MESSAGE and DETAILS, or one of the SDK's own codes.
   */
  call<T = unknown>(target: string, action: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<T> {
    return this.send(target, action, params, options, false) as Promise<T>;
  }

  /** The default timeout of a call: the service's own reply time plus the margin. */
  defaultTimeout(target: string, action: string, params: Record<string, unknown> = {}): number {
    const info = describe(target, action);
    if (!info) return this.opts.defaultTimeoutMs;
    const w = info.within;
    let within: number;
    if (w.ms !== undefined) within = w.ms;
    else if (w.param !== undefined) {
      const given = Number(params[w.param]);
      within = Math.min(Number.isFinite(given) && given >= 0 ? given : (w.default ?? 0), w.max ?? Infinity) + (w.plus_ms ?? 0);
    } else {
      const configured = (w.config !== undefined ? this.learned.get(w.config) : undefined) ?? w.default ?? 0;
      within = Math.min(configured, w.max ?? Infinity) + (w.plus_ms ?? 0);
    }
    return within + this.opts.timeoutMarginMs;
  }

  private send(target: string, action: string, params: Record<string, unknown>, options: CallOptions, internal: boolean): Promise<unknown> {
    const T = target.toUpperCase();
    if (this.closedByUser) return Promise.reject(new PispasError('CLOSED', 'the client was closed'));
    if (!this.wanted && this._state !== 'open') {
      return Promise.reject(new PispasError('NOT_CONNECTED', 'call connect() first'));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new PispasError('ABORTED', `${T} ${action}: aborted`));
    const uuid = options.uuid ?? uuidv4();
    const info = describe(T, action);
    const idempotent = options.idempotent ?? info?.idempotent ?? false;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeout(T, action, params);
    const frame = JSON.stringify({ ...params, UUIDV4: uuid, TARGET: T, ACTION: action });
    if (this._state !== 'open' && !internal) {
      let held = 0;
      for (const p of this.pending.values()) if (!p.sent) held++;
      if (held >= this.opts.maxHeld) {
        return Promise.reject(new PispasError('QUEUE_FULL', `${held} calls are already waiting for the connection`));
      }
    }
    if (this.pending.has(uuid)) {
      return Promise.reject(new PispasError('DUPLICATE_UUID', `a call with UUIDV4 ${uuid} is already waiting`));
    }
    return new Promise((resolve, reject) => {
      let timer: unknown = null;
      let onAbort: (() => void) | null = null;
      const p: Pending = {
        uuid,
        frame,
        idempotent,
        internal,
        sent: false,
        resolve,
        reject,
        done: () => {
          this.pending.delete(uuid);
          if (timer !== null) this.clock.clearTimeout(timer);
          if (onAbort) signal?.removeEventListener('abort', onAbort);
        },
      };
      timer = this.clock.setTimeout(() => {
        p.done();
        reject(new PispasError('CLIENT_TIMEOUT', `${T} ${action}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      if (signal) {
        onAbort = () => {
          p.done();
          reject(new PispasError('ABORTED', `${T} ${action}: aborted`));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.pending.set(uuid, p);
      if (this._state === 'open') this.transmit(p);
      else if (internal) {
        p.done();
        reject(new PispasError('DISCONNECTED', 'not connected'));
      }
    });
  }

  private transmit(p: Pending): void {
    if (!this.ws) return;
    try {
      this.ws.send(p.frame);
      p.sent = true;
    } catch {
      // The socket is closing; the close handler holds or fails it.
    }
  }

  /** Sends the calls held while not connected, oldest first. */
  private flush(): void {
    for (const p of [...this.pending.values()]) if (!p.sent && this._state === 'open') this.transmit(p);
  }

  private receive(data: unknown): void {
    this.armKeepAlive();
    let msg: { MESSAGE_TYPE?: unknown; MESSAGE_UUID?: unknown; MESSAGE_EXEC?: unknown; MESSAGE_DATA?: unknown; SERVICE_NAME?: unknown };
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.MESSAGE_TYPE === 'EVENT') return this.dispatch(msg);
    const uuid = typeof msg.MESSAGE_UUID === 'string' ? msg.MESSAGE_UUID : null;
    const p = uuid ? this.pending.get(uuid) : undefined;
    if (!p || !p.sent) return;
    p.done();
    if (msg.MESSAGE_EXEC === 'SUCCESS') p.resolve(msg.MESSAGE_DATA);
    else p.reject(PispasError.fromFailure(msg.MESSAGE_DATA));
  }

  private dispatch(msg: { MESSAGE_UUID?: unknown; MESSAGE_DATA?: unknown; SERVICE_NAME?: unknown }): void {
    const data = (msg.MESSAGE_DATA ?? {}) as { EVENT?: unknown };
    const ev: PispasEvent = {
      event: (typeof data.EVENT === 'string' ? data.EVENT : '') as EventName,
      target: typeof msg.SERVICE_NAME === 'string' ? msg.SERVICE_NAME : '',
      uuid: typeof msg.MESSAGE_UUID === 'string' ? msg.MESSAGE_UUID : null,
      data: msg.MESSAGE_DATA as EventMap[EventName],
    };
    const group = ev.uuid ? this.routes.get(ev.uuid) : undefined;
    if (group) for (const h of group.handles) h.deliver(ev);
    this.emit('event', ev);
    if (ev.event) this.emit(ev.event, ev);
    for (const s of this.streams) if (!s.names || s.names.has(ev.event)) s.queue.push(ev);
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Subscribes with TARGET ACTION (a SUBSCRIBE-like action): its events go to the returned
   * subscription. One server subscription per TARGET/ACTION/params is shared by every handle;
   * the last `stop()` sends the module's UNSUBSCRIBE. Sent on connect when made before it, and
   * again after every reconnect.
   */
  subscribe<E extends EventName = EventName, R = unknown>(
    target: string,
    action: string,
    params: Record<string, unknown> = {},
    options: SubscribeOptions = {},
  ): Subscription<E, R> {
    const T = target.toUpperCase();
    const info = describe(T, action);
    const stop = info?.subscription?.stop ?? 'UNSUBSCRIBE';
    const key = `${T} ${normaliseAction(action)} ${stable(params)}`;
    let g = this.groups.get(key);
    if (!g) {
      const settle = { resolve: (_: unknown) => {}, reject: (_: unknown) => {}, settled: false };
      const ready = new Promise<unknown>((resolve, reject) => {
        settle.resolve = (v) => {
          settle.settled = true;
          resolve(v);
        };
        settle.reject = (e) => {
          settle.settled = true;
          reject(e);
        };
      });
      ready.catch(() => {}); // a caller that never looks at `ready` must not see an unhandled rejection
      g = { key, target: T, action, stop, params, uuid: null, handles: new Set(), ready, settle, inflight: null, buffer: options.buffer ?? 1000 };
      this.groups.set(key, g);
      if (this.closedByUser) settle.reject(new PispasError('CLOSED', 'the client was closed'));
      else if (this._state === 'open') this.sendSubscribe(g);
    }
    const h = new SubscriptionHandle(this, g);
    g.handles.add(h);
    return h as unknown as Subscription<E, R>;
  }

  private sendSubscribe(g: Group): void {
    // The service keeps one subscription per topic and connection: an UNSUBSCRIBE of the same
    // thing still on its way must land first, or it would end this new one.
    const before = this.stopping.get(g.key);
    if (before) {
      void before.then(() => {
        if (this.groups.get(g.key) === g && !g.uuid && this._state === 'open') this.sendSubscribe(g);
      });
      return;
    }
    const uuid = uuidv4();
    g.uuid = uuid;
    this.routes.set(uuid, g);
    const sent = this.send(g.target, g.action, g.params, { uuid }, true);
    g.inflight = sent;
    sent.then(
      (reply) => {
        if (!g.settle.settled) g.settle.resolve(reply);
      },
      (e: PispasError) => {
        // A drop is not an answer: the subscription is sent again on reconnect.
        if (e.code === 'DISCONNECTED' || e.code === 'CLOSED') return;
        if (!g.settle.settled) g.settle.reject(e);
      },
    ).finally(() => {
      if (g.inflight === sent) g.inflight = null;
    });
  }

  /** @internal Called by a subscription's stop(). */
  _unsubscribe(h: SubscriptionHandle): Promise<void> {
    const g = h.group;
    g.handles.delete(h);
    if (g.handles.size) return Promise.resolve();
    this.groups.delete(g.key);
    const work = (async () => {
      if (g.inflight) await g.inflight.catch(() => {});
      const uuid = g.uuid;
      g.uuid = null;
      if (uuid) this.routes.delete(uuid);
      // Subscribed again meanwhile: that SUBSCRIBE took over the topic; do not end it.
      if (!uuid || this._state !== 'open' || this.groups.has(g.key)) return;
      try {
        await this.send(g.target, g.stop, g.params, {}, true);
      } catch {
        // Not connected any more: the subscription ended with the connection.
      }
    })();
    this.stopping.set(g.key, work);
    void work.finally(() => {
      if (this.stopping.get(g.key) === work) this.stopping.delete(g.key);
    });
    return work;
  }

  // ---------------------------------------------------------------- diagnose

  /**
   * Which of these is true, as a stable code and a sentence for the cashier: CONNECTED,
   * SERVICE_NOT_RUNNING, CERTIFICATE_NOT_TRUSTED (with the link to open), LNA_BLOCKED (the
   * browser's Local Network Access permission), LNA_PROMPT (the cashier has not answered the
   * browser's question yet) or ORIGIN_REFUSED.
   */
  async diagnose(): Promise<Diagnosis> {
    if (this._state === 'open' && this._url) {
      const url = this._url;
      try {
        await this.send('BASE', 'PING', {}, { timeoutMs: this.opts.keepAliveTimeoutMs }, true);
        return diagnosis('CONNECTED', `connected to ${url}`, { url });
      } catch (e) {
        if (e instanceof PispasError && e.fromService) return diagnosis('CONNECTED', `connected to ${url}`, { url });
      }
    }
    const WS = this.WS;
    if (!WS) return diagnosis('SERVICE_NOT_RUNNING', 'no WebSocket implementation');
    let ep: Endpoint;
    try {
      ep = await this.endpoint();
    } catch (e) {
      return diagnosis('SERVICE_NOT_RUNNING', e instanceof Error ? e.message : String(e));
    }
    const permission = await lnaPermission(this.permissions());
    if (permission === 'denied') return classify({ attempts: [], permission, probeUrls: [], probeSocket: async () => false, probeHttp: async () => false });
    const attempts: Attempt[] = [];
    for (const url of ep.urls) {
      const a = await openSocket(WS, withToken(url, ep.token), this.opts.connectTimeoutMs, this.clock);
      if (a.ws) {
        a.ws.close();
        return diagnosis('CONNECTED', `${url} answers`, { url, permission });
      }
      attempts.push(a);
    }
    return this.classify(attempts, await this.permissionAfter(permission), ep.token);
  }
}

/** Helper parameters (camelCase) → wire parameters (UPPER_SNAKE), nested where the description
 * has fields (OPTIONS); DATA and free-form maps are passed as they are. */
function toWire(params: Record<string, unknown> | undefined, info: ActionInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined) continue;
    const wk = wireKey(k);
    if (info.convert?.includes(wk) && v && typeof v === 'object' && !Array.isArray(v)) {
      const inner: Record<string, unknown> = {};
      for (const [ik, iv] of Object.entries(v as Record<string, unknown>)) if (iv !== undefined) inner[wireKey(ik)] = iv;
      out[wk] = inner;
    } else out[wk] = v;
  }
  return out;
}

export { DIAGNOSES };
