#!/bin/bash
B=$1
cd /tmp/r
/work/main/target/dist/healthgate simulate --listen 127.0.0.1:19200 --control 127.0.0.1:19201 >/dev/null 2>&1 & SIM=$!
python3 cfg.py 10 18080 http://127.0.0.1:19200 > hg2.toml
cat >> hg2.toml <<'X'
[[checks]]
name = "redis"
kind = "redis"
url = "redis://127.0.0.1:16379/0"
[[checks]]
name = "mc"
kind = "memcached"
address = "127.0.0.1:11311"
[[checks]]
name = "dns"
kind = "dns"
resolve = "localhost"
[[checks]]
name = "exec"
kind = "exec"
command = ["true"]
X
sleep 0.3
taskset -c 0 $B --config hg2.toml >/dev/null 2>&1 & HG=$!
sleep 2.5
curl -s "http://127.0.0.1:18080/healthz?verbose" | tail -5
taskset -c 1 wrk -t1 -c64 -d4s http://127.0.0.1:18080/healthz | grep -E "Requests/sec"
grep -E "VmHWM" /proc/$HG/status
grep -A3 "r-xp" /proc/$HG/smaps | grep Rss
kill $HG $SIM; wait $HG $SIM 2>/dev/null
