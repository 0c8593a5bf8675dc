#!/usr/bin/python3
"""Tiny PEP 503 index on 127.0.0.1 for the red-team fixtures.

Logs every request line (and body) to LOG.  /simple/<name>/ lists the
sdists of DIST whose normalized name matches; any other name gets a dummy
wheel made on the fly (so an install that pulls odd dependency names still
succeeds).  Any GET of a path ending in .whl that is not a file of DIST gets
a dummy wheel named after the file.  Listens only on 127.0.0.1."""
import base64, hashlib, http.server, io, os, re, sys, zipfile

DIST, LOG, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])

def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()

def dummy_wheel(fname):
    m = re.match(r"([^-]+)-([^-]+)-", fname)
    name, ver = (m.group(1), m.group(2)) if m else ("dummy", "0.1")
    di = f"{name}-{ver}.dist-info"
    files = {f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode(),
             f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: rt1\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    rec = []
    for p, b in files.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
        rec.append(f"{p},sha256={h},{len(b)}")
    rec.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(rec) + "\n").encode()
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for p, b in files.items():
            z.writestr(p, b)
    return bio.getvalue()

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _log(self, body=b""):
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path} ua={self.headers.get('User-Agent','')[:40]!r} "
                    f"auth={self.headers.get('Authorization')!r} body={body[:2000]!r}\n")

    def _send(self, code, data, ctype="text/html"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self._log(self.rfile.read(n) if n else b"")
        self._send(200, b"ok\n", "text/plain")

    def do_GET(self):
        self._log()
        p = self.path.split("?")[0]
        if p.startswith("/simple/") and p.count("/") >= 3 and p != "/simple/":
            name = norm(p.split("/")[2])
            links = [f for f in sorted(os.listdir(DIST)) if norm(re.split(r"-\d", f)[0]) == name]
            if not links:
                links = [f"{name.replace('-', '_')}-0.1-py3-none-any.whl"]
            body = "".join(f'<a href="/files/{f}">{f}</a>\n' for f in links)
            return self._send(200, f"<html><body>\n{body}</body></html>\n".encode())
        if p == "/simple/":
            return self._send(200, b"<html></html>")
        fn = os.path.basename(p)
        full = os.path.join(DIST, fn)
        if fn and os.path.isfile(full):
            return self._send(200, open(full, "rb").read(), "application/octet-stream")
        if fn.endswith(".whl"):
            return self._send(200, dummy_wheel(fn), "application/octet-stream")
        self._send(404, b"no\n", "text/plain")

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
