#!/usr/bin/env python3
"""liar.py --root DIR --port PORT [--log FILE]: a hostile HTTP/1.1 server for tests.

Serves DIR on 127.0.0.1 like a plain static server (GET, HEAD, keep-alive, Range
bytes=N- / N-M / -N answered 206, nginx-style listings with dirs as name/), and
prints the port it listens on (PORT 0: a free one) as the first line of stdout.
A first path segment made of known modes picks how to misbehave; the rest is the
file: GET /drop=100000/repo/store/ab/abcd.cacnk. Modes combine: /trickle=2,endless/x
  endless          200, no Content-Length, Connection: close; the file's bytes (none
                   if missing) then 'A' forever. endless-len: a 1 TiB Content-Length,
                   endless-chunked: chunked encoding, both then stream forever
  trickle=N        the body at N bytes/s (N may be fractional), headers at once
  stall            headers and the first 100 bytes (never the whole body), then
                   silence with the connection held open until the client closes
  drop=N           at most N body bytes per connection (true Content-Length and
                   Content-Range), then the connection is closed; Range honoured
  status=CODE      answer CODE (200-599) with a short text body instead
  ctrl             listings gain entries whose names hold ESC]0;PWNED BEL, ESC[2J,
                   a raw CR and a 0x9b CSI byte (percent-encoded in the href)
  slowheaders=N    wait N seconds before the status line
--log FILE: a line per request as it ends: METHOD PATH STATUS BODY_BYTES RANGE END,
RANGE '-' if none, END ok|drop|stall|gone (client left)|killed (in flight at exit).
SIGTERM/SIGINT: exits 0 at once. Python 3 standard library only.
"""
import argparse
import email.utils
import html
import math
import mimetypes
import os
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK = 64 * 1024
FILLER = b'A' * BLOCK
FAKE_LENGTH = 1 << 40                       # endless-len: 1 TiB
STALL_BYTES = 100
FLAGS = ('endless', 'endless-len', 'endless-chunked', 'stall', 'ctrl')
PARAMS = {'trickle': float, 'drop': int, 'status': int, 'slowheaders': float}
# ctrl: hostile names, shown raw in the listing text, percent-encoded in the href
CTRL_NAMES = [b'pwn\x1b]0;PWNED\x07', b'clear\x1b[2J', b'cr\rfake', b'csi\x9b2J']
LOG = None
LOG_LOCK = threading.Lock()
ACTIVE = set()                              # requests in flight, logged as 'killed' at exit


class BadMode(Exception):
    pass


class Gone(Exception):
    """The client went away (reset, broken pipe)."""


def parse_modes(segment):
    """The modes of a first path segment, or None if it is not a mode prefix."""
    modes = {}
    for tok in segment.split(','):
        name, eq, value = tok.partition('=')
        if name not in FLAGS and name not in PARAMS:
            return None
        modes[name] = (name, eq, value)
    out = {}
    for name, eq, value in modes.values():
        if name in FLAGS:
            if eq:
                raise BadMode('%s takes no value' % name)
            if name.startswith('endless'):
                out['endless'] = name
            else:
                out[name] = True
            continue
        try:
            v = PARAMS[name](value)
        except ValueError:
            raise BadMode('%s needs a number: %s=N' % (name, name))
        if (name == 'trickle' and not v > 0 or name in ('drop', 'slowheaders') and v < 0 or
                name == 'status' and not 200 <= v <= 599 or not math.isfinite(v)):
            raise BadMode('%s=%s is out of range' % (name, value))
        out[name] = v
    return out


def log_line(*fields):
    if LOG is None:
        return
    with LOG_LOCK:
        LOG.write(' '.join(str(f) for f in fields) + '\n')
        LOG.flush()


def log_request_line(h, end=None):
    """The one line of request h (once, whoever comes first: h itself or the exit)."""
    with LOG_LOCK:
        if h.logged:
            return
        h.logged = True
        ACTIVE.discard(h)
        if LOG is not None:
            LOG.write('%s %s %s %d %s %s\n' % (h.command, log_safe(h.path), h.status, h.sent,
                                               log_safe(h.rng) if h.rng is not None else '-',
                                               end or h.end))
            LOG.flush()


