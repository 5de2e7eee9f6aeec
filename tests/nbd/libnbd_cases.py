#!/usr/bin/python3
"""Requests through libnbd's Python bindings (the library nbdsh runs), with
libnbd's own checks turned off (set_strict_mode(0)) so that the bad ones
reach the server.

    libnbd_cases.py URI CASE [ARG...]

Each case exits 0 and prints one line when the server answered as the NBD
protocol says (tests/integration/nbd_protocol.sh), or fails with the reason."""
import errno
import sys
import threading
import time

import nbd

MiB = 1 << 20


class Fail(Exception):
    pass


def connect(uri, structured=True, strict=False):
    h = nbd.NBD()
    h.set_request_structured_replies(structured)
    h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.connect_uri(uri)
    if not strict:
        h.set_strict_mode(0)
    return h


def expect_error(fn, want, what):
    try:
        fn()
    except nbd.Error as e:
        if e.errnum != want:
            raise Fail("%s: %s (errno %s), expected %s" % (what, e.string, e.errnum,
                                                           errno.errorcode[want]))
        return e.string
    raise Fail("%s succeeded, expected %s" % (what, errno.errorcode[want]))


def case_bad_reads(uri, size):
    size = int(size)
    out = []
    for structured in (True, False):
        h = connect(uri, structured)
        kind = "structured" if structured else "simple"
        expect_error(lambda: h.pread(4096, size - 2048), errno.EINVAL, kind + " read past the end")
        expect_error(lambda: h.pread(4096, 1 << 62), errno.EINVAL, kind + " read at 2^62")
        expect_error(lambda: h.pread(0, 0), errno.EINVAL, kind + " read of 0 bytes")
        expect_error(lambda: h.pread(32 * MiB + 4096, 0), errno.EINVAL, kind + " read of 32 MiB + 4 KiB")
        if len(h.pread(32 * MiB, 0)) != 32 * MiB:  # the limit itself is fine
            raise Fail(kind + ": a read of 32 MiB came back short")
        if structured:
            expect_error(lambda: h.block_status(4096, size, lambda *a: 0), errno.EINVAL,
                         "block status past the end")
        out.append(kind)
        h.shutdown()
    return "past the end, at 2^62, 0 bytes, 32 MiB + 4 KiB: EINVAL (%s replies)" % " and ".join(out)


def case_bad_writes(uri, size):
    size = int(size)
    h = connect(uri)
    expect_error(lambda: h.pwrite(b"x" * 4096, size - 2048), errno.ENOSPC, "write past the end")
    expect_error(lambda: h.zero(8192, size - 4096), errno.ENOSPC, "write zeroes past the end")
    expect_error(lambda: h.trim(8192, size - 4096), errno.EINVAL, "trim past the end")
    expect_error(lambda: h.pwrite(b"", 0), errno.EINVAL, "write of 0 bytes")
    expect_error(lambda: h.zero(64 * MiB, 0), errno.EINVAL, "write zeroes of 64 MiB")
    h.shutdown()
    return "write and zero past the end: ENOSPC; trim past it, empty write, huge zero: EINVAL"


def case_read_only(uri):
    h = connect(uri)
    if not h.is_read_only():
        raise Fail("the export is not flagged read-only")
    m = expect_error(lambda: h.pwrite(b"\xab" * 4096, 0), errno.EPERM, "write")
    expect_error(lambda: h.zero(4096, 0), errno.EPERM, "write zeroes")
    expect_error(lambda: h.trim(4096, 0), errno.EPERM, "trim")
    h.flush()
    return "write, zero and trim refused with EPERM ('%s')" % m


