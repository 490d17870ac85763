"""Helpers shared by the benchmark scripts (bench/run, bench/soak,
bench/symbol-order): free ports, process control, wrk, CPU and memory
readings, the simulator and the configurations they run.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=10.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def raw_get(port, path):
    """The whole answer to one GET over a fresh connection, or None if refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return data
    except OSError:
        return None


def build_dist():
    """Builds the binary we ship (scripts/dist) and returns its path."""
    subprocess.run([os.path.join(ROOT, "scripts/dist")], check=True)
    return os.path.join(ROOT, "target/dist/healthgate")


def get_json(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read())


def set_mode(control, mode, timeout=2):
    """Switches the simulator (control API at `control`) to `mode`."""
    urllib.request.urlopen(urllib.request.Request(f"{control}/mode/{mode}", method="PUT"), timeout=timeout).read()


def pids_of(pid):
    """The process and its descendants (nginx workers)."""
    out = [pid]
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                if ppid == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out


def cpu_split(pid):
    """User and system CPU seconds of the process and its children so far."""
    user = system = 0
    for p in pids_of(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except OSError:
            pass
    return user / TICK, system / TICK


def cpu_seconds(pid):
    return sum(cpu_split(pid))


def peak_rss_kib(pid):
    total = 0
    for p in pids_of(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def wrk(url, seconds, connections=64, headers=()):
    extra = [arg for h in headers for arg in ("-H", h)]
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    def num(pattern, scale=1.0):
        m = re.search(pattern, out)
        return float(m.group(1)) * scale if m else float("nan")
    def us(text):
        m = re.fullmatch(r"([\d.]+)(us|ms|s)", text or "")
        return float(m.group(1)) * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)] if m else float("nan")
    def lat(label):
        # At a line's start: "82.99%" in the Stdev column also ends in "99%".
        m = re.search(rf"^\s*{label}\s+(\S+)", out, re.M)
        return us(m.group(1) if m else None)
    stats = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    requests = num(r"(\d+) requests in")
    read = re.search(r"requests in \S+, ([\d.]+)(B|KB|MB|GB) read", out)
    read_bytes = float(read.group(1)) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[read.group(2)] if read else 0
    non2xx = num(r"Non-2xx or 3xx responses: (\d+)") if "Non-2xx" in out else 0
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    r = {
        "requests": requests, "rps": num(r"Requests/sec:\s+([\d.]+)"),
        "p50_us": lat("50%"), "p99_us": lat("99%"), "max_us": us(stats.group(3) if stats else None),
        "non2xx": non2xx, "errors": errors, "bytes_per_response": read_bytes / max(requests, 1),
    }
    if any(v != v for v in r.values()):  # NaN: a figure wrk printed in a form not parsed
        r["wrk_output"] = out
    return r


def measure(pid, url, seconds):
    c0 = cpu_seconds(pid)
    r = wrk(url, seconds)
    r["cpu_us_per_req"] = (cpu_seconds(pid) - c0) * 1e6 / max(r["requests"], 1)
    r["peak_rss_mib"] = peak_rss_kib(pid) / 1024
    return r


def alternate(entries, rounds, slice_secs):
    """Servers loaded in turn, `rounds` times `slice_secs` each, every figure summed
    over its slices. This VM's speed drifts by 20 % between minutes, and back-to-back
    10 s runs put all of one server's load in one stretch of it; taking turns every
    few seconds spreads the drift over every server alike, so their ratio is the
    servers' and not the minute's. `entries`: (name, pid, url) or (name, pid, url,
    headers). p50/p99 are the medians of the slices' percentiles, max the largest."""
    acc = {e[0]: {"requests": 0, "user": 0.0, "sys": 0.0, "p50": [], "p99": [], "max_us": 0.0,
                  "non2xx": 0, "errors": 0, "bytes": 0.0} for e in entries}
    for _ in range(rounds):
        for entry in entries:
            name, pid, url = entry[:3]
            headers = entry[3] if len(entry) > 3 else ()
            u0, s0 = cpu_split(pid)
            r = wrk(url, slice_secs, headers=headers)
            u1, s1 = cpu_split(pid)
            a = acc[name]
            a["requests"] += r["requests"]
            a["user"] += u1 - u0
            a["sys"] += s1 - s0
            a["p50"].append(r["p50_us"])
            a["p99"].append(r["p99_us"])
            a["max_us"] = max(a["max_us"], r["max_us"])
            a["non2xx"] += r["non2xx"]
            a["errors"] += r["errors"]
            a["bytes"] += r["bytes_per_response"] * r["requests"]
    out = {}
    for name, a in acc.items():
        n = max(a["requests"], 1)
        out[name] = {"requests": a["requests"], "rps": a["requests"] / (rounds * slice_secs),
                     "p50_us": sorted(a["p50"])[len(a["p50"]) // 2], "p99_us": sorted(a["p99"])[len(a["p99"]) // 2],
                     "max_us": a["max_us"], "cpu_us_per_req": (a["user"] + a["sys"]) * 1e6 / n,
                     "user_us_per_req": a["user"] * 1e6 / n, "sys_us_per_req": a["sys"] * 1e6 / n,
                     "non2xx": a["non2xx"], "errors": a["errors"], "bytes_per_response": a["bytes"] / n,
                     "slices": rounds, "slice_seconds": slice_secs}
    return out


def start_simulator(procs, binary, mode=None):
    """Starts the Elasticsearch simulator on CPU 1 (in `mode`, if given) and
    returns (its URL, its control API's URL) once it answers."""
    sp, cp = free_port(), free_port()
    procs.start([binary, "simulate", "--listen", f"127.0.0.1:{sp}", "--control", f"127.0.0.1:{cp}"], cpu=1)
    control = f"http://127.0.0.1:{cp}"
    wait_http(f"{control}/stats")
    if mode:
        set_mode(control, mode)
    return f"http://127.0.0.1:{sp}", control


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, cpu, **kw):
        # Pinned by inheritance: this process moves to `cpu` for the spawn and
        # back. Through `taskset` its own exec would count in the cold start,
        # and a `preexec_fn` makes Python fork instead of vfork (slower still).
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True, **kw)
        finally:
            os.sched_setaffinity(0, before)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                self.stop(p, signal.SIGKILL)