def log_safe(s):
    """A header value as one log field: no spaces or control characters."""
    return ''.join(c if 0x20 < ord(c) < 0x7f else '%%%02X' % (ord(c) & 0xff) for c in s) or '-'


def parse_range(value, size):
    """(start, end) inclusive for one 'bytes=' range, 'unsatisfiable', or None to ignore it."""
    unit, _, spec = value.partition('=')
    if unit.strip().lower() != 'bytes' or ',' in spec:
        return None
    first, dash, last = spec.strip().partition('-')
    if not dash:
        return None
    try:
        if first == '':
            n = int(last)
            if n < 0 or not last.isdigit():
                return None
            if n == 0 or size == 0:
                return 'unsatisfiable'
            return (max(0, size - n), size - 1)
        if not first.isdigit() or last and not last.isdigit():
            return None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        return 'unsatisfiable'
    if end < start:
        return None
    return (start, min(end, size - 1))


def listing(dirpath, urlpath, ctrl):
    """nginx autoindex-like HTML for a directory, as bytes."""
    dirs, files = [], []
    with os.scandir(dirpath) as it:
        for e in it:
            try:
                isdir = e.is_dir()
                st = e.stat()
            except OSError:
                continue
            (dirs if isdir else files).append((os.fsencode(e.name), isdir, st.st_mtime, st.st_size))
    if ctrl:
        now = time.time()
        dirs += [(n, True, now, 0) for n in CTRL_NAMES]
        files += [(n + b'.caibx', False, now, 4096) for n in CTRL_NAMES]
    title = html.escape(urllib.parse.unquote(urlpath)).encode('utf-8', 'surrogateescape')
    out = [b'<html>\r\n<head><title>Index of ' + title + b'</title></head>\r\n<body>\r\n'
           b'<h1>Index of ' + title + b'</h1><hr><pre><a href="../">../</a>\r\n']
    for name, isdir, mtime, size in sorted(dirs) + sorted(files):
        slash = b'/' if isdir else b''
        href = urllib.parse.quote(name, safe="-._~!$'()*+,;=@").encode('ascii') + slash
        text = name.replace(b'&', b'&amp;').replace(b'<', b'&lt;').replace(b'>', b'&gt;') + slash
        date = time.strftime('%d-%b-%Y %H:%M', time.gmtime(mtime)).encode()
        pad = b' ' * max(1, 51 - len(name + slash))
        out.append(b'<a href="%s">%s</a>%s%s %19s\r\n' % (href, text, pad, date,
                                                         b'-' if isdir else str(size).encode()))
    out.append(b'</pre><hr></body>\r\n</html>\r\n')
    return b''.join(out)


def file_blocks(f, start, length):
    """length bytes of f from start, BLOCK at a time (length None: to the end)."""
    f.seek(start)
    while length is None or length > 0:
        b = f.read(BLOCK if length is None else min(BLOCK, length))
        if not b:
            return
        if length is not None:
            length -= len(b)
        yield b


def readable(sock, timeout):
    """Whether sock has data or EOF within timeout seconds (poll: no FD_SETSIZE limit)."""
    p = select.poll()
    p.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(p.poll(timeout * 1000))


def forever(blocks):
    yield from blocks
    while True:
        yield FILLER


