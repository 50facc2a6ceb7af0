// The configurator: every configuration key with its help text, the allowed origins, module
// toggles, the kitchen display's stations, stages and printing, devices (with serial ports and OS printers to pick from), the TLS certificate in use and
// start at login. Save sends BASE CONFIG_SAVE: the engine validates with the same code that loads
// the file, writes it atomically (keeping .env.bak) and restarts itself in place; a refused value
// comes back naming its key and is shown next to that field, and nothing is written.

import { createClient, showConnection, el, wireNav, inApp, appInvoke, askToken, storedToken } from './page.js';

const $ = (id) => document.getElementById(id);
const GROUPS = {
  connection: ['LOCAL_HOST', 'LOCAL_PORT', 'VIEWER_PORT', 'ALLOWED_ORIGINS', 'LAN_TOKEN', 'ADMIN_TOKEN', 'ADMIN_FROM_LAN', 'LAN_PLAIN_TOKENS', 'LAN_IDLE_TIMEOUT_S', 'LAN_MAX_PENDING_PER_ADDRESS'],
  tls: ['CERT_DIR'],
  log: ['COMMAND_LOG', 'COMMAND_LOG_DAYS', 'COMMAND_LOG_MAX_MB'],
  kitchen: ['KITCHEN_STATIONS', 'KITCHEN_STAGES', 'KITCHEN_ALERTS', 'KITCHEN_RETENTION', 'KITCHEN_PRINT_WHEN', 'KITCHEN_LAN', 'KITCHEN_LAN_HOST', 'KITCHEN_LAN_PORT'],
  remote: ['REMOTE_HOST', 'REMOTE_PORT', 'REMOTE_TOKEN', 'REMOTE_TLS', 'REMOTE_CA', 'REMOTE_PATH', 'REMOTE_DEVICE_ID', 'REMOTE_TARGETS', 'REMOTE_PROXY', 'REMOTE_REPLY_BUFFER', 'REMOTE_PING_SECS', 'REMOTE_BACKOFF_MAX_SECS'],
  advanced: ['LOG_LEVEL', 'DATA_DIR', 'HEARTBEAT_SECS', 'MAX_CONNECTIONS', 'MAX_FRAME_BYTES', 'MAX_IN_FLIGHT', 'MAX_IN_FLIGHT_BYTES', 'MAX_TOTAL_IN_FLIGHT_BYTES', 'HANDSHAKE_TIMEOUT_MS', 'SHUTDOWN_GRACE_MS'],
};
const CHOICES = {
  LOG_LEVEL: ['', 'error', 'warn', 'info', 'debug', 'trace'],
  COMMAND_LOG: ['', 'on', 'off'],
  ADMIN_FROM_LAN: ['', 'off', 'on'],
  LAN_PLAIN_TOKENS: ['', 'off', 'on'],
  REMOTE_TLS: ['', 'on', 'off'],
  KITCHEN_PRINT_WHEN: ['', 'always', 'no_display'],
  KITCHEN_LAN: ['', 'off', 'on'],
};
const client = createClient({ admin: true });
let schema = null;
let savedAwaitingRestart = false;

wireNav();
showConnection(client, $('conn'));
client.on('open', () => load());
$('reload').addEventListener('click', () => load());
$('add-device').addEventListener('click', () => addDeviceRow('', '', true));
$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  save();
});
if (!inApp() && !storedToken()) {
  askToken($('token-box'), 'The configurator needs the admin token.', () => {
    $('token-box').hidden = true;
    client.close();
    location.reload();
  });
} else {
  client.connect().catch(() => {});
}

function notice(text, kind = '') {
  const n = $('notice');
  n.className = `notice ${kind}`;
  n.textContent = text;
  n.hidden = !text;
}

async function load() {
  try {
    schema = await client.call('BASE', 'CONFIG_SCHEMA');
  } catch (e) {
    if (e.code === 'UNAUTHORIZED' && !inApp()) {
      $('form').hidden = true;
      askToken($('token-box'), 'That admin token was refused. Type it again.', () => location.reload());
      return;
    }
    notice(`The configuration could not be read: ${e.message}`, 'bad');
    return;
  }
  if (savedAwaitingRestart) {
    savedAwaitingRestart = false;
    notice('Saved and restarted: the service now uses the new settings.', 'good');
    $('notice').dataset.saved = 'restarted';
  }
  render();
  loadPorts();
  loadAutostart();
  loadPlatform();
}

