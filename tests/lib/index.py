"""A small PEP 503 package index on the host's 127.0.0.1, for the tests.

It serves a directory of sdists and wheels:

    /simple/                      every project (normalized names)
    /simple/<normalized-name>/    links to its files, with #sha256=<hex>
    /files/<filename>             the file, streamed from disk (sendfile)

Threaded, so pip's parallel requests and a 50 MB download work at once.
Files added to the directory later are seen on the next request.

    with IndexServer("/tmp/wheels") as index:
        run(["pipjail", "--index-url", index.url, "pip", "install", "demo"])
        assert "/files/demo-1.0.tar.gz" in index.paths()

Manual use:  /usr/bin/python3 tests/lib/index.py DIR [--port 0]
prints the index URL (http://127.0.0.1:PORT/simple/) and serves until ^C.
"""
import argparse
import hashlib
import html
import http.server
import os
import re
import socketserver
import sys
import threading
import urllib.parse

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")


def normalize(name):
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    """The normalized project name of a wheel or sdist file name, or None."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return normalize(parts[0]) if len(parts) >= 5 else None
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            if "-" not in stem:
                return None
            return normalize(stem.rsplit("-", 1)[0])
    return None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pipjail-test-index/1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _send(self, status, body, ctype="text/html; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def _raw(self, body=b""):
        """The request as it arrived: line, headers, body (what a leak
        check searches)."""
        return (self.requestline + "\r\n" + str(self.headers)).encode(errors="replace") + body

    def do_POST(self):
        # Nothing is served by POST/PUT; what was sent is kept for the checks.
        n = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(n) if n > 0 else b""
        path = urllib.parse.urlsplit(self.path).path
        self.server.index._record(self.command, path, self.client_address, self._raw(body))
        return self._send(405, "method not allowed\n", "text/plain")

    do_PUT = do_POST

    def do_GET(self):
        index = self.server.index
        path = urllib.parse.urlsplit(self.path).path
        index._record(self.command, path, self.client_address, self._raw())
        if path in ("/simple", "/simple/"):
            if path == "/simple":
                return self._redirect("/simple/")
            links = "".join(
                f'<a href="{html.escape(p)}/">{html.escape(p)}</a>\n' for p in sorted(index.projects())
            )
            return self._send(200, f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
        m = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if m:
            name = m.group(1)
            if normalize(name) != name or not m.group(2):
                return self._redirect(f"/simple/{normalize(name)}/")
            files = index.projects().get(name)
            if not files:
                return self._send(404, "not found\n", "text/plain")
            links = "".join(
                f'<a href="../../files/{urllib.parse.quote(f)}#sha256={index.sha256(f)}">'
                f"{html.escape(f)}</a>\n"
                for f in sorted(files)
            )
            return self._send(200, f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
        m = re.fullmatch(r"/files/([^/]+)", path)
        if m:
            return self._file(urllib.parse.unquote(m.group(1)))
        return self._send(404, "not found\n", "text/plain")

    def _redirect(self, where):
        self.send_response(301)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _file(self, name):
        full = os.path.join(self.server.index.directory, name)
        if os.sep in name or name.startswith(".") or not os.path.isfile(full):
            return self._send(404, "not found\n", "text/plain")
        size = os.path.getsize(full)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.flush()
        # Stream from disk: the server never holds the file in memory.
        with open(full, "rb") as f:
            try:
                self.connection.sendfile(f)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class IndexServer:
    """A PEP 503 index serving `directory` on 127.0.0.1:`port` (0: any)."""

    def __init__(self, directory, port=0):
        self.directory = os.path.abspath(directory)
        self._lock = threading.Lock()
        self._hashes = {}
        self._log = []
        self._raw = []
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.index = self
        self.port = self._server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/simple/"
        self._thread = None

    def projects(self):
        out = {}
        for f in os.listdir(self.directory):
            p = project_of(f)
            if p and os.path.isfile(os.path.join(self.directory, f)):
                out.setdefault(p, []).append(f)
        return out

    def sha256(self, filename):
        full = os.path.join(self.directory, filename)
        st = os.stat(full)
        key = (filename, st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._hashes:
                return self._hashes[key]
        h = hashlib.sha256()
        with open(full, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        with self._lock:
            self._hashes[key] = h.hexdigest()
        return h.hexdigest()

    def _record(self, method, path, client, raw=b""):
        with self._lock:
            self._log.append((method, path, client[0]))
            self._raw.append(raw)

    def raw_requests(self):
        """[bytes] every request so far as it arrived: the request line (with
        the query string), the headers and a POST/PUT body."""
        with self._lock:
            return list(self._raw)

    def requests(self):
        """[(method, path, client address)] so far."""
        with self._lock:
            return list(self._log)

    def paths(self):
        return [p for _, p, _ in self.requests()]

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="index", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_large_file(path, size):
    """A file of `size` bytes (sparse-free, deterministic) for big downloads."""
    block = hashlib.sha256(b"pipjail").digest() * 32768  # 1 MiB
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description="Serve DIR as a PEP 503 index on 127.0.0.1.")
    ap.add_argument("directory")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    if not os.path.isdir(args.directory):
        ap.error(f"{args.directory}: not a directory")
    server = IndexServer(args.directory, args.port)
    print(server.url, flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
