#!/usr/bin/env python3
"""Multiplies a stopped server's closed runs by copying their rows under new ids (schema 7).

    bench/copy_closed_runs.py DB_FILE TARGET_CLOSED

Copies the closed runs' rows (execution, history, visibility, current-run row) in doubling
steps until TARGET_CLOSED closed runs exist: each step copies min(closed so far, what is still
missing) runs once, in one transaction of INSERT ... SELECT that rewrites the ids in SQL. The
rows are the server's own with other ids: each copy gets a new version-7 UUID run id, as the
server's (16 bytes in executions, history and current_executions, the text form in visibility,
as Binder::RunId stores them), and a new workflow id of the same length (workflow_bench's
13-digit millisecond field becomes "c" and a 12-digit copy number), so current-run rows stay
unique per workflow id. The ids are rewritten inside the blobs too (execution state, history
rows, visibility info): each is decoded (blob_codec.h: raw, escaped raw, or zstd with a
dictionary from the `dictionaries` table), its old ids replaced by the new ones (same lengths,
so the protobuf framing holds) and encoded again in the same form with the same dictionary
(level 1, no dictionary id or checksum in the frame, as BlobEncoder). So a copied run reads
back as a run of its own (describe, show, list).

Seeding only: synchronous=OFF and a large page cache while copying, then a checkpoint back to
the WAL file layout the server uses.
"""
import ctypes
import os
import re
import sqlite3
import sys
import time
import uuid

_z = ctypes.CDLL("libzstd.so.1")
_z.ZSTD_createDDict.restype = ctypes.c_void_p
_z.ZSTD_createDDict.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_createCDict.restype = ctypes.c_void_p
_z.ZSTD_createCDict.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
_z.ZSTD_createDCtx.restype = ctypes.c_void_p
_z.ZSTD_createCCtx.restype = ctypes.c_void_p
_z.ZSTD_CCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_z.ZSTD_CCtx_refCDict.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_z.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
_z.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_decompress_usingDDict.restype = ctypes.c_size_t
_z.ZSTD_decompress_usingDDict.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.c_size_t, ctypes.c_void_p]
_z.ZSTD_compress2.restype = ctypes.c_size_t
_z.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_compressBound.restype = ctypes.c_size_t
_z.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
_z.ZSTD_isError.argtypes = [ctypes.c_size_t]
ZSTD_c_checksumFlag, ZSTD_c_dictIDFlag = 201, 202


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


class Codec:
    """blob_codec.h's stored forms, for one database's dictionaries."""

    def __init__(self, conn):
        self.dicts = {}
        self.dctx = _z.ZSTD_createDCtx()
        for did, data in conn.execute("SELECT id, data FROM dictionaries"):
            cctx = _z.ZSTD_createCCtx()
            _z.ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)
            _z.ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)
            cdict = _z.ZSTD_createCDict(data, len(data), 1)
            _z.ZSTD_CCtx_refCDict(cctx, cdict)
            self.dicts[did] = (_z.ZSTD_createDDict(data, len(data)), cctx, cdict)

    def decode(self, stored):
        """(form, plain bytes); form is None (raw), 0 (escaped raw) or the dictionary's header."""
        if not stored or stored[0] != 0:
            return None, stored
        if stored[1] == 0:
            return 0, stored[2:]
        did, i = varint(stored, 2)
        frame = stored[i:]
        size = _z.ZSTD_getFrameContentSize(frame, len(frame))
        out = ctypes.create_string_buffer(size)
        n = _z.ZSTD_decompress_usingDDict(self.dctx, out, size, frame, len(frame), self.dicts[did][0])
        if _z.ZSTD_isError(n) or n != size:
            raise RuntimeError("bad zstd frame")
        return (did, stored[:i]), out.raw

    def encode(self, form, raw):
        if form is None or form == 0 or len(raw) < 16:
            return raw if raw and raw[0] != 0 else (b"\0\0" + raw if raw else raw)
        did, header = form
        bound = _z.ZSTD_compressBound(len(raw))
        out = ctypes.create_string_buffer(bound)
        n = _z.ZSTD_compress2(self.dicts[did][1], out, bound, raw, len(raw))
        if _z.ZSTD_isError(n) or len(header) + n >= len(raw):
            return raw if raw[0] != 0 else b"\0\0" + raw
        return header + out.raw[:n]


def new_run_id(_):
    # A version-7 UUID, as the server's run ids (time-ordered: 48-bit Unix milliseconds first).
    b = bytearray(int(time.time() * 1000).to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)


def run_text(b):
    return str(uuid.UUID(bytes=b)) if isinstance(b, bytes) and len(b) == 16 else b


_ms_field = re.compile(r"-(\d{13}|c\d{12})-")
_copies = [0]


def new_workflow_id(old):
    # Same length as `old` (so the ids can be replaced inside protobuf blobs), unique per copy.
    m = _ms_field.search(old)
    if not m:
        raise ValueError(f"workflow id {old!r} has no 13-digit field (not workflow_bench's)")
    _copies[0] += 1
    return old[:m.start()] + f"-c{_copies[0]:012d}-" + old[m.end():]