/** Shows the hosts entry and the browsers' Local Network Access policy (BASE PLATFORM_STATUS). */
function showPlatform(p) {
  const name = p.LOCAL_NAME || {};
  const rows = [
    ['local.unpispas.es', name.RESOLVES_HERE ? 'leads to this computer' : `does not lead here${name.ADDRESSES && name.ADDRESSES.length ? ` (${name.ADDRESSES.join(', ')})` : ''}`],
    ['Hosts file entry', name.HOSTS_ENTRY ? `present in ${p.HOSTS_FILE}` : `not in ${p.HOSTS_FILE}`],
  ];
  const policy = p.POLICY || {};
  for (const b of policy.BROWSERS || []) {
    if (!b.INSTALLED && !b.URLS.length) continue;
    rows.push([`${b.BROWSER} policy`, b.IN_FORCE ? `allows ${policy.URLS.join(', ')} (${b.LOCATION})` : b.URLS.length ? `allows ${b.URLS.join(', ')} only` : 'not set: the cashier will be asked']);
  }
  if (!(policy.BROWSERS || []).some((b) => b.INSTALLED)) rows.push(['Browsers', 'no Chrome, Chromium or Edge found on this computer']);
  $('platform').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('platform-note').textContent = policy.NOTE || (policy.SKIPPED && policy.SKIPPED.length ? `Left out of the policy: ${policy.SKIPPED.join(', ')} (not a single origin).` : '');
}

async function loadPlatform() {
  try {
    showPlatform(await client.call('BASE', 'PLATFORM_STATUS'));
  } catch (e) {
    $('platform-note').textContent = `Could not be read: ${e.message}`;
  }
}

for (const [id, action] of [['hosts-add', 'HOSTS_ADD'], ['hosts-remove', 'HOSTS_REMOVE'], ['policy-set', 'BROWSER_POLICY_SET'], ['policy-remove', 'BROWSER_POLICY_REMOVE']]) {
  $(id).addEventListener('click', async () => {
    $('platform-note').textContent = 'Working… the computer may ask for administrator rights.';
    try {
      const r = await client.call('BASE', action, {}, { timeoutMs: 120000 });
      showPlatform(r);
      $('platform-note').textContent = `${r.DONE}. Restart the browser for a policy change to take effect.`;
    } catch (e) {
      $('platform-note').textContent = e.code === 'NEEDS_ELEVATION' ? `Administrator rights are needed: ${e.message}` : `Not done: ${e.message}`;
    }
  });
}

/** "Test connection": one attempt to reach the Pispas cloud with the form's REMOTE_* values (BASE REMOTE_TEST). */
$('remote-test').addEventListener('click', async () => {
  const values = Object.fromEntries(Object.entries(collect()).filter(([k]) => k.startsWith('REMOTE_')));
  for (const k of GROUPS.remote) if (!(k in values)) values[k] = '';
  $('remote-note').textContent = 'Connecting…';
  try {
    const r = await client.call('BASE', 'REMOTE_TEST', { VALUES: values }, { timeoutMs: 20000 });
    $('remote-note').textContent = r.OK ? `Connected: ${r.DETAIL} in ${r.MS} ms.` : `Not connected: ${r.DETAIL}`;
  } catch (e) {
    $('remote-note').textContent = `Not tested: ${e.message}`;
  }
});

