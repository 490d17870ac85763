#!/usr/bin/env python3
"""A minimal Alertmanager webhook receiver: one log line per alert notified.

    python3 webhook-receiver.py [--listen 127.0.0.1:9095]

Alertmanager POSTs a JSON document per group to the receiver's URL (version 4
of the webhook payload); this prints, for each alert in it, one line:

    page FIRING ElasticsearchClusterRed job=healthgate check=es-primary: <summary>

The URL path is the receiver's name (alertmanager.yml: /page, /warning). Use it
to see what Alertmanager sends, or as the start of a bridge to a chat or a pager.
Standard library only.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Notifications of several groups arrive at once: one line at a time.
OUTPUT = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            doc = json.loads(self.rfile.read(length))
            alerts = doc["alerts"]
        except (ValueError, KeyError) as e:
            self.send_error(400, f"not an Alertmanager webhook payload: {e}")
            return
        route = self.path.strip("/") or "default"
        for a in alerts:
            labels = a.get("labels", {})
            where = " ".join(f"{k}={labels[k]}" for k in ("job", "instance", "check") if k in labels)
            summary = a.get("annotations", {}).get("summary", "")
            with OUTPUT:
                print(f"{route} {a.get('status', '?').upper()} {labels.get('alertname', '?')} {where}: {summary}", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description="Alertmanager webhook receiver that logs each alert")
    ap.add_argument("--listen", default="127.0.0.1:9095", help="host:port (default 127.0.0.1:9095)")
    host, _, port = ap.parse_args().listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Receiver)
    print(f"listening on http://{host}:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
