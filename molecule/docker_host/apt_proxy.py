"""A minimal HTTP forward proxy for apt, so that containers on the lab's bridge (which has
no NAT: the lab's dockerd runs with --iptables=false) reach the Debian mirror while keeping
their own network namespace.  Plain HTTP GET/HEAD only (apt's http:// sources); the
upstream host must be one of ALLOWED.

  apt_proxy.py ADDRESS PORT      serve until killed (molecule's cleanup kills it by PID)
"""

import http.server
import shutil
import socketserver
import sys
import urllib.error
import urllib.parse
import urllib.request

ALLOWED = {"deb.debian.org", "security.debian.org"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _forward(self, with_body):
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or url.hostname not in ALLOWED:
            self.send_error(403, "only http://%s" % " and http://".join(sorted(ALLOWED)))
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        request = urllib.request.Request(self.path, headers=headers, method=self.command)
        try:
            upstream = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as exc:
            upstream = exc
        except OSError as exc:
            self.send_error(502, str(exc))
            return
        with upstream:
            self.send_response(upstream.status if hasattr(upstream, "status") else upstream.code)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            if upstream.headers.get("Content-Length") is None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if with_body:
                shutil.copyfileobj(upstream, self.wfile)

    def do_GET(self):
        self._forward(True)

    def do_HEAD(self):
        self._forward(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    Server((sys.argv[1], int(sys.argv[2])), Proxy).serve_forever()
