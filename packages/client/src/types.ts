// The SDK's public option and result types, hand-written (the protocol's own types are generated
// into generated/protocol.ts).

import type { EventMap, EventName, DiagnoseCode } from './generated/protocol.js';

/** Options of one call. */
export interface CallOptions {
  /** Give up after this many ms (CLIENT_TIMEOUT). Default: the service's own reply time for the
   * action (protocol/pispas.json `reply_within`) plus `timeoutMarginMs`, so the client never gives
   * up on a print the service is still working on. */
  timeoutMs?: number;
  /** Abort waiting (ABORTED). The request may already have reached the service. */
  signal?: AbortSignal;
  /** The request's UUIDV4; by default a fresh one. Pass the same one to repeat a print safely. */
  uuid?: string;
  /** Override whether the call is resent with the same UUIDV4 after a dropped connection. Only
   * actions that treat the UUIDV4 as an idempotency key are retried by default. */
  idempotent?: boolean;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Events kept for a slow async iterator before the oldest are dropped (default 1000). */
  buffer?: number;
}

/** An EVENT as the SDK hands it out. */
export interface PispasEvent<E extends EventName = EventName> {
  /** MESSAGE_DATA.EVENT */
  event: E;
  /** SERVICE_NAME: the TARGET that sent it */
  target: string;
  /** MESSAGE_UUID: the request that subscribed or started the work, or null */
  uuid: string | null;
  /** MESSAGE_DATA */
  data: EventMap[E];
}

/** A live subscription: events as callbacks and as an async iterator; `stop()` sends the
 * module's UNSUBSCRIBE once nobody else on this client listens to the same thing. It is sent
 * again after every reconnect, and sent on connect when made before the first one. */
export interface Subscription<E extends EventName = EventName, R = unknown>
  extends AsyncIterable<PispasEvent<E>> {
  /** Settles with the SUBSCRIBE reply (or rejects with its FAILURE). */
  readonly ready: Promise<R>;
  /** Calls `listener` for every event of this subscription; returns a remover. */
  on(listener: (event: PispasEvent<E>) => void): () => void;
  /** Stops it; resolves once the service confirmed (or at once when not connected). */
  stop(): Promise<void>;
  readonly stopped: boolean;
}

/** What `diagnose()` found. */
export interface Diagnosis {
  code: DiagnoseCode;
  /** The sentence to show the cashier. */
  message: string;
  /** What the SDK saw, for support. */
  detail: string;
  /** For CERTIFICATE_NOT_TRUSTED: the address to open once and accept. */
  link?: string;
  /** For CONNECTED: where. */
  url?: string;
  /** The Local Network Access permission as the browser reports it. */
  permission?: PermissionLike;
}

export type PermissionLike = 'granted' | 'denied' | 'prompt' | 'unknown';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** Why it is not open (after a failed attempt). */
  diagnosis?: Diagnosis;
  /** The URL when open. */
  url?: string;
}

/** A WebSocket as the browser and the `ws` package both provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Timers, replaceable in tests. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Where to connect; `resolve` may return it before every (re)connect. */
export interface Endpoint {
  urls: string[];
  token?: string;
}

export interface PispasClientOptions {
  /** One URL or a list tried in order. Default: wss://local.unpispas.es:5005 then ws://127.0.0.1:5005. */
  url?: string | string[];
  /** Admin or LAN token, sent as `?token=`. */
  token?: string;
  /** Called before every (re)connect; overrides `url` and `token` (a page that follows the
   * service to a new port). Throwing counts as "not running" with the error as the detail. */
  resolve?: () => Promise<{ url?: string | string[]; token?: string }>;
  /** A WebSocket class (Node < 22: the `ws` package). Default: the global one. */
  WebSocket?: WebSocketConstructor;
  /** Per-URL wait for the socket to open (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Added to the service's reply time for a call's default timeout (default 10000 ms). */
  timeoutMarginMs?: number;
  /** Default timeout for actions the description does not know (default 30000 ms). */
  defaultTimeoutMs?: number;
  /** Reconnect after a drop or a failed attempt (default true). */
  reconnect?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A PING after this much silence (default 25000 ms; 0 = never). */
  keepAliveMs?: number;
  /** The socket counts as dead when the keep-alive PING gets no reply in this time (default 10000 ms). */
  keepAliveTimeoutMs?: number;
  /** Calls held while reconnecting, at most (default 100; further ones fail with QUEUE_FULL). */
  maxHeld?: number;
  /** Ask BASE CONFIG after connecting, for reply times that depend on configuration
   * (PRINT_REPLY_TIMEOUT_MS). Default true. */
  learnTimeouts?: boolean;
  /** Extra HTTP addresses diagnose() may probe to tell "refused" from "not running" (default:
   * the service's page server, http://127.0.0.1:8081/endpoint.json). */
  probeUrls?: string[];
  /** Reconnect at once when the tab becomes visible or the network returns (default true in a
   * browser). */
  watchPage?: boolean;
  /** Tests only. */
  clock?: Clock;
  random?: () => number;
  fetch?: (url: string, init?: Record<string, unknown>) => Promise<unknown>;
  permissions?: { query(d: { name: string }): Promise<{ state: string }> } | null;
}

/** The runtime table generated from the description. */
export interface ProtocolTable {
  protocol: number;
  targets: Record<string, {
    helper: string;
    available: boolean;
    actions: Record<string, ActionInfo>;
  }>;
}

export interface ActionInfo {
  helper: string;
  within: { ms?: number; param?: string; config?: string; default?: number; max?: number; plus_ms?: number };
  admin?: boolean;
  idempotent?: boolean;
  convert?: string[];
  subscription?: { events: string[]; stop: string };
}
