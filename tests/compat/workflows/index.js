'use strict';
// Entry point given to bundleWorkflowCode (workflowsPath). Re-exports every workflow.
module.exports = {
  ...require('./basic'),
  ...require('./activity-flows'),
  ...require('./issue3'),
  ...require('./visibility'),
  ...require('./external'),
  ...require('./gaps'),
  ...require('./gaps3'),
  ...require('./wft-heartbeat'),
};
