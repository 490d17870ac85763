"""A gRPC health client for the tests, as Kubernetes and Envoy speak it.

    health_client.py ADDR check SERVICE [--ca FILE]
    health_client.py ADDR watch SERVICE SECONDS [--ca FILE]
    health_client.py ADDR list [--ca FILE]

check and watch use grpcio-health-checking's stub; list uses a stub
generated here, with grpcio-tools, from the repository's proto (the
packaged stub has no List). Every answer is one JSON line on stdout:
{"status": "SERVING"} or {"code": "NOT_FOUND", "details": "..."}.
"""

import json
import os
import shutil
import sys
import tempfile
import time

import grpc


def channel(addr, ca):
    if ca is None:
        return grpc.insecure_channel(addr)
    with open(ca, "rb") as f:
        return grpc.secure_channel(addr, grpc.ssl_channel_credentials(root_certificates=f.read()))


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    args = sys.argv[1:]
    ca = None
    if "--ca" in args:
        i = args.index("--ca")
        ca = args[i + 1]
        del args[i:i + 2]
    addr, cmd = args[0], args[1]
    ch = channel(addr, ca)
    try:
        if cmd in ("check", "watch"):
            from grpc_health.v1 import health_pb2, health_pb2_grpc
            stub = health_pb2_grpc.HealthStub(ch)
            name = health_pb2.HealthCheckResponse.ServingStatus.Name
            req = health_pb2.HealthCheckRequest(service=args[2])
            if cmd == "check":
                say(status=name(stub.Check(req, timeout=5).status))
            else:
                try:
                    for r in stub.Watch(req, timeout=float(args[3])):
                        say(status=name(r.status), t=time.monotonic())
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise
        elif cmd == "list":
            from grpc_tools import protoc
            out = tempfile.mkdtemp()
            here = os.path.dirname(os.path.abspath(__file__))
            proto = os.path.join(here, "..", "..", "proto", "grpc", "health", "v1", "health.proto")
            # A module name of its own: "grpc.health.v1" would shadow grpcio.
            shutil.copy(proto, os.path.join(out, "hg_health.proto"))
            rc = protoc.main(["protoc", f"-I{out}", f"--python_out={out}", f"--grpc_python_out={out}",
                              os.path.join(out, "hg_health.proto")])
            if rc != 0:
                raise SystemExit(f"protoc failed: {rc}")
            sys.path.insert(0, out)
            import hg_health_pb2
            import hg_health_pb2_grpc
            r = hg_health_pb2_grpc.HealthStub(ch).List(hg_health_pb2.HealthListRequest(), timeout=5)
            name = hg_health_pb2.HealthCheckResponse.ServingStatus.Name
            say(statuses={k: name(v.status) for k, v in r.statuses.items()})
        else:
            raise SystemExit(f"unknown command {cmd}")
    except grpc.RpcError as e:
        say(code=e.code().name, details=e.details())


if __name__ == "__main__":
    main()