def healthgate_config(tmp, port, es_url, checks, interval="1s", extra_server="", extra_defaults=""):
    lines = [f'[server]\nlisten = "127.0.0.1:{port}"\nshutdown_grace = "0s"\n{extra_server}',
             f'[defaults]\ninterval = "{interval}"\ntimeout = "500ms"\njitter = "{interval}"\n{extra_defaults}']
    for i in range(checks):
        lines.append(f'[[checks]]\nname = "es{i}"\nkind = "elasticsearch"\nurls = ["{es_url}"]\n')
    path = os.path.join(tmp, f"hg-{checks}-{port}.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def nginx_conf(tmp, port, same_bytes=None):
    # `same_bytes`: a file nginx sends at /same-bytes with sendfile (no copy in
    # user space): the cheapest way any server on this machine can send it.
    same = "" if same_bytes is None else (
        f"location = /same-bytes {{ sendfile on; open_file_cache max=4; default_type application/health+json; "
        f"alias {same_bytes}; }}")
    conf = f"""user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
    uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
    server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} {same} }}
}}
"""
    path = os.path.join(tmp, f"nginx-{port}.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


MODES = ["yellow", "red", "no_master", "blocked", "unauthorized", "forbidden", "error", "error_empty",
         "garbage", "wrong_shape", "huge", "timeout", "hang", "stall_body", "refused"]


def soak_config(tmp, port, es_url):
    text = [f'[server]\nlisten = "127.0.0.1:{port}"\nshutdown_grace = "0s"\nshow_details = "always"\n',
            '[defaults]\ninterval = "500ms"\ntimeout = "400ms"\njitter = "500ms"\nrise = 2\nfall = 3\n']
    # The last two fail whatever the cluster does (one node, no such index): not
    # critical, so the overall status follows the cycle while they still report.
    for i, extra in enumerate(['', 'mode = "ping"', 'mode = "health_report"', 'mode = "master"',
                               'mode = "index_health"\nindices = ["logs"]\ncritical = false',
                               'min_nodes = 3\ncritical = false']):
        text.append(f'[[checks]]\nname = "es{i}"\nkind = "elasticsearch"\nurls = ["{es_url}"]\n{extra}\n')
    text.append(f'[[checks]]\nname = "http"\nkind = "http"\nurl = "{es_url}/"\n')
    text.append(f'[[checks]]\nname = "tcp"\nkind = "tcp"\naddress = "{es_url[7:]}"\n')
    path = os.path.join(tmp, "soak.toml")
    with open(path, "w") as f:
        f.write("\n".join(text))
    return path


# The fleet benchmarks' peers: one nginx on 1,000 loopback addresses.
PEERS = [f"127.0.{4 + i // 250}.{1 + i % 250}" for i in range(1000)]


def fleet_json(url):
    try:
        return json.load(urllib.request.urlopen(url, timeout=5))
    except urllib.error.HTTPError as e:  # 503 while below quorum: the body says why
        return json.load(e)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peers_nginx(tmp, port, addresses):
    listens = "\n".join(f"        listen {a}:{port};" for a in addresses)
    body = ('{\\"format\\":\\"healthgate-fleet/1\\",\\"id\\":\\"$server_addr\\",\\"instance\\":\\"$server_addr\\",'
            '\\"serving\\":true,\\"status\\":\\"pass\\",\\"age_ms\\":100,\\"checks\\":{\\"es\\":\\"pass\\",\\"app\\":\\"pass\\"}}')
    conf = f"""user root;
worker_processes 1;
worker_rlimit_nofile 8192;
pid {tmp}/peers.pid;
error_log {tmp}/peers-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
    uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
    server {{
{listens}
        location = /fleet/self {{ default_type application/json; return 200 "{body}"; }}
    }}
}}
"""
    path = os.path.join(tmp, "peers.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def with_fleet(path, peers, port):
    with open(path, "a") as f:
        f.write("\n[fleet]\ninterval = \"2s\"\ntimeout = \"1s\"\n")
        f.write("peers = [" + ", ".join(f'"{p}:{port}"' for p in peers) + "]\n")
    return path
