# A web hook's receiver for the tests: every POST's body in DIR/NNN.json, its
# Content-Type, path and Authorization header in DIR/NNN.type.
#   python3 tests/hook_server.py PORT DIR      (on 127.0.0.1)
import http.server, os, sys
d = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        n = len([f for f in os.listdir(d) if f.endswith('.json')])
        open(os.path.join(d, '%03d.type' % n), 'w').write(self.headers.get('Content-Type', '') + '\n' + self.path + '\n' + self.headers.get('Authorization', '') + '\n')
        open(os.path.join(d, '%03d.json.tmp' % n), 'wb').write(body)
        os.rename(os.path.join(d, '%03d.json.tmp' % n), os.path.join(d, '%03d.json' % n))
        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