function field(k) {
  const id = `f-${k.KEY}`;
  const errorId = `error-${k.KEY}`;
  const helpId = `help-${k.KEY}`;
  const value = k.VALUE ?? '';
  const placeholder = k.EFFECTIVE && k.EFFECTIVE !== '***' ? k.EFFECTIVE : k.DEFAULT;
  let input;
  if (CHOICES[k.KEY]) {
    input = el('select', { id, name: k.KEY, 'aria-describedby': `${helpId} ${errorId}` },
      ...CHOICES[k.KEY].map((c) => el('option', { value: c, selected: c === value }, c || `default (${k.DEFAULT})`)));
  } else if (k.KEY === 'ALLOWED_ORIGINS') {
    input = el('textarea', { id, name: k.KEY, rows: 3, 'aria-describedby': `${helpId} ${errorId}`, placeholder: String(placeholder).split(',').join('\n') });
    input.value = value.split(',').map((s) => s.trim()).filter(Boolean).join('\n');
  } else {
    input = el('input', {
      id, name: k.KEY, type: k.SECRET ? 'password' : 'text', autocomplete: 'off', value,
      placeholder, 'aria-describedby': `${helpId} ${errorId}`,
      inputmode: /PORT|MAX_|_MS|_SECS|_DAYS|_MB/.test(k.KEY) ? 'numeric' : undefined,
      readonly: k.FILE_ONLY ? true : undefined,
    });
  }
  return el('div', { class: 'field' },
    el('label', { for: id }, k.KEY),
    input,
    el('p', { class: 'help', id: helpId }, k.HELP, k.DEFAULT ? ` Default: ${k.DEFAULT}.` : ''),
    k.FROM_ENV ? el('p', { class: 'env' }, 'Set by an environment variable, which wins over this file.') : null,
    k.FILE_ONLY ? el('p', { class: 'env' }, `It names a program the service runs, so it is changed only by editing ${schema.PATH} by hand.`) : null,
    el('p', { class: 'error', id: errorId, role: 'alert', hidden: true }));
}

function render() {
  $('token-box').hidden = true;
  $('form').hidden = false;
  $('path').textContent = `Configuration file: ${schema.PATH} · data folder: ${schema.DATA_DIR}`;
  const byKey = Object.fromEntries(schema.KEYS.map((k) => [k.KEY, k]));
  for (const [group, keys] of Object.entries(GROUPS)) {
    $(`g-${group}`).replaceChildren(...keys.filter((k) => byKey[k]).map((k) => field(byKey[k])));
  }
  // Every other key goes under Advanced: a key with no field would be left out of the saved file.
  const grouped = new Set(Object.values(GROUPS).flat());
  const rest = schema.KEYS.filter((k) => !grouped.has(k.KEY) && k.KEY !== 'MODULES' && !k.KEY.includes('<'));
  $('g-advanced').append(...rest.map((k) => field(k)));
  const mods = $('modules');
  mods.querySelectorAll('label').forEach((n) => n.remove());
  for (const m of schema.MODULES) {
    mods.append(el('label', {}, el('input', { type: 'checkbox', name: 'module', value: m.NAME, checked: m.ENABLED, disabled: m.ALWAYS_ON }), ` ${m.NAME} (${m.TARGET})`));
  }
  $('devices').replaceChildren();
  for (const [k, v] of Object.entries(schema.EXTRA || {})) addDeviceRow(k, v, false);
  const t = schema.TLS || {};
  const facts = [
    ['Source', t.SOURCE === 'provided' ? `provided (${t.DIR})` : `generated self-signed (${t.DIR})`],
    ['Subject', t.SUBJECT], ['Issuer', t.ISSUER], ['Valid until', t.NOT_AFTER],
    ['Names', (t.NAMES || []).join(', ')], ['SHA-256 fingerprint', t.FINGERPRINT],
    ['Allowed origins', (schema.ALLOWED_ORIGINS || []).join(', ')],
  ];
  $('tls').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v ?? '—')]));
}

function addDeviceRow(key, value, focus) {
  const row = el('div', { class: 'field device' },
    el('input', { 'aria-label': 'Device key', class: 'device-key', list: 'device-keys', value: key, placeholder: 'PRINTER_RECEIPT' }),
    el('div', {},
      el('input', { 'aria-label': `Device address for ${key || 'the new device'}`, class: 'device-value', list: 'device-uris', value, placeholder: 'tcp://192.168.1.50:9100' }),
      el('button', { type: 'button', onclick: () => row.remove() }, 'Remove')),
    el('p', { class: 'error', role: 'alert', hidden: true }));
  $('devices').append(row);
  if (focus) row.querySelector('input').focus();
}

