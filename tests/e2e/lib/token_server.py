#!/usr/bin/env python3
"""A token server of the test's own for docker-registry's `auth: token` (the Bearer
flow): GET /token?service=S&scope=repository:R:pull,push with Basic auth USER:PASS
answers {"token": JWT}, a JWT signed RS256 with --key, its certificate (--cert, the
registry's rootcertbundle) in the x5c header, granting the scopes asked for. Wrong or
missing credentials: 401. Each request is logged to --log ("scope=… auth=yes|no STATUS").
Bounded: it exits after --lifetime seconds."""
import argparse
import base64
import http.server
import json
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

args = None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(scopes):
    key = serialization.load_pem_private_key(open(args.key, "rb").read(), password=None)
    cert = x509.load_pem_x509_certificate(open(args.cert, "rb").read())
    header = {"typ": "JWT", "alg": "RS256",
              "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]}
    access = []
    for scope in scopes:
        kind, name, actions = scope.split(":")[0], ":".join(scope.split(":")[1:-1]), scope.split(":")[-1]
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    now = int(time.time())
    claims = {"iss": args.issuer, "sub": args.user.split(":")[0], "aud": args.service, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": str(now) + str(len(scopes)), "access": access}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        auth = self.headers.get("Authorization")
        ok = auth == "Basic " + base64.b64encode(args.user.encode()).decode()
        if ok and query.get("service") == [args.service]:
            status, body = 200, json.dumps({"token": make_token(query.get("scope", []))}).encode()
        else:
            status, body = 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(args.log, "a") as f:
            f.write(f"scope={','.join(query.get('scope', []))} auth={'yes' if auth else 'no'} {status}\n")


def main():
    global args
    p = argparse.ArgumentParser()
    for name in ("--port", "--key", "--cert", "--user", "--service", "--issuer", "--log"):
        p.add_argument(name, required=True)
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(args.port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait(args.lifetime)


if __name__ == "__main__":
    main()
