"""gRPC Check load for bench/tls: `concurrency` callers on one channel for
`seconds`, printing one JSON line: calls, calls/s, p50 and p99 in µs, errors.
Run with the venv that has grpcio (target/pyenv)."""

import asyncio
import json
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def main(addr, concurrency, seconds):
    async with grpc.aio.insecure_channel(addr) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        req = health_pb2.HealthCheckRequest(service="")
        await stub.Check(req, timeout=5)
        lat, errors = [], 0
        end = time.monotonic() + seconds

        async def caller():
            nonlocal errors
            while time.monotonic() < end:
                t = time.perf_counter()
                try:
                    await stub.Check(req, timeout=5)
                    lat.append(time.perf_counter() - t)
                except grpc.RpcError:
                    errors += 1

        t0 = time.monotonic()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        took = time.monotonic() - t0
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] * 1e6 if lat else float("nan")
        print(json.dumps({"calls": len(lat), "rps": len(lat) / took, "p50_us": q(0.5), "p99_us": q(0.99),
                          "errors": errors}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
