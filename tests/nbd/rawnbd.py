#!/usr/bin/python3
"""A raw NBD client on a Unix socket, for what a well-behaved client library
never sends: lying option lengths, unknown commands, bad magic, a write that
stops in the middle of its payload.

    rawnbd.py SOCKET CASE [ARG...]

Each case exits 0 and prints one line when the server answered as the NBD
protocol says (tests/integration/nbd_protocol.sh), or fails with the reason.
The wire format is written out here from the protocol document, so that the
server is checked against it and not against itself."""
import socket
import struct
import sys
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPMAGIC = 0x0003E889045565A9
REQMAGIC = 0x25609513
SIMPLE = 0x67446698
STRUCTURED = 0x668E33EF

OPT = {"EXPORT_NAME": 1, "ABORT": 2, "LIST": 3, "STARTTLS": 5, "INFO": 6, "GO": 7,
       "STRUCTURED_REPLY": 8, "LIST_META_CONTEXT": 9, "SET_META_CONTEXT": 10}
REP_ACK, REP_SERVER, REP_INFO, REP_META = 1, 2, 3, 4
ERR_UNSUP, ERR_INVALID, ERR_UNKNOWN, ERR_TOO_BIG = (0x80000000 + n for n in (1, 3, 6, 9))
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_BLOCK_STATUS = 0, 1, 2, 3, 7
EINVAL, EPERM, ENOSPC, EIO = 22, 1, 28, 5


class Fail(Exception):
    pass


class Conn:
    def __init__(self, path, cflags=3):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        magic, opt, hflags = struct.unpack(">QQH", self.recv(18))
        if magic != NBDMAGIC or opt != IHAVEOPT or not hflags & 1:
            raise Fail("bad greeting %x %x %x" % (magic, opt, hflags))
        self.s.sendall(struct.pack(">I", cflags))

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            part = self.s.recv(n - len(buf))
            if not part:
                raise EOFError("server closed the connection after %d of %d bytes" % (len(buf), n))
            buf += part
        return buf

    def closed(self, seconds=5):
        """True when the server closes the connection (reads drain to EOF)."""
        self.s.settimeout(seconds)
        try:
            while self.s.recv(65536):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def option(self, code, data=b""):
        self.s.sendall(struct.pack(">QII", IHAVEOPT, code, len(data)) + data)

    def reply(self):
        magic, opt, rtype, n = struct.unpack(">QIII", self.recv(20))
        if magic != REPMAGIC:
            raise Fail("bad option reply magic %x" % magic)
        return opt, rtype, self.recv(n)

    def go(self, name=b"", structured=False, meta=False):
        if structured:
            self.option(OPT["STRUCTURED_REPLY"])
            expect(self.reply()[1], REP_ACK, "STRUCTURED_REPLY")
        if meta:
            q = b"base:allocation"
            self.option(OPT["SET_META_CONTEXT"], struct.pack(">I", len(name)) + name +
                        struct.pack(">II", 1, len(q)) + q)
            while self.reply()[1] != REP_ACK:
                pass
        self.option(OPT["GO"], struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
        size = flags = None
        while True:
            _, rtype, data = self.reply()
            if rtype == REP_INFO and struct.unpack(">H", data[:2])[0] == 0:
                size, flags = struct.unpack(">QH", data[2:12])
            elif rtype == REP_ACK:
                return size, flags
            elif rtype != REP_INFO:
                raise Fail("GO answered %x: %r" % (rtype, data))

    def request(self, cmd, off=0, length=0, flags=0, handle=1, payload=b""):
        self.s.sendall(struct.pack(">IHHQQI", REQMAGIC, flags, cmd, handle, off, length) + payload)

    def simple(self, datalen=0):
        magic, err, handle = struct.unpack(">IIQ", self.recv(16))
        if magic != SIMPLE:
            raise Fail("expected a simple reply, got magic %x" % magic)
        return err, handle, self.recv(datalen) if err == 0 and datalen else b""

    def chunk(self):
        magic, flags, ctype, handle, n = struct.unpack(">IHHQI", self.recv(20))
        if magic != STRUCTURED:
            raise Fail("expected a structured reply, got magic %x" % magic)
        return flags, ctype, handle, self.recv(n)


def expect(got, want, what):
    if got != want:
        raise Fail("%s: got %r, expected %r" % (what, got, want))


def case_unknown_command(path):
    c = Conn(path)
    c.go()
    c.request(99, 0, 512, handle=7)
    err, handle, _ = c.simple()
    expect((err, handle), (EINVAL, 7), "unknown command 99")
    c.request(CMD_READ, 0, 512, handle=8)
    err, handle, data = c.simple(512)
    expect((err, handle, len(data)), (0, 8, 512), "a read after it on the same connection")
    return "command 99 answered EINVAL, the connection goes on"


def case_bad_flags(path):
    c = Conn(path)
    c.go(structured=True)
    c.request(CMD_READ, 0, 512, flags=1 << 1, handle=3)  # NO_HOLE is for WRITE_ZEROES
    flags, ctype, handle, data = c.chunk()
    err, mlen = struct.unpack(">IH", data[:6])
    expect((ctype, handle, err, flags & 1), (0x8001, 3, EINVAL, 1), "READ with NO_HOLE")
    return "READ with NO_HOLE: EINVAL, message '%s'" % data[6:6 + mlen].decode()


def case_block_status_unnegotiated(path):
    c = Conn(path)
    c.go()
    c.request(CMD_BLOCK_STATUS, 0, 4096, handle=5)
    expect(c.simple()[:2], (EINVAL, 5), "BLOCK_STATUS without a meta context")
    return "BLOCK_STATUS without base:allocation negotiated: EINVAL"


def case_bad_request_magic(path):
    c = Conn(path)
    c.go()
    c.s.sendall(struct.pack(">IHHQQI", 0x12345678, 0, CMD_READ, 1, 0, 512))
    if not c.closed():
        raise Fail("the connection stayed open after a request with a bad magic")
    return "a request with a bad magic closes the connection"


def case_huge_option(path):
    c = Conn(path)
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT["GO"], 0xFFFFFFF0))  # and no data
    try:
        opt, rtype, _ = c.reply()
        expect(rtype, ERR_TOO_BIG, "a 4 GiB option")
    except EOFError:
        pass
    if not c.closed():
        raise Fail("the connection stayed open after an option of 4 GiB")
    return "an option claiming 4 GiB is refused and the connection closed"


