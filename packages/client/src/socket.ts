// Opening one WebSocket with a deadline, and the URL helpers around it.

import type { Clock, WebSocketConstructor, WebSocketLike } from './types.js';

export interface Attempt {
  url: string;
  outcome: 'open' | 'error' | 'timeout';
  /** What the WebSocket said, where it says anything (Node's `ws` does; browsers do not). */
  message?: string;
  ws?: WebSocketLike;
}

/**
 * Opens `url`; settles with the open socket, or with why not. At `timeoutMs`, `onSlow` decides:
 * true keeps waiting (the browser is showing the cashier a permission prompt, and closing the
 * socket would take the prompt away), false gives up.
 */
export function openSocket(
  WS: WebSocketConstructor,
  url: string,
  timeoutMs: number,
  clock: Clock,
  onSlow?: () => boolean,
  keep?: (a: Attempt) => void,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let ws: WebSocketLike;
    try {
      ws = new WS(url);
    } catch (e) {
      resolve({ url, outcome: 'error', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    let settled = false;
    let kept = false;
    const finish = (outcome: Attempt['outcome'], message?: string) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      if (outcome !== 'open') {
        try {
          ws.close();
        } catch {
          /* never opened */
        }
      }
      const result: Attempt = outcome === 'open' ? { url, outcome, ws } : { url, outcome, ...(message ? { message } : {}) };
      if (kept) keep?.(result);
      else resolve(result);
    };
    const timer = clock.setTimeout(() => {
      if (onSlow?.()) {
        // Report the slow attempt now, and hand over whatever it becomes later.
        kept = true;
        resolve({ url, outcome: 'timeout' });
        return;
      }
      finish('timeout');
    }, timeoutMs);
    ws.onopen = () => finish('open');
    ws.onerror = (ev) => {
      const m = ev && typeof ev === 'object' && 'message' in ev ? String((ev as { message: unknown }).message) : undefined;
      finish('error', m);
    };
    ws.onclose = (ev) => finish('error', ev && ev.code ? `closed with ${ev.code}` : undefined);
  });
}

/** `url` with `?token=` added (the service reads it on the handshake). */
export function withToken(url: string, token?: string): string {
  if (!token) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

const LOOPBACK_NAMES = new Set(['local.unpispas.es', 'localhost']);

function parts(url: string): { secure: boolean; host: string; port: string } {
  const u = new URL(url);
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  return { secure, host: u.hostname, port: u.port || (secure ? '443' : '80') };
}

function hostPort(host: string, port: string): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The plain ws:// address on the same port (TLS and plain share it), on 127.0.0.1 for the
 * names that point at this computer, so an https page may still use it. */
export function plainSibling(url: string): string {
  const { host, port } = parts(url);
  return `ws://${hostPort(LOOPBACK_NAMES.has(host) ? '127.0.0.1' : host, port)}/`;
}

/** The https:// address a cashier opens to accept the certificate of a wss:// URL. */
export function certificateLink(url: string): string {
  const { host, port } = parts(url);
  return `https://${hostPort(host, port)}/`;
}

/** The HTTP address of the same server (plain for ws, https for wss). */
export function httpOf(url: string): string {
  const { secure, host, port } = parts(url);
  return `${secure ? 'https' : 'http'}://${hostPort(host, port)}/`;
}

export function isSecure(url: string): boolean {
  return parts(url).secure;
}