def case_unaligned(uri):
    h = connect(uri)
    bs = h.get_block_size(nbd.SIZE_MINIMUM)
    expect_error(lambda: h.pread(bs, 1), errno.EINVAL, "read at offset 1")
    expect_error(lambda: h.pread(bs + 1, 0), errno.EINVAL, "read of %d bytes" % (bs + 1))
    expect_error(lambda: h.pwrite(b"x" * bs, bs // 2), errno.EINVAL, "write at %d" % (bs // 2))
    h.pread(bs, bs)
    return "minimum block %d: unaligned reads and writes EINVAL, aligned ones fine" % bs


def case_eio(uri, fail_at):
    fail_at = int(fail_at)
    out = []
    for structured in (True, False):
        h = connect(uri, structured, strict=True)
        kind = "structured" if structured else "simple"
        before = h.pread(4096, fail_at - 4096)
        m = expect_error(lambda: h.pread(4096, fail_at), errno.EIO, kind + " read at %d" % fail_at)
        if h.pread(4096, fail_at - 4096) != before or len(h.pread(4096, fail_at + 4096)) != 4096:
            raise Fail(kind + ": reads around the failed one do not work")
        out.append("%s ('%s')" % (kind, m) if structured else kind)
        h.shutdown()
    return "EIO for that read only, the connection goes on: " + ", ".join(out)


def case_parallel(uri, n):
    """n reads at once on one connection: with a server that delays each read,
    they take about one delay if they ran in parallel."""
    n = int(n)
    h = connect(uri, strict=True)
    start = time.monotonic()
    bufs = [nbd.Buffer(65536) for i in range(n)]
    for i in range(n):
        h.aio_pread(bufs[i], i * 65536)
    while h.aio_in_flight() > 0:
        h.poll(-1)
    return "%d reads in flight on one connection took %.2f s" % (n, time.monotonic() - start)


def case_two_clients(uri, path):
    want = open(path, "rb").read()
    got = [None, None]

    def reader(i):
        h = connect(uri, strict=True)
        size = h.get_size()
        buf = bytearray()
        for off in range(0, size, 4 * MiB):
            buf += h.pread(min(4 * MiB, size - off), off)
        got[i] = bytes(buf)
        h.shutdown()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if got[0] != want or got[1] != want:
        raise Fail("a client read other bytes than the file holds")
    return "two clients at once each read the %d bytes of the file" % len(want)


def case_df_and_req_one(uri):
    h = connect(uri, strict=True)
    if not h.can_df():
        raise Fail("DF not offered with structured replies")
    chunks = []
    h.pread_structured(65536, 0, lambda buf, off, status, err: chunks.append(status) or 0,
                       nbd.CMD_FLAG_DF)
    if chunks != [nbd.READ_DATA]:
        raise Fail("a read with DF came in chunks %r" % chunks)
    ext = []
    h.block_status(h.get_size(), 0,
                   lambda ctx, off, e, err: ext.append(e) or 0, nbd.CMD_FLAG_REQ_ONE)
    if len(ext) != 1 or len(ext[0]) != 2:
        raise Fail("REQ_ONE answered with %r" % ext)
    return "DF read in one chunk; REQ_ONE gives one extent (%d bytes, flags %d)" % tuple(ext[0])


def case_fua_flush(uri):
    h = connect(uri, strict=True)
    if not (h.can_fua() and h.can_flush() and h.can_multi_conn()):
        raise Fail("FUA, flush or multi-conn not offered")
    h.pwrite(b"\x11" * 4096, 12 * MiB, nbd.CMD_FLAG_FUA)
    h.zero(4096, 12 * MiB + 4096, nbd.CMD_FLAG_FUA | nbd.CMD_FLAG_NO_HOLE)
    h.flush()
    if h.pread(8192, 12 * MiB) != b"\x11" * 4096 + b"\0" * 4096:
        raise Fail("FUA write and zero did not read back")
    return "FUA write, FUA zero with NO_HOLE, flush: read back"


def main():
    uri, case, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        print(globals()["case_" + case](uri, *args))
    except (Fail, nbd.Error) as e:
        print("%s: %s" % (case, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
