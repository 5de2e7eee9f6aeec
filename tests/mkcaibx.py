#!/usr/bin/env python3
"""mkcaibx.py OUT.caibx SIZE_MIB CHUNK_FILE...: a casync blob index of SIZE_MIB
1 MiB chunks (SHA-256 ids), all zero except one chunk per CHUNK_FILE, spread
evenly; prints the byte offset of each data chunk, one a line. For tests of
very large disks without writing them."""
import hashlib
import struct
import sys

out, mib, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
C = 1 << 20
zero = hashlib.sha256(bytes(C)).digest()
place = {}
for k, f in enumerate(files):
    data = open(f, 'rb').read()
    assert len(data) == C, f + ' must hold exactly 1 MiB'
    place[(k + 1) * mib // (len(files) + 1)] = hashlib.sha256(data).digest()
with open(out, 'wb') as f:
    f.write(struct.pack('<QQQQQQ', 48, 0x96824d9c7b129ff9, 0, C, C, C))
    f.write(struct.pack('<QQ', 0xffffffffffffffff, 0xe75b9e112f17417d))
    buf = bytearray()
    for i in range(mib):
        buf += struct.pack('<Q', (i + 1) * C) + place.get(i, zero)
        if len(buf) >= 1 << 22:
            f.write(buf)
            buf = bytearray()
    f.write(buf)
    f.write(struct.pack('<QQQQQ', 0, 0, 48, 16 + 40 * mib + 40, 0x4b4f050e5549ecd1))
for i in sorted(place):
    print(i * C)
