// @pispas/local — the JavaScript SDK of the Pispas local service.
//
//   import { PispasClient } from '@pispas/local';
//   const client = new PispasClient();
//   await client.connect();
//   await client.print.print({ printer: 'RECEIPT', format: 'HTML', data: '<h1>Hola</h1>' });

export { PispasClient, DEFAULT_URLS, describe, normaliseAction, wireKey } from './client.js';
export { PispasError } from './errors.js';
export { uuidv4 } from './uuid.js';
export { lnaPermission, LNA_PERMISSION_NAMES } from './diagnose.js';
export * from './generated/protocol.js';
export type * from './types.js';
