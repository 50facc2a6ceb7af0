// The .deb as a new user installs it (scripts/test.d/desktop.sh builds it with the Tauri CLI and
// runs this as root or with sudo): `dpkg -i` puts the app, the pdfium it bundles and pdfium's
// licences in place and adds local.unpispas.es to /etc/hosts; the installed binary, headless on a
// fresh data folder with nothing configured but a printer, prints an HTML and a PDF receipt to
// the virtual printer (Chromium found by itself, pdfium from /usr/lib/Pispas/ — not the copy in
// /usr/local/lib a developer's machine has); `dpkg -r` takes the hosts line out again.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIM_BIN, freePort, makeConfig, rawClient, waitForPort } from '../helpers.mjs';

const DEB = process.env.PISPAS_DEB;
const BIN = '/usr/bin/pispas';
const RESOURCES = '/usr/lib/Pispas';
const HOSTS_LINE = '127.0.0.1 local.unpispas.es # pispas-local-service';
const asRoot = (args) => execFileSync(process.getuid() === 0 ? args[0] : 'sudo', process.getuid() === 0 ? args.slice(1) : args,
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const hostsHasLine = () => readFileSync('/etc/hosts', 'utf8').split('\n').some((l) => l.trimEnd() === HOSTS_LINE);

const children = [];
after(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

test('dpkg -i installs the app, the pdfium it bundles with its licences, and the hosts entry', () => {
  assert.ok(DEB && existsSync(DEB), `PISPAS_DEB=${DEB}: build it first (scripts/test.d/desktop.sh)`);
  asRoot(['dpkg', '-i', DEB]);
  assert.ok(existsSync(BIN), `${BIN} installed`);
  assert.ok(existsSync(join(RESOURCES, 'libpdfium.so')), 'pdfium bundled');
  assert.ok(existsSync(join(RESOURCES, 'pdfium-licenses', 'BUILD_LICENSES', 'pdfium.txt')), "pdfium's licence bundled");
  assert.ok(hostsHasLine(), `postinst added "${HOSTS_LINE}" to /etc/hosts`);
});

test('the installed binary, headless on a fresh data folder, prints an HTML and a PDF receipt', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pispas-deb-out-'));
  const sim = spawn(SIM_BIN, ['printer', '--port', '0', '--out', out], { stdio: ['pipe', 'pipe', 'ignore'] });
  children.push(sim);
  const first = await new Promise((resolve, reject) => {
    createInterface({ input: sim.stdout }).once('line', resolve);
    sim.once('exit', (c) => reject(new Error(`pispas-sim exited with ${c}`)));
  });
  sim.stdout.resume();
  const uri = first.slice(first.indexOf('=') + 1);
  const wsPort = await freePort();
  const dir = makeConfig({ LOCAL_PORT: wsPort, VIEWER_PORT: await freePort(), MODULES: 'base,print', PRINTER_RECEIPT: uri, LOG_LEVEL: 'info' });
  // What a user's session has: no PDFIUM_PATH or CHROME_PATH, nothing of ours in the environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PDFIUM_PATH|CHROME_PATH|LOCAL_|VIEWER_|MODULES|PRINTER_|DATA_DIR|RUST_LOG)/.test(k)));
  const app = spawn(BIN, ['--headless', '--config', join(dir, '.env'), '--data-dir', join(dir, 'data')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(app);
  let stderr = '';
  app.stderr.on('data', (d) => { stderr += d; });
  try {
    await waitForPort(wsPort, 30000, app);
    const token = readFileSync(join(dir, 'data', 'admin_token'), 'utf8').trim();
    const c = await rawClient(wsPort, { token });
    const html = '<html><body style="margin:0"><div style="height:80px;background:#000"></div><p>Gracias</p></body></html>';
    const h = await c.call('PRINT', 'PRINT', { PRINTER: 'RECEIPT', FORMAT: 'HTML', DATA: html });
    assert.equal(h.MESSAGE_EXEC, 'SUCCESS', JSON.stringify(h));
    // A one-page PDF, 72 mm wide, black in its bottom half (the PDF the engine's tests use).
    const pdf = onePagePdf();
    const p = await c.call('PRINT', 'PRINT', { PRINTER: 'RECEIPT', FORMAT: 'PDF', DATA: pdf.toString('base64') });
    assert.equal(p.MESSAGE_EXEC, 'SUCCESS', JSON.stringify(p));
    c.close();
    // The virtual printer writes a job's files once the job has ended (the connection closed).
    const images = await pngsOf(out, ['job-1-image', 'job-2-image']);
    assert.ok(images.some((f) => f.startsWith('job-1-image')), `HTML receipt reached the printer as a raster: ${images}`);
    assert.ok(images.some((f) => f.startsWith('job-2-image')), `PDF receipt reached the printer as a raster: ${images}`);
    assert.match(stderr, /pdfium loaded.*\/usr\/(bin\/\.\.\/)?lib\/Pispas\/libpdfium\.so/, 'the bundled pdfium is the one loaded');
  } catch (e) {
    console.error(stderr.slice(-4000));
    throw e;
  } finally {
    app.kill('SIGTERM');
    sim.kill('SIGTERM');
  }
});

test('dpkg -r removes the app and the hosts entry it added', () => {
  asRoot(['dpkg', '-r', 'pispas']);
  assert.ok(!existsSync(BIN), `${BIN} removed`);
  assert.ok(!hostsHasLine(), 'prerm removed the hosts line');
});

/** The printer's PNG files once every prefix in `want` has one (or after 30 s, for the message). */
async function pngsOf(dir, want) {
  for (let i = 0; i < 300; i++) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
    if (want.every((w) => files.some((f) => f.startsWith(w)))) return files;
    await new Promise((r) => setTimeout(r, 100));
  }
  return readdirSync(dir);
}

/** A valid one-page PDF with exact xref offsets (as crates/pispas-testkit/src/pdf.rs builds them). */
function onePagePdf() {
  const content = '0 0 0 rg 0 0 204 50 re f';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 204 100] /Contents 4 0 R >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let text = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((o, i) => { offsets.push(text.length); text += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) text += `${String(o).padStart(10, '0')} 00000 n \n`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}
