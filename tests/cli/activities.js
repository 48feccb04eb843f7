'use strict';
// Activities for tests/cli/cli-*.test.js (run by the in-process SDK worker).

exports.activities = {
  async scrapeCatalogue(storeId) {
    return storeId === 'sixty60-jhb' ? 3 : 1;
  },
  async alwaysFails() {
    throw new Error('upstream 503 from sixty60');
  },
};
