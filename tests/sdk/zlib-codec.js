'use strict';
// The payload codec of tests/sdk/zlib_codec.h for the TypeScript SDK: the whole Payload proto,
// zlib-compressed (used by interop.test.js and ts-la/record.js).
const zlib = require('node:zlib');
const { temporal } = require('@temporalio/proto');

const zlibCodec = {
  async encode(payloads) {
    return payloads.map((p) => ({
      metadata: { encoding: Buffer.from('binary/zlib') },
      data: zlib.deflateSync(temporal.api.common.v1.Payload.encode(p).finish()),
    }));
  },
  async decode(payloads) {
    return payloads.map((p) => {
      const enc = p.metadata && p.metadata.encoding ? Buffer.from(p.metadata.encoding).toString() : '';
      if (enc !== 'binary/zlib') return p;
      return temporal.api.common.v1.Payload.decode(zlib.inflateSync(p.data));
    });
  },
};

module.exports = { zlibCodec };
