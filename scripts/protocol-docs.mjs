#!/usr/bin/env node
// Writes the tables of docs/protocol.md from protocol/pispas.json, between markers:
//
//   <!-- generated:codes -->                 the failure codes
//   <!-- generated:events -->                the events
//   <!-- generated:actions TARGET [GROUP] --> a TARGET's actions (only those of GROUP, if given)
//   … <!-- end generated -->
//
//   node scripts/protocol-docs.mjs           rewrite docs/protocol.md
//   node scripts/protocol-docs.mjs --check   fail when it is stale (npm test runs this)
//
// The prose around the tables stays hand-written; the tables cannot drift from the description,
// which the engine's tests check against the engine.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(root, 'docs/protocol.md');
const d = JSON.parse(readFileSync(join(root, 'protocol/pispas.json'), 'utf8'));

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeText(s) {
  if (!s) return '';
  if (s.ref) return s.ref;
  if (s.one_of) return s.one_of.map(typeText).join(' or ');
  if (s.enum) return s.enum.map((v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``).join('/');
  if (s.type === 'array') return `array of ${typeText(s.items) || 'any'}`;
  return s.type || 'any';
}

function paramText(name, s) {
  const bits = [typeText(s)];
  if (s.required) bits.push('required');
  if (s.min !== undefined || s.max !== undefined) bits.push(`${s.min ?? ''}–${s.max ?? ''}`.replace(/^–/, '≤ ').replace(/–$/, '+'));
  if (s.default !== undefined) bits.push(`default ${typeof s.default === 'string' ? `\`${s.default}\`` : JSON.stringify(s.default)}`);
  if (s.aliases) bits.push(`also ${s.aliases.map((a) => `\`${a}\``).join(', ')}`);
  return `\`${name}\` (${bits.filter(Boolean).join(', ')})${s.doc ? `: ${s.doc}` : ''}`;
}

function actionsTable(target, group) {
  const t = d.targets[target];
  if (!t) throw new Error(`docs/protocol.md names TARGET ${target}, which protocol/pispas.json does not describe`);
  const rows = Object.entries(t.actions).filter(([, a]) => !group || a.group === group);
  if (!rows.length) throw new Error(`no ${target} actions in group ${group}`);
  const admin = rows.some(([, a]) => a.admin);
  const head = admin
    ? '| ACTION | admin | what it does | parameters | MESSAGE_DATA (SUCCESS) |\n|---|---|---|---|---|'
    : '| ACTION | what it does | parameters | MESSAGE_DATA (SUCCESS) |\n|---|---|---|---|';
  const lines = rows.map(([name, a]) => {
    const params = Object.entries(a.params || {}).map(([p, s]) => paramText(p, s));
    const notes = [];
    if (a.idempotent) notes.push(a.idempotent_doc ? `**Idempotent:** ${a.idempotent_doc}` : '**Idempotent:** the same UUIDV4 again returns the first outcome (`DUPLICATE: true`) and prints nothing');
    if (a.subscription) notes.push(`Then ${a.subscription.events.map((e) => `\`${e}\``).join(', ')} events until \`${a.subscription.stop}\``);
    if (a.events) notes.push(`Sends ${a.events.map((e) => `\`${e}\``).join(', ')}`);
    const replyDoc = a.reply?.doc || (a.reply?.ref && d.types[a.reply.ref]?.doc) || typeText(a.reply);
    const cols = [`\`${name}\``];
    if (admin) cols.push(a.admin ? 'yes' : 'no');
    cols.push(a.doc, params.length ? params.join('; ') : '—', [replyDoc, ...notes].filter(Boolean).join('. '));
    return `| ${cols.map(cell).join(' | ')} |`;
  });
  return `${head}\n${lines.join('\n')}`;
}

function codesTable() {
  const rows = Object.entries(d.codes).map(([c, v]) => `| \`${c}\` | ${cell(v.doc)} |`);
  return `| CODE | meaning |\n|---|---|\n${rows.join('\n')}`;
}

function eventsTable() {
  const rows = Object.entries(d.events).map(([name, e]) => {
    const fields = e.ref ? Object.keys(d.types[e.ref].fields) : Object.keys(e.fields || {});
    const data = fields.filter((f) => f !== 'EVENT').map((f) => `\`${f}\``).join(', ');
    return `| \`${name}\` | ${e.from.join(', ')} | ${cell(data)} | ${cell(e.doc)} |`;
  });
  return `| EVENT | from | data | when |\n|---|---|---|---|\n${rows.join('\n')}`;
}

export function render(text) {
  const re = /<!-- generated:([a-z]+)((?: [A-Za-z_]+)*) -->\n[\s\S]*?<!-- end generated -->/g;
  let count = 0;
  const out = text.replace(re, (_, kind, args) => {
    count++;
    const [target, group] = args.trim().split(/\s+/).filter(Boolean);
    const body = kind === 'codes' ? codesTable() : kind === 'events' ? eventsTable() : kind === 'actions' ? actionsTable(target, group) : null;
    if (body === null) throw new Error(`unknown generated block ${kind}`);
    return `<!-- generated:${kind}${args} -->\n${body}\n<!-- end generated -->`;
  });
  return { out, count };
}

function main() {
  const text = readFileSync(DOC, 'utf8');
  const { out, count } = render(text);
  if (!count) throw new Error('docs/protocol.md has no <!-- generated:… --> markers');
  if (process.argv.includes('--check')) {
    if (out !== text) {
      console.error('docs/protocol.md is stale: run `node scripts/protocol-docs.mjs` and commit it.');
      process.exit(1);
    }
    console.log(`docs/protocol.md: ${count} generated tables up to date`);
    return;
  }
  writeFileSync(DOC, out);
  console.log(`docs/protocol.md: ${count} tables written`);
}

main();
