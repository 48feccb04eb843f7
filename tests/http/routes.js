'use strict';
// The HTTP API's routes, read from the same .proto files the server is compiled from (the
// google.api.http option of every WorkflowService / OperatorService method and its
// additional_bindings under /api/v1). The test table is checked against this list, so a route the
// API gains must be exercised or listed as unsupported.
const path = require('node:path');
// protobufjs comes with @temporalio/proto (pinned in package-lock.json).
const protobuf = require(require.resolve('protobufjs', { paths: [path.resolve(__dirname, '..', '..')] }));

const PROTO_ROOT = path.resolve(
  __dirname, '..', '..', 'node_modules/@temporalio/core-bridge/sdk-core/crates/protos/protos/api_upstream');

function loadRoutes() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
  root.loadSync(['temporal/api/workflowservice/v1/service.proto', 'temporal/api/operatorservice/v1/service.proto'],
    { keepCase: true });
  const routes = [];
  for (const svcName of ['temporal.api.workflowservice.v1.WorkflowService', 'temporal.api.operatorservice.v1.OperatorService']) {
    const svc = root.lookupService(svcName);
    for (const m of Object.values(svc.methods)) {
      const opt = (m.parsedOptions || []).find((o) => o['(google.api.http)']);
      if (!opt) continue;
      const rule = opt['(google.api.http)'];
      for (const r of [rule, ...[].concat(rule.additional_bindings || [])]) {
        for (const verb of ['get', 'post', 'delete', 'put', 'patch']) {
          if (r[verb] && r[verb].startsWith('/api/v1/')) {
            routes.push({ service: svc.name, method: m.name, verb: verb.toUpperCase(), path: r[verb], body: r.body || '' });
          }
        }
      }
    }
  }
  return routes;
}

/** Fills a path template's {field} variables from `values` (by field path), URL-encoding each. */
function fillPath(template, values) {
  return template.replace(/\{([^}=]+)(=[^}]*)?\}/g, (_, field) => {
    const v = values[field] ?? values[field.split('.').pop()] ?? `x-${field.replace(/\./g, '-')}`;
    return encodeURIComponent(v);
  });
}

module.exports = { loadRoutes, fillPath };
