#!/usr/bin/python3
"""Records what an NBD client sends: listens on a Unix socket, relays one
connection to the server's socket, and writes every byte the client sent to
a file (a fuzz seed: tests/fuzz/make-seeds.sh).

    record.py LISTEN_SOCKET SERVER_SOCKET OUT_FILE"""
import os
import selectors
import socket
import sys

listen_path, server_path, out_path = sys.argv[1:4]
if os.path.exists(listen_path):
    os.unlink(listen_path)
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(listen_path)
ls.listen(1)
print("ready", flush=True)
client, _ = ls.accept()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.connect(server_path)
sel = selectors.DefaultSelector()
sel.register(client, selectors.EVENT_READ, server)
sel.register(server, selectors.EVENT_READ, client)
with open(out_path, "wb") as out:
    open_ends = 2
    while open_ends:
        for key, _ in sel.select():
            try:
                data = key.fileobj.recv(1 << 20)
            except OSError:
                data = b""
            if key.fileobj is client and data:
                out.write(data)
            if not data:
                sel.unregister(key.fileobj)
                key.data.shutdown(socket.SHUT_WR)
                open_ends -= 1
            else:
                try:
                    key.data.sendall(data)
                except OSError:  # the other end went away first
                    pass
os.unlink(listen_path)
