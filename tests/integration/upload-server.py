#!/usr/bin/env python3
"""A real HTTP server for the upload tests (mmreplayd, mmreplay push):
stores POSTed bodies.

upload-server.py DIR PORTFILE FAIL_FIRST
Answers 503 to the first FAIL_FIRST requests (to exercise retries), then
201 and writes the body to DIR/<X-Mmreplay-Filename>; a POST to a path
ending in /reject gets 400. Every request is logged to DIR/requests.log
as "PATH STATUS CONTENT-TYPE". Writes the port it listens on to
PORTFILE. Stops after 120 s at most.
"""
import http.server
import os
import sys
import threading

out_dir, port_file, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
state = {"seen": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        state["seen"] += 1
        if self.path.endswith("/reject"):
            status = 400
        elif state["seen"] <= fail_first:
            status = 503
        else:
            status = 201
            name = os.path.basename(self.headers.get("X-Mmreplay-Filename", "unnamed"))
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(body)
        with open(os.path.join(out_dir, "requests.log"), "a") as f:
            f.write(f"{self.path} {status} {self.headers.get('Content-Type', '-')}\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write(str(srv.server_address[1]))
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()
