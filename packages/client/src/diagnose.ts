// What is wrong when the service cannot be reached, told apart from the shape of the failure:
// the browser's Local Network Access permission (denied, or a prompt nobody answered), a TLS
// certificate the browser does not trust (the plain port answers, the TLS one does not), a page
// the service refuses (something answers HTTP but the WebSocket is refused), or nothing there.
// A block is never reported as "not running".

import { DIAGNOSES, type DiagnoseCode } from './generated/protocol.js';
import type { Diagnosis, PermissionLike } from './types.js';
import { certificateLink, httpOf, isSecure, plainSibling, type Attempt } from './socket.js';

/** Chromium 142+ calls it 'local-network-access'; later versions split it into 'loopback-network'
 * and 'local-network'. Names a browser does not know throw, and count as unknown. */
export const LNA_PERMISSION_NAMES = ['local-network-access', 'loopback-network', 'local-network'];

export type PermissionsLike = { query(d: { name: string }): Promise<{ state: string }> };

/** The most telling state among the LNA permission names: denied, then prompt, then granted. */
export async function lnaPermission(permissions: PermissionsLike | null | undefined): Promise<PermissionLike> {
  if (!permissions || typeof permissions.query !== 'function') return 'unknown';
  const states = new Set<string>();
  for (const name of LNA_PERMISSION_NAMES) {
    try {
      const s = await permissions.query({ name });
      if (s && typeof s.state === 'string') states.add(s.state);
    } catch {
      // Not a permission this browser knows.
    }
  }
  for (const s of ['denied', 'prompt', 'granted'] as const) if (states.has(s)) return s;
  return 'unknown';
}

export function diagnosis(code: DiagnoseCode, detail: string, extra: Partial<Diagnosis> = {}): Diagnosis {
  return { code, message: DIAGNOSES[code].cashier, detail, ...extra };
}

export interface ClassifyContext {
  attempts: Attempt[];
  permission: PermissionLike;
  /** Does a plain WebSocket open at this URL (closed again at once)? */
  probeSocket(url: string): Promise<boolean>;
  /** Does anything answer HTTP at this URL? */
  probeHttp(url: string): Promise<boolean>;
  probeUrls: string[];
}

/** Why none of `attempts` opened. */
export async function classify(c: ClassifyContext): Promise<Diagnosis> {
  const seen = c.attempts
    .map((a) => `${a.url}: ${a.outcome}${a.message ? ` (${a.message})` : ''}`)
    .join('; ');
  const extra = { permission: c.permission };
  const make = (code: DiagnoseCode, more: Partial<Diagnosis> = {}) => diagnosis(code, seen || 'no address to try', { ...extra, ...more });
  if (c.permission === 'denied') return make('LNA_BLOCKED');
  if (c.permission === 'prompt' && c.attempts.some((a) => a.outcome === 'timeout')) return make('LNA_PROMPT');
  // Node's `ws` says why; browsers never do.
  for (const a of c.attempts) {
    if (a.message && /\b(401|403)\b/.test(a.message)) return make('ORIGIN_REFUSED');
  }
  for (const a of c.attempts) {
    if (isSecure(a.url) && a.message && /certificate|self[- ]signed|CERT_|unable to verify/i.test(a.message)) {
      return make('CERTIFICATE_NOT_TRUSTED', { link: certificateLink(a.url) });
    }
  }
  // A TLS address that failed while the plain one on the same port opens: the certificate.
  const triedPlain = new Set(c.attempts.filter((a) => !isSecure(a.url)).map((a) => plainSibling(a.url)));
  for (const a of c.attempts) {
    if (!isSecure(a.url)) continue;
    const plain = plainSibling(a.url);
    if (triedPlain.has(plain)) continue;
    if (await c.probeSocket(plain)) return make('CERTIFICATE_NOT_TRUSTED', { link: certificateLink(a.url) });
  }
  // Something answers HTTP, yet the WebSocket was refused: this page is not allowed.
  const http = [...new Set([...c.attempts.map((a) => httpOf(a.url)), ...c.probeUrls])];
  for (const url of http) {
    if (await c.probeHttp(url)) return make('ORIGIN_REFUSED');
  }
  return make('SERVICE_NOT_RUNNING');
}
