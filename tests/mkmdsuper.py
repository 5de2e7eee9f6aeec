#!/usr/bin/env python3
"""mkmdsuper.py FILE OFFSET SIZE METADATA [DATA_OFFSET]: writes an MD
superblock of a one-of-two-devices RAID1 member (the other one missing) as
mdadm --create --metadata=METADATA (1.0, 1.1 or 1.2) would, into the partition
[OFFSET, OFFSET+SIZE) of FILE; the array's data starts at DATA_OFFSET bytes
(1.1/1.2; 1 MiB by default) and spans the rest of the partition. For tests on
a host whose kernel has no md (mdadm --create needs it; --examine does not)."""
import os
import struct
import sys

path, off, size, meta = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
doff = int(sys.argv[5]) if len(sys.argv) > 5 else 1 << 20
sectors = size // 512
if meta == '1.0':
    sb_at = (sectors - 16) & ~7        # 8 KiB from the end, 4 KiB aligned
    data_off, data_size = 0, sb_at - 16  # room for the bitmap mdadm reserves
elif meta in ('1.1', '1.2'):
    sb_at = 0 if meta == '1.1' else 8
    data_off = doff // 512
    data_size = sectors - data_off
else:
    sys.exit('metadata 1.0, 1.1 or 1.2')
max_dev = 2
sb = bytearray(256 + 2 * max_dev)
struct.pack_into('<IIII', sb, 0, 0xa92b4efc, 1, 0, 0)
sb[16:32] = os.urandom(16)                 # set_uuid
sb[32:48] = b'muletto:0'.ljust(16, b'\0')  # set_name
struct.pack_into('<QiIQII', sb, 64, 1700000000, 1, 0, data_size, 0, 2)  # ctime level layout size chunk raid_disks
struct.pack_into('<QQQQ', sb, 128, data_off, data_size, sb_at, 0)
struct.pack_into('<I', sb, 160, 0)        # dev_number
sb[168:184] = os.urandom(16)               # device_uuid
struct.pack_into('<QQQ', sb, 192, 1700000000, 1, 0xffffffffffffffff)  # utime events resync_offset
struct.pack_into('<I', sb, 220, max_dev)
struct.pack_into('<HH', sb, 256, 0, 0xffff)  # this device is role 0; role 1 missing
csum = sum(struct.unpack_from('<%dI' % (len(sb) // 4), sb))
csum = (csum & 0xffffffff) + (csum >> 32)
struct.pack_into('<I', sb, 216, csum & 0xffffffff)
with open(path, 'r+b') as f:
    f.seek(off + sb_at * 512)
    f.write(sb)
print(data_off * 512)