def make_rewrite(codec):
    def rewrite(stored, old_wf, new_wf, old_run, new_run):
        form, raw = codec.decode(stored)
        raw = raw.replace(old_wf.encode(), new_wf.encode())
        raw = raw.replace(str(uuid.UUID(bytes=old_run)).encode(), str(uuid.UUID(bytes=new_run)).encode())
        raw = raw.replace(old_run, new_run)
        return codec.encode(form, raw)
    return rewrite


def main():
    db, target = sys.argv[1], int(sys.argv[2])
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    c.execute("PRAGMA cache_size=-4000000")  # 4 GB: the copies insert at random key positions
    c.execute("PRAGMA temp_store=MEMORY")
    version = c.execute("PRAGMA user_version").fetchone()[0]
    if version != 7:
        sys.exit(f"error: schema {version}, this script writes schema 7's rows")
    c.create_function("new_run_id", 1, new_run_id)
    c.create_function("run_text", 1, run_text, deterministic=True)
    c.create_function("new_workflow_id", 1, new_workflow_id)
    c.create_function("rewrite", 5, make_rewrite(Codec(c)), deterministic=True)
    closed = c.execute("SELECT count(*) FROM executions WHERE open = 0").fetchone()[0]
    if closed == 0:
        sys.exit("error: no closed runs to copy")
    step = 0
    while closed < target:
        step += 1
        n = min(closed, target - closed)
        t0 = time.monotonic()
        c.execute("BEGIN")
        c.execute("DROP TABLE IF EXISTS temp.map")
        # Old and new ids, both forms; ordered by the new key so each table's inserts run in key order.
        c.execute("CREATE TEMP TABLE map(old BLOB PRIMARY KEY, old_text TEXT UNIQUE, new BLOB, new_text TEXT, "
                  "old_wf TEXT, new_wf TEXT)")
        c.execute("INSERT INTO temp.map(old, new, old_wf) SELECT run_id, new_run_id(run_id), workflow_id "
                  "FROM executions WHERE open = 0 LIMIT ?", (n,))
        c.execute("UPDATE temp.map SET old_text = run_text(old), new_text = run_text(new), "
                  "new_wf = new_workflow_id(old_wf)")
        ids = "m.old_wf, m.new_wf, m.old, m.new"
        c.execute("INSERT INTO executions(run_id, namespace_id, workflow_id, open, close_time, state, wake) "
                  f"SELECT m.new, e.namespace_id, m.new_wf, e.open, e.close_time, rewrite(e.state, {ids}), e.wake "
                  "FROM temp.map m JOIN executions e ON e.run_id = m.old ORDER BY m.new")
        c.execute("INSERT INTO history(run_id, last_event_id, data) "
                  f"SELECT m.new, h.last_event_id, rewrite(h.data, {ids}) FROM temp.map m "
                  "JOIN history h ON h.run_id = m.old ORDER BY m.new, h.last_event_id")
        c.execute("INSERT INTO current_executions(namespace_id, workflow_id, run_id) "
                  "SELECT ce.namespace_id, m.new_wf, m.new FROM temp.map m "
                  "JOIN current_executions ce ON ce.run_id = m.old")
        vis_cols = [r[1] for r in c.execute("PRAGMA table_info(visibility)")]
        sel = []
        for name in vis_cols:
            if name == "run_id":
                sel.append("m.new_text")
            elif name == "workflow_id":
                sel.append("m.new_wf")
            elif name == "root_run_id":
                sel.append("CASE WHEN v.root_run_id = v.run_id THEN m.new_text ELSE v.root_run_id END")
            elif name == "root_workflow_id":
                sel.append("CASE WHEN v.root_run_id = v.run_id THEN m.new_wf ELSE v.root_workflow_id END")
            elif name == "info":
                sel.append(f"rewrite(v.info, {ids})")
            else:
                sel.append(f"v.{name}")
        c.execute(f"INSERT INTO visibility({', '.join(vis_cols)}) SELECT {', '.join(sel)} "
                  "FROM temp.map m JOIN visibility v ON v.run_id = m.old_text ORDER BY m.new_text")
        c.execute("COMMIT")
        closed += n
        print(f"step {step}: copied {n} closed runs in {time.monotonic() - t0:.1f} s, {closed} closed", flush=True)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print("closed runs:", c.execute("SELECT count(*) FROM executions WHERE open = 0").fetchone()[0],
          "open runs:", c.execute("SELECT count(*) FROM executions WHERE open = 1").fetchone()[0],
          "visibility rows:", c.execute("SELECT count(*) FROM visibility").fetchone()[0],
          "current rows:", c.execute("SELECT count(*) FROM current_executions").fetchone()[0], flush=True)
    c.close()


if __name__ == "__main__":
    main()