class Liar(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def version_string(self):
        return 'liar/1'

    def setup(self):
        super().setup()
        self.drop_left = None               # drop=N budget left on this connection

    def log_request(self, code='-', size='-'):
        pass

    def log_message(self, format, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        # requests the base class rejects (bad request line, unknown method)
        try:
            super().send_error(code, message, explain)
        finally:
            log_line(getattr(self, 'command', None) or '-',
                     log_safe(getattr(self, 'path', '') or ''), code, '-', '-', 'ok')

    def do_GET(self):
        self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    def serve(self, head):
        self.sent = 0
        self.status = '-'
        self.end = 'ok'
        self.rng = self.headers.get('Range')
        self.logged = False
        with LOG_LOCK:
            ACTIVE.add(self)
        try:
            self.respond(head)
        except (OSError, Gone):
            self.end = 'gone'
            self.close_connection = True
        finally:
            log_request_line(self)

    # --- the response: what an honest server would answer ---------------------------

    def respond(self, head):
        rawpath = urllib.parse.urlsplit(self.path).path
        segs = rawpath.split('/')
        modes = None
        if len(segs) > 1 and segs[1]:
            try:
                modes = parse_modes(urllib.parse.unquote(segs[1]))
            except BadMode as e:
                return self.answer(400, {}, 'liar: bad mode: %s\n' % e, {}, head)
        if modes is None:
            modes, rest = {}, rawpath
        else:
            rest = rawpath[len(segs[1]) + 1:] or '/'
        if 'slowheaders' in modes:
            self.wait_or_gone(modes['slowheaders'])
        if 'status' in modes:
            code = modes['status']
            return self.answer(code, {}, 'liar: status %d\n' % code, modes, head)

        rel = urllib.parse.unquote_to_bytes(rest)
        parts = [p for p in rel.split(b'/') if p not in (b'', b'.')]
        if b'..' in parts or b'\0' in rel:
            return self.answer(400, {}, 'liar: bad path\n', modes, head)
        path = os.path.join(os.fsencode(self.server.root), *parts)
        if os.path.isdir(path):
            if not rawpath.endswith('/'):
                return self.answer(301, {'Location': rawpath + '/'}, 'moved\n', modes, head)
            try:
                body = listing(path, rest, modes.get('ctrl'))
            except OSError:
                return self.answer(403, {}, 'forbidden\n', modes, head)
            return self.answer(200, {'Content-Type': 'text/html'}, body, modes, head)
        try:
            f = open(path, 'rb')
        except FileNotFoundError:
            return self.answer(404, {}, 'not found\n', modes, head, missing=True)
        except IsADirectoryError:
            return self.answer(404, {}, 'not found\n', modes, head, missing=True)
        except PermissionError:
            return self.answer(403, {}, 'forbidden\n', modes, head)
        except OSError:
            return self.answer(500, {}, 'cannot open\n', modes, head)
        with f:
            st = os.fstat(f.fileno())
            size = st.st_size
            ctype = mimetypes.guess_type(os.fsdecode(path))[0] or 'application/octet-stream'
            hdrs = {'Content-Type': ctype, 'Accept-Ranges': 'bytes',
                    'Last-Modified': email.utils.formatdate(st.st_mtime, usegmt=True)}
            r = self.headers.get('Range')
            r = parse_range(r, size) if r is not None and 'endless' not in modes else None
            if r == 'unsatisfiable':
                hdrs['Content-Range'] = 'bytes */%d' % size
                return self.answer(416, hdrs, 'range not satisfiable\n', modes, head)
            if r:
                hdrs['Content-Range'] = 'bytes %d-%d/%d' % (r[0], r[1], size)
                return self.answer(206, hdrs, (f, r[0], r[1] - r[0] + 1), modes, head)
            return self.answer(200, hdrs, (f, 0, size), modes, head)

    # --- how it is delivered: the lies ------------------------------------------------

    def answer(self, code, hdrs, body, modes, head, missing=False):
        """body: str/bytes, or (file, start, length)."""
        if isinstance(body, str):
            body = body.encode()
            hdrs.setdefault('Content-Type', 'text/plain')
        if isinstance(body, bytes):
            length = len(body)
            blocks = iter([body[i:i + BLOCK] for i in range(0, len(body), BLOCK)])
        else:
            f, start, length = body
            blocks = file_blocks(f, start, length)
        endless = modes.get('endless')
        if endless:
            if missing:
                code, blocks = 200, iter(())
                hdrs['Content-Type'] = 'application/octet-stream'
            code = 200 if 'status' not in modes else code
            hdrs.pop('Content-Range', None)
            blocks = forever(blocks)
            length = FAKE_LENGTH if endless == 'endless-len' else None
        if code in (204, 304):
            length, blocks = None, iter(())

        self.status = code
        self.send_response(code, None if code in self.responses else 'Liar')
        for k, v in hdrs.items():
            self.send_header(k, v)
        chunked = endless == 'endless-chunked'
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        elif length is not None:
            self.send_header('Content-Length', str(length))
        elif code not in (204, 304):
            self.send_header('Connection', 'close')
            self.close_connection = True
        self.end_headers()
        if head:
            if modes.get('stall'):
                self.end = 'stall'
                self.hang()
            return

        # the caps: drop=N bytes per connection, stall after its first bytes
        cap, why = None, None
        if 'drop' in modes:
            if self.drop_left is None:
                self.drop_left = modes['drop']
            cap, why = self.drop_left, 'drop'
        if modes.get('stall'):
            s = STALL_BYTES if length is None else min(STALL_BYTES, max(0, length - 1))
            if cap is None or s < cap:
                cap, why = s, 'stall'
        rate = modes.get('trickle')
        step = max(1, int(rate / 10)) if rate else BLOCK
        t0 = time.monotonic()
        for block in blocks:
            for i in range(0, len(block), step):
                piece = block[i:i + step]
                if cap is not None and self.sent + len(piece) > cap:
                    piece = piece[:cap - self.sent]
                if piece:
                    if rate:
                        delay = t0 + self.sent / rate - time.monotonic()
                        if delay > 0:
                            self.wait_or_gone(delay)
                    self.put(piece, chunked)
                if cap is not None and self.sent >= cap:
                    break
            if cap is not None and self.sent >= cap:
                break
        if why == 'drop':
            self.drop_left -= self.sent
        if why == 'stall':
            self.end = 'stall'
            self.hang()
        elif why == 'drop' and (length is None or self.sent < length):
            # cut short: close without completing the response (FIN after the data)
            self.end = 'drop'
            self.close_connection = True
        elif chunked:
            self.wfile.write(b'0\r\n\r\n')

    def put(self, data, chunked):
        if chunked:
            self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        else:
            self.wfile.write(data)
        self.sent += len(data)

    def wait_or_gone(self, seconds):
        """Sleep, but notice a client that closes meanwhile."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.closed_by_peer(min(left, 1.0)):
                raise Gone()

    def closed_by_peer(self, timeout):
        if not readable(self.connection, timeout):
            return False
        try:
            data = self.connection.recv(BLOCK, socket.MSG_PEEK)
        except OSError:
            return True
        if not data:
            return True
        time.sleep(timeout)             # a pipelined request: leave it, just wait
        return False

    def hang(self):
        """Hold the connection open, sending nothing, until the client closes it."""
        self.close_connection = True
        while True:
            if readable(self.connection, 60):
                try:
                    if not self.connection.recv(BLOCK):
                        return
                except OSError:
                    return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (OSError, Gone)):
            return                          # clients hang up: normal here
        super().handle_error(request, client_address)


class Stop(Exception):
    pass


def main():
    global LOG
    ap = argparse.ArgumentParser(description='a hostile HTTP/1.1 server for tests')
    ap.add_argument('--root', required=True, help='folder to serve')
    ap.add_argument('--port', type=int, required=True, help='port on 127.0.0.1, 0: a free one')
    ap.add_argument('--log', help='one line per request (- for stderr)')
    a = ap.parse_args()
    if not os.path.isdir(a.root):
        ap.error('--root %s is not a folder' % a.root)
    if a.log == '-':
        LOG = sys.stderr
    elif a.log:
        LOG = open(a.log, 'a', encoding='utf-8', errors='backslashreplace')
    mimetypes.init()
    srv = Server(('127.0.0.1', a.port), Liar)
    srv.root = os.path.abspath(a.root)

    def stop(signum, frame):
        raise Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except Stop:
        pass
    finally:
        srv.server_close()
        with LOG_LOCK:
            active = list(ACTIVE)
        for h in active:
            log_request_line(h, 'killed')
        sys.stdout.flush()
        # handler threads may be blocked forever (stall, endless): do not wait for them
        os._exit(0)


if __name__ == '__main__':
    main()
