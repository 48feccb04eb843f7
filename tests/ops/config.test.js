'use strict';
// temporalite.yaml: every start-dev flag as a key, flags on the command line winning.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, makeTempDir, removeDir } = require('../compat/harness');
const { cli } = require('./ops');

const dir = makeTempDir('tl-config-');
after(() => removeDir(dir));

test('config file: values apply, command-line flags win, bad keys are clear errors', async () => {
  const file = path.join(dir, 'temporalite.yaml');
  fs.writeFileSync(file, [
    '# a comment',
    'port: 1            # the harness passes --port 0: the flag wins',
    'namespace: [cfg-one, cfg-two]',
    'search-attribute:',
    '  - StoreId=Keyword',
    'log-format: json',
    'headless: true',
    'sqlite-pragma: [cache_size=-4096]',
  ].join('\n'));
  const server = await startServer({ extraArgs: ['--config', file] });
  try {
    assert.notEqual(server.port, 1);
    for (const ns of ['cfg-one', 'cfg-two']) {
      const r = await cli(['operator', 'namespace', 'describe', '--address', server.address, '-n', ns]);
      assert.equal(r.code, 0, r.stderr);
    }
    const sa = await cli(['operator', 'search-attribute', 'list', '--address', server.address, '-n', 'cfg-one', '-o', 'json']);
    assert.match(sa.stdout, /StoreId/);
  } finally {
    await server.stop();
  }
  // TEMPORALITE_CONFIG works too; unknown keys and wrong shapes exit 2 with the key named.
  fs.writeFileSync(file, 'prot: 7233\n');
  let r = await cli(['server', 'start-dev', '--ephemeral', '--port', '0'], { env: { TEMPORALITE_CONFIG: file } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown key "prot"/);
  fs.writeFileSync(file, 'port: [1, 2]\n');
  r = await cli(['server', 'start-dev', '--ephemeral', '--config', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"port" takes one value, not a list/);
  fs.writeFileSync(file, 'port: 70000\n');
  r = await cli(['server', 'start-dev', '--ephemeral', '--config', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --port 70000/);
});
