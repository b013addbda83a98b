#!/usr/bin/env python3
"""bench/parallel_ttfr.py — time to first row of a parallel stream, two builds
side by side, by hand (docs/performance.md, "Opening the parts"; not part of
make bench).

  python3 bench/parallel_ttfr.py OLD_FW_PARALLEL NEW_FW_PARALLEL CONNINFO [PARTS] [RELATION] [RUNS]

Runs `FW_BENCH_PARTS=PARTS FW_PARALLEL --conninfo CONNINFO --sql RELATION`
(bench/clients/fw_parallel, built by `make -C bench`; defaults: 4 parts,
bench.tv_items_1m_jsonb from bench/setup.sql, 9 runs each) with the two
builds, alternating (the order reversed every other round), and prints the
median and fastest time to first row (ttfr_s: from fw_stream_open to the
first row, the open included) and the median time of the whole query.
"""
import json
import os
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    bins = {'old': sys.argv[1], 'new': sys.argv[2]}
    ci = sys.argv[3]
    parts = sys.argv[4] if len(sys.argv) > 4 else '4'
    rel = sys.argv[5] if len(sys.argv) > 5 else 'bench.tv_items_1m_jsonb'
    runs = int(sys.argv[6]) if len(sys.argv) > 6 else 9
    env = dict(os.environ, FW_BENCH_PARTS=parts)
    ttfr = {k: [] for k in bins}
    query = {k: [] for k in bins}
    load = [os.getloadavg()[0]]
    for i in range(runs):
        order = list(bins.items()) if i % 2 == 0 else list(reversed(list(bins.items())))
        for k, b in order:
            r = subprocess.run([b, '--conninfo', ci, '--sql', rel], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                print(f'{k}: {r.stderr.strip()}', file=sys.stderr)
                return 1
            out = json.loads(r.stdout)
            ttfr[k].append(out['ttfr_s'])
            query[k].append(out['query_s'])
    load.append(os.getloadavg()[0])
    print(f'{rel}, {parts} parts, {runs} runs each, load average {load[0]:.1f} before, '
          f'{load[1]:.1f} after; ' +
          '; '.join(f'{k}: time to first row median {1000 * statistics.median(ttfr[k]):.1f} ms '
                    f'(fastest {1000 * min(ttfr[k]):.1f}), query median '
                    f'{statistics.median(query[k]):.3f} s' for k in bins))
    return 0


if __name__ == '__main__':
    sys.exit(main())
