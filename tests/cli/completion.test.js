'use strict';
// `temporalite completion bash|zsh` (issue 5): the generated scripts are loaded into real bash and
// zsh (through bashcompinit) and asked to complete words, as the shells' completion would.
// A local command: no server is needed.
//
// Run: node --test tests/cli/completion.test.js   (Env: TEMPORALITE_BIN, as the other CLI tests)

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { makeTempDir, removeDir, serverBinary } = require('../compat/harness');

/** Runs the CLI; resolves with {code, stdout, stderr}. */
function cli(args) {
  return new Promise((resolve) => {
    execFile(serverBinary(), args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : String(err.code)) : 0, stdout, stderr });
    });
  });
}

/** Runs `script` in `shell` and returns its stdout (the completion script is in $1). */
function runShell(shell, script, completionFile) {
  return new Promise((resolve, reject) => {
    execFile(shell, ['-c', script, shell, completionFile], { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${shell} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// Each case: the words typed (the last one is being completed) and the expected candidates.
const COMPLETION_CASES = [
  [['workflow', 'st'], 'start stack'],
  [['workflow', 'start', '--ty'], '--type'],
  [['workflow', 'list', '-o', 'j'], 'json jsonl'],
  [['operator', 'namespace', ''], 'create describe list update delete'],
  [['task-queue', 'describe', '--task-queue-type', ''], 'workflow activity nexus'],
  [['workflow', 'start', '--task-queue', 'work', '--workflow-i'], '--workflow-id'],
  [['completion', ''], ''],
  [[''], 'server workflow operator task-queue schedule completion backup doctor alert'],
  [['schedule', 't'], 'toggle trigger'],
];

/** Shell lines that complete each case and echo the candidates, one line per case. */
const CASE_CALLS = COMPLETION_CASES.map(([words]) => {
  const arr = ['temporalite', ...words].map((w) => `'${w}'`).join(' ');
  return `COMP_WORDS=(${arr}); COMP_CWORD=${words.length}; _temporalite; echo "\${COMPREPLY[*]}"`;
}).join('\n');

/**
 * Writes `temporalite completion <shell>` to a file, runs `script(file)` in `shell`, and checks
 * that its first line is `registration` and the rest are the expected candidates.
 */
async function checkCompletion(shell, script, registration) {
  const generated = await cli(['completion', shell]);
  assert.equal(generated.code, 0, generated.stderr);
  assert.equal(generated.stderr, '');
  const dir = makeTempDir('tl-completion');
  try {
    const file = path.join(dir, `temporalite.${shell}`);
    fs.writeFileSync(file, generated.stdout);
    const lines = (await runShell(shell, script, file)).trimEnd().split('\n');
    assert.equal(lines[0], registration);
    assert.deepEqual(lines.slice(1), COMPLETION_CASES.map(([, want]) => want));
  } finally {
    removeDir(dir);
  }
}

test('completion bash: commands, flags and flag values complete from the command tree', async () => {
  await checkCompletion('bash', `source "$1"\ncomplete -p temporalite\n${CASE_CALLS}`,
    'complete -o default -F _temporalite temporalite');
});

test('completion zsh: the same candidates through zsh bashcompinit', async () => {
  // Like _bash_complete, call the function with the words; it runs with sh emulation (0-based).
  const calls = CASE_CALLS.replace(/'/g, "'\\''");
  await checkCompletion('zsh', `autoload -U compinit && compinit -u -D\nsource "$1"\n` +
    `print -r -- "\${_comps[temporalite]}"\nemulate sh -c '${calls}'`, '_bash_complete -o default -F _temporalite');
});

test('completion: an unknown shell is a usage error', async () => {
  const r = await cli(['completion', 'fish']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /fish not in \{bash,zsh\}/);
});
