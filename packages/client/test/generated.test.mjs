// The committed generated files are what the sources give: src/generated/protocol.ts from
// protocol/pispas.json, ui/js/pispas.js from src/ (the desktop pages' copy of the browser build),
// and docs/protocol.md's tables from the description. Run before a build, which rewrites them
// (scripts/test.d/sdk.sh does).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const run = (args) => execFileSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('src/generated/protocol.ts and ui/js/pispas.js are up to date', () => {
  assert.doesNotThrow(() => run(['scripts/build.mjs', '--check']), /stale/);
});

test('docs/protocol.md\'s generated tables are up to date', () => {
  assert.doesNotThrow(() => run(['../../scripts/protocol-docs.mjs', '--check']));
});
