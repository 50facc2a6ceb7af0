// Measures the release desktop app (run through scripts/perf-desktop.sh, which gives it a display
// and a D-Bus session): time from launch to the WebSocket answering CHECK, and memory (PSS summed
// over the app and every process it started: WebKitWebProcess, WebKitNetworkProcess, …) with the
// status window open, after closing it, and when started in the tray only. Prints Markdown.

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeConfig, rawClient, sleep, waitForClosed, ROOT } from '../helpers.mjs';

const BIN = process.env.PISPAS_APP_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'release', 'pispas');
const RUNS = Number(process.env.RUNS || 5);

function launch(dir, args = []) {
  return spawn(BIN, ['--config', join(dir, '.env'), '--data-dir', join(dir, 'data'), ...args], { stdio: 'ignore' });
}

function descendants(pid) {
  let out = [];
  let kids = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch { /* none */ }
  for (const k of kids) out = out.concat([k], descendants(k));
  return out;
}

function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function memory(pid) {
  const procs = [pid, ...descendants(pid)];
  const parts = procs.map((p) => {
    let name = '?';
    try { name = readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch { /* gone */ }
    return { pid: p, name, kib: pssKiB(p) };
  });
  return { totalMiB: parts.reduce((a, b) => a + b.kib, 0) / 1024, parts };
}

async function answered(port, t0) {
  for (;;) {
    try {
      const c = await rawClient(port);
      const r = await c.call('BASE', 'CHECK');
      c.close();
      if (r.MESSAGE_EXEC === 'SUCCESS') return Date.now() - t0;
    } catch { /* not yet */ }
    await sleep(5);
  }
}

async function quit(dir, app, port) {
  const q = launch(dir, ['--quit']);
  await new Promise((r) => q.once('exit', r));
  await new Promise((r) => (app.exitCode !== null ? r() : app.once('exit', r)));
  await waitForClosed(port);
}

const times = [];
for (let i = 0; i < RUNS; i++) {
  const port = await freePort();
  const dir = makeConfig({ LOCAL_PORT: port, VIEWER_PORT: await freePort(), MODULES: 'base', HEARTBEAT_SECS: 0 });
  // The first launch of a fresh data folder generates the certificate; measure later launches too.
  const t0 = Date.now();
  const app = launch(dir, i === 0 ? [] : ['--hidden']);
  times.push(await answered(port, t0));
  if (i === 0) {
    await sleep(8000);
    const open = memory(app.pid);
    const c = launch(dir, ['--close']);
    await new Promise((r) => c.once('exit', r));
    await sleep(8000);
    const closed = memory(app.pid);
    console.log(`memory with the status window open: ${open.totalMiB.toFixed(0)} MiB ${JSON.stringify(open.parts)}`);
    console.log(`memory after closing it: ${closed.totalMiB.toFixed(0)} MiB ${JSON.stringify(closed.parts)}`);
    globalThis.mem = { open, closed };
  }
  if (i === 1) {
    await sleep(8000);
    const tray = memory(app.pid);
    console.log(`memory tray only (started --hidden): ${tray.totalMiB.toFixed(0)} MiB ${JSON.stringify(tray.parts)}`);
    globalThis.mem.tray = tray;
  }
  await quit(dir, app, port);
}
times.sort((a, b) => a - b);
const fmt = (m) => `${m.totalMiB.toFixed(0)} MiB (${m.parts.filter((p) => p.kib > 0).map((p) => `${p.name} ${(p.kib / 1024).toFixed(0)}`).join(', ')})`;
console.log('\n| release build, this machine | value |\n|---|---|');
console.log(`| launch → WebSocket answers CHECK, ${RUNS} launches (first one generates the TLS certificate) | median ${times[Math.floor(times.length / 2)]} ms, min ${times[0]} ms, max ${times[times.length - 1]} ms |`);
console.log(`| PSS, status window open | ${fmt(globalThis.mem.open)} |`);
console.log(`| PSS, after closing the window (app in the tray) | ${fmt(globalThis.mem.closed)} |`);
console.log(`| PSS, started in the tray (--hidden), no window yet | ${fmt(globalThis.mem.tray)} |`);