def case_option_over_limit(path):
    c = Conn(path)
    try:  # the server may close before all of it is sent
        c.option(OPT["LIST"], b"x" * (64 * 1024 + 1))
    except (BrokenPipeError, ConnectionResetError):
        return "an option over 64 KiB: the connection closed while it was sent"
    try:
        expect(c.reply()[1], ERR_TOO_BIG, "an option of 64 KiB + 1")
    except EOFError:
        pass
    if not c.closed():
        raise Fail("the connection stayed open after an option over 64 KiB")
    return "an option over 64 KiB is refused and the connection closed"


def case_lying_fields(path):
    c = Conn(path)
    # GO whose name length runs past the option's own length
    c.option(OPT["GO"], struct.pack(">I", 1000) + b"abc" + struct.pack(">H", 0))
    expect(c.reply()[1], ERR_INVALID, "GO with a name longer than the option")
    # GO announcing 5 information requests and carrying 1
    c.option(OPT["GO"], struct.pack(">I", 0) + struct.pack(">HH", 5, 3))
    expect(c.reply()[1], ERR_INVALID, "GO with too few information requests")
    c.option(OPT["STRUCTURED_REPLY"])
    expect(c.reply()[1], REP_ACK, "STRUCTURED_REPLY")
    # SET_META_CONTEXT whose query length lies
    c.option(OPT["SET_META_CONTEXT"], struct.pack(">I", 0) + struct.pack(">II", 1, 99) + b"base:")
    expect(c.reply()[1], ERR_INVALID, "SET_META_CONTEXT with a lying query length")
    c.option(OPT["LIST"], b"junk")
    expect(c.reply()[1], ERR_INVALID, "LIST with data")
    size, _ = c.go()
    return "lying option fields answered ERR_INVALID; GO still works (size %d)" % size