async function loadPorts() {
  try {
    const p = await client.call('BASE', 'LIST_PORTS', {}, { timeoutMs: 10000 });
    const options = [
      ...p.SERIAL.map((s) => el('option', { value: `serial://${s.PORT}` }, `${s.PORT} ${s.DESCRIPTION || s.TYPE}`)),
      ...p.PRINTERS.map((n) => el('option', { value: `spooler://${n}` }, `printer ${n}`)),
    ];
    $('device-uris').replaceChildren(...options);
    $('ports-note').textContent =
      `${p.SERIAL.length} serial port(s) and ${p.PRINTERS.length} printer(s) found on this computer.` +
      (p.NOTES.length ? ` ${p.NOTES.join(' ')}` : '');
  } catch (e) {
    $('ports-note').textContent = `Ports could not be listed: ${e.message}`;
  }
}

async function loadAutostart() {
  const box = $('autostart');
  if (!inApp()) {
    box.disabled = true;
    $('autostart-note').textContent = 'Start at login is set from the desktop app (tray menu or its configurator).';
    return;
  }
  try {
    box.checked = await appInvoke('autostart_enabled');
  } catch (e) {
    $('autostart-note').textContent = `Unknown: ${e}`;
  }
  box.onchange = async () => {
    try {
      box.checked = await appInvoke('set_autostart', { enabled: box.checked });
      $('autostart-note').textContent = box.checked ? 'Pispas will start at login.' : 'Pispas will not start at login.';
    } catch (e) {
      $('autostart-note').textContent = `Could not be changed: ${e}`;
    }
  };
}

function collect() {
  const values = {};
  for (const k of schema.KEYS) {
    const input = document.getElementsByName(k.KEY)[0];
    if (!input) continue;
    let v = input.value.trim();
    if (k.KEY === 'ALLOWED_ORIGINS') v = v.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean).join(',');
    if (v) values[k.KEY] = v;
  }
  const mods = [...document.querySelectorAll('input[name=module]:checked')].map((c) => c.value);
  values.MODULES = mods.join(',');
  for (const row of document.querySelectorAll('.device')) {
    const key = row.querySelector('.device-key').value.trim().toUpperCase();
    const value = row.querySelector('.device-value').value.trim();
    if (key && value) values[key] = value;
  }
  return values;
}

function clearErrors() {
  for (const e of document.querySelectorAll('.error')) {
    e.hidden = true;
    e.textContent = '';
  }
  for (const i of document.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

function showError(key, message) {
  const slot = $(`error-${key}`);
  const input = document.getElementsByName(key)[0];
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
  }
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.closest('details')?.setAttribute('open', '');
    input.focus();
  }
  if (!slot) notice(`${key}: ${message}`, 'bad');
}

async function save() {
  clearErrors();
  notice('');
  delete $('notice').dataset.saved;
  const button = $('save');
  button.disabled = true;
  try {
    const r = await client.call('BASE', 'CONFIG_SAVE', { VALUES: collect() });
    const env = r.ENV_OVERRIDES && r.ENV_OVERRIDES.length ? ` Note: ${r.ENV_OVERRIDES.join(', ')} set by environment variables win over the file.` : '';
    if (r.RESTARTING) {
      savedAwaitingRestart = true;
      notice(`Saved to ${r.PATH}. The service is restarting…${env}`, 'good');
      $('notice').dataset.saved = 'restarting';
    } else {
      notice(`Saved to ${r.PATH}. Restart the service to use the new settings.${env}`, 'good');
      $('notice').dataset.saved = 'saved';
    }
  } catch (e) {
    if (e.code === 'INVALID_CONFIG' && e.details && e.details.KEY) {
      showError(e.details.KEY, e.details.REASON || e.message);
      notice(`Not saved: ${e.message}`, 'bad');
    } else {
      notice(`Not saved: ${e.message}`, 'bad');
    }
    $('notice').dataset.saved = 'refused';
  } finally {
    button.disabled = false;
  }
}
