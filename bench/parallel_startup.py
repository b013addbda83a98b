#!/usr/bin/env python3
"""bench/parallel_startup.py — start-up cost of a parallel stream, by hand
(docs/performance.md, "Parallel streams"; not part of make bench).

  python3 bench/parallel_startup.py OLD_COMMAND NEW_COMMAND CONNINFO [PARTS]

Runs `COMMAND -d CONNINFO stream small --parallel PARTS` (default 4) with two
builds of the fraiseql-wire command, alternating (15 runs each, the order
reversed every other round), and prints the median and fastest wall time of
each.  The entity `small` must exist: a v_ view over a small table, e.g.
  CREATE TABLE small AS SELECT * FROM bench.src_1m WHERE id <= 1000;
  ALTER TABLE small ADD PRIMARY KEY (id);
  SELECT fraiseql_wire.create_view('small', 'public.small'); ANALYZE small;
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    bins = {'old': sys.argv[1], 'new': sys.argv[2]}
    ci, parts = sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else '4'
    t = {k: [] for k in bins}
    for i in range(15):
        order = list(bins.items()) if i % 2 == 0 else list(reversed(list(bins.items())))
        for k, b in order:
            t0 = time.monotonic()
            r = subprocess.run([b, '-d', ci, 'stream', 'small', '--parallel', parts],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            t[k].append(time.monotonic() - t0)
            if r.returncode != 0:
                print(f'{k}: {r.stderr.strip()}', file=sys.stderr)
                return 1
    print(f'--parallel {parts}, load average {os.getloadavg()[0]:.1f}; ' +
          '; '.join(f'{k}: median {1000 * statistics.median(v):.1f} ms (fastest {1000 * min(v):.1f})'
                    for k, v in t.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
