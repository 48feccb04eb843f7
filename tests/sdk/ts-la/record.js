'use strict';
// Records the TypeScript-SDK local-activity histories of tests/sdk/testdata/ that
// tests/sdk/local_activity_compat_test.cc replays in C++:
//   ts_mixed_activities_history.json        tsMixedActivities(1)
//   ts_mixed_activities_codec_history.json  the same with a zlib payload codec on worker and client
//   ts_local_backoff_history.json           tsLocalBackoff('k')
// Usage (after scripts/build.sh): node tests/sdk/ts-la/record.js [out dir]
// (starts this project's server on a free port; TEMPORALITE_BIN overrides build/temporalite).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Connection, Client } = require('@temporalio/client');
const { Worker, NativeConnection, bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');
const { startServer, installRuntime, serverBinary } = require('../../compat/harness');
const { zlibCodec } = require('../zlib-codec');


async function record({ server, bundle, workflow, args, workflowId, file, codec, outDir }) {
  const dataConverter = codec ? { payloadCodecs: [zlibCodec] } : undefined;
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default', dataConverter });
  const native = await NativeConnection.connect({ address: server.address });
  const failed = new Set();
  const worker = await Worker.create({
    connection: native,
    taskQueue: `record-${workflowId}`,
    workflowBundle: bundle,
    dataConverter,
    activities: {
      async addOne(n) {
        return n + 1;
      },
      async failOnce(key) {
        if (!failed.has(key)) {
          failed.add(key);
          throw new Error('first attempt fails');
        }
        return `ok ${key}`;
      },
    },
  });
  const result = await worker.runUntil(
    client.workflow.execute(workflow, { taskQueue: `record-${workflowId}`, workflowId, args }),
  );
  await native.close();
  await connection.close();
  const json = execFileSync(serverBinary(), ['workflow', 'show', '-w', workflowId, '-o', 'json', '--address', server.address]);
  fs.writeFileSync(path.join(outDir, file), json);
  console.log(`${file}: ${workflow} -> ${JSON.stringify(result)}`);
}

async function main() {
  const outDir = process.argv[2] || path.join(__dirname, '..', 'testdata');
  installRuntime();
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'workflows.js'),
    logger: new DefaultLogger('WARN'),
  });
  const server = await startServer();
  try {
    const common = { server, bundle, outDir };
    await record({ ...common, workflow: 'tsMixedActivities', args: [1], workflowId: 'ts-mixed', file: 'ts_mixed_activities_history.json' });
    await record({ ...common, workflow: 'tsMixedActivities', args: [1], workflowId: 'ts-mixed-codec', file: 'ts_mixed_activities_codec_history.json', codec: true });
    await record({ ...common, workflow: 'tsLocalBackoff', args: ['k'], workflowId: 'ts-backoff', file: 'ts_local_backoff_history.json' });
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
