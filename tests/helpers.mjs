// Shared by the node tests: start the real headless engine (or the desktop app) on free ports
// with a fresh data folder, talk to it over the WebSocket, and clean up.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
export const ENGINE_BIN = process.env.PISPAS_ENGINE_BIN || join(TARGET, 'debug', 'pispas-modules');
export const APP_BIN = process.env.PISPAS_APP_BIN || join(TARGET, 'debug', 'pispas');
export const SIM_BIN = process.env.PISPAS_SIM_BIN || join(TARGET, 'debug', 'pispas-sim');
export { WebSocket };

/** A port that was free a moment ago. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on `port` (or rejects after `ms`). */
export async function waitForPort(port, ms = 30000, child = null) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return Date.now() - start;
    await sleep(25);
  }
  throw new Error(`nothing listening on ${port} after ${ms} ms`);
}

export async function waitForClosed(port, ms = 15000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const open = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (!open) return;
    await sleep(50);
  }
  throw new Error(`port ${port} still open after ${ms} ms`);
}

/** A fresh folder with a .env holding `values`. */
export function makeConfig(values) {
  const dir = mkdtempSync(join(tmpdir(), 'pispas-ui-'));
  const env = Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
  writeFileSync(join(dir, '.env'), env);
  return dir;
}

/** Environment for children: no inherited Pispas keys, so the .env is what counts. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(LOCAL_|VIEWER_|MODULES|ALLOWED_ORIGINS|ADMIN_TOKEN|LAN_TOKEN|COMMAND_LOG|DATA_DIR|CERT_DIR)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Starts the headless engine with a .env in a fresh folder; `values` are written to the .env. */
export async function startEngine(values = {}, { dir } = {}) {
  const wsPort = values.LOCAL_PORT ?? (await freePort());
  const viewerPort = values.VIEWER_PORT ?? (await freePort());
  const conf = { MODULES: 'base', HEARTBEAT_SECS: '0', LOG_LEVEL: 'warn', ...values, LOCAL_PORT: wsPort, VIEWER_PORT: viewerPort };
  if (dir) writeFileSync(join(dir, '.env'), Object.entries(conf).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  else dir = makeConfig(conf);
  const child = spawn(ENGINE_BIN, ['--config', join(dir, '.env'), '--data-dir', join(dir, 'data')], {
    env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  await waitForPort(Number(wsPort), 30000, child);
  await waitForPort(Number(viewerPort), 10000, child);
  // A configured ADMIN_TOKEN is used as is; otherwise the engine generated one in its data folder.
  const token = conf.ADMIN_TOKEN ?? readFileSync(join(dir, 'data', 'admin_token'), 'utf8').trim();
  return {
    child, dir, wsPort: Number(wsPort), viewerPort: Number(viewerPort), token,
    url: (page) => `http://127.0.0.1:${viewerPort}/${page}`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      return child.exitCode;
    },
  };
}

/** A minimal protocol client for tests (not the one under test). */
export async function rawClient(port, { token, origin } = {}) {
  const url = `ws://127.0.0.1:${port}/${token ? `?token=${token}` : ''}`;
  const ws = new WebSocket(url, origin ? { origin } : {});
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let n = 0;
  const waiters = new Map();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    const w = waiters.get(m.MESSAGE_UUID);
    if (w && m.MESSAGE_TYPE === 'RESPONSE') { waiters.delete(m.MESSAGE_UUID); w(m); }
  });
  return {
    ws,
    call(target, action, params = {}) {
      const id = `test-${process.pid}-${++n}`;
      ws.send(JSON.stringify({ UUIDV4: id, TARGET: target, ACTION: action, ...params }));
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`${target} ${action}: no reply`)), 10000);
        waiters.set(id, (m) => { clearTimeout(t); res(m); });
      });
    },
    close() { ws.close(); },
  };
}
