// The one error type: a FAILURE reply (the service's CODE, MESSAGE, DETAILS) or the SDK's own
// code (DISCONNECTED, CLIENT_TIMEOUT, …), which never reuses a service code.

import { SERVER_CODES, type ServerCode, type ClientCode } from './generated/protocol.js';
import type { Diagnosis } from './types.js';

const SERVER = new Set<string>(SERVER_CODES);

export class PispasError extends Error {
  /** The service's CODE, or one of the SDK's (CLIENT_CODES). */
  readonly code: ServerCode | ClientCode | string;
  /** The service's DETAILS (or, for CONNECT_FAILED, the diagnosis). */
  readonly details: unknown;
  /** For CONNECT_FAILED: what diagnose() found. */
  readonly diagnosis?: Diagnosis;

  constructor(code: string, message: string, details?: unknown, diagnosis?: Diagnosis) {
    super(message);
    this.name = 'PispasError';
    this.code = code;
    this.details = details;
    if (diagnosis) this.diagnosis = diagnosis;
  }

  /** True when the service answered FAILURE (as opposed to the SDK giving up). */
  get fromService(): boolean {
    return SERVER.has(this.code);
  }

  /** From a FAILURE reply's MESSAGE_DATA. */
  static fromFailure(data: unknown): PispasError {
    const d = (data && typeof data === 'object' ? data : {}) as { CODE?: unknown; MESSAGE?: unknown; DETAILS?: unknown };
    const code = typeof d.CODE === 'string' ? d.CODE : 'INTERNAL';
    const message = typeof d.MESSAGE === 'string' ? d.MESSAGE : 'the service refused the request';
    return new PispasError(code, message, d.DETAILS);
  }
}
