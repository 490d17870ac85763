"""A gRPC health server for the tests of the grpc check kind: grpcio with
grpcio-health-checking's servicer, as most Python services run it.

    health_server.py [--tls CERT KEY] [--idle-ms N] [--no-health] [SERVICE=STATUS ...]

Listens on a free loopback port and prints {"port": N} on stdout. STATUS is
SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN ("" is SERVICE=... with an
empty name: =SERVING). --no-health registers no service at all (every call is
UNIMPLEMENTED); --idle-ms closes connections idle that long (GOAWAY). Runs
until stdin closes or it is killed.
"""

import json
import sys
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def main():
    args = sys.argv[1:]
    tls = None
    options = []
    with_health = True
    if "--tls" in args:
        i = args.index("--tls")
        tls = (args[i + 1], args[i + 2])
        del args[i:i + 3]
    if "--idle-ms" in args:
        i = args.index("--idle-ms")
        options.append(("grpc.max_connection_idle_ms", int(args[i + 1])))
        del args[i:i + 2]
    if "--no-health" in args:
        args.remove("--no-health")
        with_health = False
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
    if with_health:
        servicer = health.HealthServicer()
        for pair in args:
            name, status = pair.split("=", 1)
            servicer.set(name, health_pb2.HealthCheckResponse.ServingStatus.Value(status))
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if tls is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        with open(tls[0], "rb") as c, open(tls[1], "rb") as k:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()
