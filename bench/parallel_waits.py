#!/usr/bin/env python3
"""bench/parallel_waits.py BIN RELATION PARTS — by hand (docs/performance.md,
"Parallel streams"; not part of make bench): runs bench/clients/fw_parallel
(BIN) with PARTS parts on RELATION against the cluster of the PG* variables
and samples, about every 5 ms through one psql session, the wait events of
the backends running the parts (pg_stat_activity): "running" (on a CPU or
waiting for one), Client:ClientWrite (the client has not read what was
sent), Client:ClientRead (the backend waits for a command: no Execute in
flight), IO:DataFileRead (a page read)."""
import os, sys, time, subprocess, collections, json
bin_, rel, parts = sys.argv[1:4]
env = dict(os.environ, FW_BENCH_PARTS=parts)
ci = f"host={env['PGHOST']} port={env['PGPORT']} user=postgres dbname=postgres"
q = ("SELECT coalesce(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity "
     "WHERE query LIKE 'SELECT data FROM%' AND state = 'active' AND pid <> pg_backend_pid();\n")
ps = subprocess.Popen(['psql', '-X', '-At'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
proc = subprocess.Popen([bin_, '--conninfo', ci, '--sql', rel], stdout=subprocess.PIPE, env=env, text=True)
while proc.poll() is None:
    ps.stdin.write(q); ps.stdin.flush(); time.sleep(0.005)
out, _ = ps.communicate()
c = collections.Counter(l for l in out.splitlines() if l)
tot = sum(c.values())
j = json.loads([l for l in proc.stdout.read().splitlines() if l.startswith('{')][-1])
print(f"{os.path.basename(bin_)} {rel} parts={parts} query_s={j['query_s']:.2f} load={os.getloadavg()[0]:.1f} samples={tot}: " +
      ', '.join(f'{k} {100*v/tot:.0f}%' for k, v in c.most_common()))
