#!/usr/bin/env python3
"""A registry written for the tests, to misbehave on purpose. It serves the image of an
OCI layout dir (GET/HEAD of manifests and blobs under /v2/REPO/) and takes pushes
(POST/PUT uploads, PUT manifests, kept in memory), and can:
  --corrupt DIGEST      serve that blob with its first byte changed
  --truncate DIGEST     announce that blob's full length, send half, close the connection
  --fail N              answer 500 to the first N requests of every METHOD+path
  --redirect PORT       answer blob GETs with 307 to http://127.0.0.2:PORT/… (another host),
                        where a second listener serves them and logs any Authorization
  --basic USER:PASS     ask for Basic auth on /v2/
Every request is logged to --log as "HOST METHOD PATH auth=yes|no STATUS".
Bounded: it exits after --lifetime seconds (default 300)."""
import argparse
import base64
import hashlib
import http.server
import json
import os
import sys
import threading

args = None
served = {}  # digest -> bytes, from the layout and from pushes
manifests = {}  # (repo, reference) -> (media type, bytes)
uploads = {}
failures = {}
lock = threading.Lock()


def log(line):
    with lock, open(args.log, "a") as f:
        f.write(line + "\n")


def load_layout(d):
    index = json.load(open(os.path.join(d, "index.json")))
    blobs = os.path.join(d, "blobs", "sha256")
    for name in os.listdir(blobs):
        served["sha256:" + name] = open(os.path.join(blobs, name), "rb").read()
    m = index["manifests"][0]
    body = served[m["digest"]]
    media = json.loads(body).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    for ref in (m["digest"], "v1"):
        manifests[(args.repo, ref)] = (media, body)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=None, send_body=True):
        if not self.body_read:  # a request body left unread would be taken for the next request
            self.body()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and self.command != "HEAD":
            self.wfile.write(body)
        log(f"{self.server.name} {self.command} {self.path} auth={'yes' if self.headers.get('Authorization') else 'no'} {status}")

    def body(self):
        self.body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def refuse_auth(self):
        if not args.basic or self.server.name != "main":
            return False
        want = "Basic " + base64.b64encode(args.basic.encode()).decode()
        if self.headers.get("Authorization") == want:
            return False
        self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": 'Basic realm="hostile"'})
        return True

    def injected_failure(self):
        if self.server.name != "main":
            return False
        key = self.command + " " + self.path.split("?")[0]
        if "/blobs/uploads/" in key:  # every upload session alike
            key = key[: key.index("/blobs/uploads/")] + "/blobs/uploads/ID"
        with lock:
            n = failures.get(key, 0)
            failures[key] = n + 1
        if n < args.fail:
            self.answer(500, b'{"errors":[{"code":"UNKNOWN","message":"injected"}]}')
            return True
        return False

    def handle_any(self):
        self.body_read = False
        path = self.path.split("?")[0]
        query = dict(p.split("=", 1) for p in self.path.split("?", 1)[1].split("&")) if "?" in self.path else {}
        if self.server.name == "other":  # the redirect target: blobs by digest, no auth asked
            digest = path.rsplit("/", 1)[-1]
            return self.answer(200, served[digest]) if digest in served else self.answer(404)
        if self.refuse_auth() or self.injected_failure():
            return
        if path == "/v2/":
            return self.answer(200, b"{}")
        parts = path[len("/v2/"):].split("/")
        if len(parts) < 3:
            return self.answer(404)
        kind, last = parts[-2], parts[-1]
        repo = "/".join(parts[:-2])
        if kind == "manifests":
            if self.command == "PUT":
                data = self.body()
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                manifests[(repo, last)] = manifests[(repo, digest)] = (self.headers.get("Content-Type"), data)
                return self.answer(201, headers={"Docker-Content-Digest": digest})
            if (repo, last) not in manifests:
                return self.answer(404)
            media, data = manifests[(repo, last)]
            return self.answer(200, data, {"Content-Type": media})
        if kind == "blobs" and last != "uploads":
            if last not in served:
                return self.answer(404)
            data = served[last]
            if self.command == "GET" and args.redirect:
                return self.answer(307, headers={"Location": f"http://127.0.0.2:{args.redirect}/storage/{last}"})
            if self.command == "GET" and last == args.corrupt:
                data = bytes([data[0] ^ 1]) + data[1:]
            if self.command == "GET" and last == args.truncate:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                log(f"main GET {self.path} truncated")
                self.close_connection = True
                return
            return self.answer(200, data, {"Docker-Content-Digest": last})
        if kind == "uploads" or (len(parts) >= 4 and parts[-3] == "uploads"):
            if self.command == "POST":
                uid = str(len(uploads) + 1)
                uploads[uid] = b""
                return self.answer(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{uid}"})
            uid = last
            uploads[uid] = uploads.get(uid, b"") + self.body()
            if self.command == "PATCH":
                return self.answer(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{uid}"})
            digest = query.get("digest", "").replace("%3A", ":")
            if "sha256:" + hashlib.sha256(uploads[uid]).hexdigest() != digest:
                return self.answer(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            served[digest] = uploads.pop(uid)
            return self.answer(201, headers={"Docker-Content-Digest": digest})
        return self.answer(404)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = handle_any


def serve(host, port, name):
    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--layout")
    p.add_argument("--repo", default="hostile/img")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--corrupt")
    p.add_argument("--truncate")
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--redirect", type=int)
    p.add_argument("--basic")
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args()
    if args.layout:
        load_layout(args.layout)
    serve("127.0.0.1", args.port, "main")
    if args.redirect:
        serve("127.0.0.2", args.redirect, "other")
    print("ready", flush=True)
    threading.Event().wait(args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
