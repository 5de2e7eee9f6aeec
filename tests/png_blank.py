# Exit 0 when a PNG screenshot is not blank (more than 20 colours, none over
# 97 % of the pixels), printing its size and colours; 1 otherwise.
#   python3 tests/png_blank.py FILE.png
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
p, idat = 8, b''
while p < len(d):
    n, t = struct.unpack('>I4s', d[p:p + 8])
    if t == b'IHDR': w, h, depth, ct = struct.unpack('>IIBB', d[p + 8:p + 18])
    if t == b'IDAT': idat += d[p + 8:p + 8 + n]
    p += 12 + n
bpp = {2: 3, 6: 4}[ct]
raw, stride, prev, px = zlib.decompress(idat), w * bpp, bytearray(w * bpp), {}
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):
        k = bytes(line[x:x + 3]); px[k] = px.get(k, 0) + 1
    prev = line
top = max(px.values()) / sum(px.values())
print('%dx%d, %d colours, the commonest %.0f %%' % (w, h, len(px), 100 * top))
sys.exit(0 if len(px) > 20 and top < 0.97 else 1)