def case_option_truncated(path):
    c = Conn(path)
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT["GO"], 100) + b"0123456789")
    c.s.close()
    return "sent 10 of 100 option bytes and hung up"


def case_unknown_options(path):
    c = Conn(path)
    for code in (42, OPT["STARTTLS"], 4):
        c.option(code)
        expect(c.reply()[1], ERR_UNSUP, "option %d" % code)
    c.option(OPT["INFO"], struct.pack(">I", 4) + b"nope" + struct.pack(">H", 0))
    expect(c.reply()[1], ERR_UNKNOWN, "INFO for export 'nope'")
    c.option(OPT["LIST"])
    opt, rtype, data = c.reply()
    expect(rtype, REP_SERVER, "LIST")
    name = data[4:4 + struct.unpack(">I", data[:4])[0]]
    expect(c.reply()[1], REP_ACK, "end of LIST")
    c.option(OPT["ABORT"])
    expect(c.reply()[1], REP_ACK, "ABORT")
    return "unknown options ERR_UNSUP, unknown export ERR_UNKNOWN, LIST gives '%s'" % name.decode()


def case_export_name_unknown(path):
    c = Conn(path)
    c.option(OPT["EXPORT_NAME"], b"nope")
    if not c.closed():
        raise Fail("EXPORT_NAME of an unknown export left the connection open")
    return "EXPORT_NAME of an unknown export closes the connection"


def case_export_name(path, name):
    c = Conn(path, cflags=1)  # without NO_ZEROES: 124 zeroes follow
    c.option(OPT["EXPORT_NAME"], name.encode())
    size, flags = struct.unpack(">QH", c.recv(10))
    expect(c.recv(124), b"\0" * 124, "the zeroes after EXPORT_NAME")
    c.request(CMD_READ, 0, 4096, handle=9)
    err, handle, data = c.simple(4096)
    expect((err, handle, len(data)), (0, 9, 4096), "a read")
    c.request(CMD_DISC)
    if not c.closed():
        raise Fail("DISC left the connection open")
    return "EXPORT_NAME: size %d, flags %#x, 124 zeroes, a read, DISC" % (size, flags)


def case_bad_client_flags(path):
    c = Conn(path, cflags=0x80)
    if not c.closed():
        raise Fail("unknown client flags left the connection open")
    return "unknown client flags close the connection"


def case_many_options(path):
    c = Conn(path)
    try:
        for _ in range(1100):
            c.option(OPT["STRUCTURED_REPLY"])
            c.reply()
    except (EOFError, ConnectionResetError, BrokenPipeError):
        return "a client that never chooses an export is cut after 1024 options"
    raise Fail("1100 options were all answered")


def case_write_cut(path, offset):
    c = Conn(path)
    c.go()
    c.request(CMD_WRITE, int(offset), 65536, handle=4, payload=b"\xee" * 1000)
    time.sleep(0.2)
    c.s.close()
    return "a WRITE of 64 KiB sent 1000 bytes and hung up"


def case_write_oversized(path, offset):
    c = Conn(path)
    c.go()
    c.request(CMD_WRITE, int(offset), 33 << 20, handle=6, payload=b"\xdd" * (33 << 20))
    expect(c.simple()[:2], (EINVAL, 6), "a WRITE of 33 MiB (limit 32 MiB)")
    c.request(CMD_READ, int(offset), 4096, handle=7)
    err, _, data = c.simple(4096)
    expect(err, 0, "a read after it")
    if data == b"\xdd" * 4096:
        raise Fail("the refused write landed")
    return "a WRITE of 33 MiB: its payload skipped, EINVAL, nothing written"


def main():
    path, case, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        print(globals()["case_" + case](path, *args))
    except (Fail, EOFError, OSError) as e:
        print("%s: %s" % (case, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
