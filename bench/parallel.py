#!/usr/bin/env python3
"""bench/parallel.py — parallel streams against serial streams, in one run.

Run by bench/run.sh (modes `all` and `parallel`) against the throw-away
cluster it started (the PG* variables) after bench/setup.sql is loaded:

  python3 bench/parallel.py --out bench/results/<stamp>-parallel.json

Relations (1M rows each):
  bench.v_par_items        a registered v_ view over bench.src_1m (jsonb
                           documents built per row: the server's work is
                           the document, split by block ranges of
                           bench.src_1m through fraiseql_wire.in_blocks)
  bench.tv_items_1m_jsonb  stored jsonb documents (split by block ranges)
Methods, interleaved in every repetition (BENCH_REPS, default 3):
  libpq_single             libpq single-row mode, SELECT data FROM rel
  fw_serial                fraiseql-wire's query API, one stream
  fw_parallel_2, _4        the same query with fw_query_set_parallel(q, 2 | 4)
Reports the median rows/s of each method and its ratio to fw_serial and to
libpq_single, with the machine's core count and load average (the machine
may be shared: the numbers say so), and the CPU each row cost (medians, µs
per row): the client process's (its getrusage, query part) and the server's
(the backends' user + system time, read from the postmaster's cutime/cstime
in /proc, which grow when the postmaster reaps a backend: every run ends its
backends; "n/a" when /proc or the data directory cannot be read).  CPU time
is less sensitive to other load than rows/s.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, 'bench', 'build', 'clients')
PSQL = os.environ.get('BENCH_PSQL', 'psql')
RELATIONS = [('v_ view (jsonb built per row)', 'bench.v_par_items'),
             ('tv_ table (stored jsonb)', 'bench.tv_items_1m_jsonb')]
METHODS = [('libpq_single', 'libpq_single', None),
           ('fw_serial', 'fw_parallel', 1),
           ('fw_parallel_2', 'fw_parallel', 2),
           ('fw_parallel_4', 'fw_parallel', 4)]


def psql(sql):
    out = subprocess.run([PSQL, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout.strip()


def postmaster_pid():
    try:
        with open(os.path.join(psql('SHOW data_directory'), 'postmaster.pid')) as f:
            pid = int(f.readline())
        reaped_cpu(pid)
        return pid
    except (OSError, ValueError, RuntimeError):
        return None


def reaped_cpu(pid):
    """CPU seconds of the postmaster's reaped children (cutime + cstime)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf('SC_CLK_TCK')


def conninfo():
    return (f"host={os.environ['PGHOST']} port={os.environ['PGPORT']} "
            f"user={os.environ.get('PGUSER', 'postgres')} "
            f"dbname={os.environ.get('PGDATABASE', 'postgres')}")


def run(program, relation, parts):
    args = [os.path.join(BUILD, program), '--conninfo', conninfo(), '--sql',
            relation if program == 'fw_parallel' else f'SELECT data FROM {relation}']
    env = dict(os.environ)
    if parts:
        env['FW_BENCH_PARTS'] = str(parts)
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
    lines = [l for l in out.stdout.splitlines() if l.startswith('{')]
    if not lines:
        return {'ok': False, 'error': (out.stderr or out.stdout).strip()[:300]}
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    reps = int(os.environ.get('BENCH_REPS') or 3)
    for prog in ('libpq_single', 'fw_parallel'):
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            print(f'parallel: {prog} was not built; not run', file=sys.stderr)
            return 1
    psql("SELECT fraiseql_wire.drop_view('par_items', schema => 'bench') "
         "FROM fraiseql_wire.entities() WHERE entity = 'par_items'")
    psql("SELECT fraiseql_wire.create_view('par_items', 'bench.src_1m')")
    psql('ANALYZE bench.src_1m; ANALYZE bench.tv_items_1m_jsonb')
    nrows = int(psql('SELECT count(*) FROM bench.src_1m'))
    meta = {'mode': 'parallel', 'cores': os.cpu_count(), 'reps': reps, 'rows': nrows,
            'load_before': os.getloadavg(),
            'started_utc': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
            'command': 'make bench-parallel (bench/run.sh parallel)'}
    pm = postmaster_pid()
    runs = []
    failed = 0
    for rep in range(reps):
        for label, rel in RELATIONS:
            for name, prog, parts in METHODS:
                before = reaped_cpu(pm) if pm else None
                r = run(prog, rel, parts)
                if pm:
                    time.sleep(0.3)   # the backends exit after the client
                    r['server_cpu_s'] = reaped_cpu(pm) - before
                r.update({'relation': rel, 'method': name, 'rep': rep})
                if not r.get('ok') or r.get('rows') != nrows:
                    failed += 1
                    print(f'parallel: {name} on {rel}: {r.get("error") or r.get("rows")} rows',
                          file=sys.stderr)
                runs.append(r)
                print(f'parallel: rep {rep + 1}/{reps} {rel} {name}: '
                      f'{r.get("query_s", float("nan")):.3f} s', file=sys.stderr)
    meta['load_after'] = os.getloadavg()
    summary = []
    lines = [f'| relation | method | rows/s (median of {reps}) | × fw_serial | × libpq_single '
             f'| client µs/row | server µs/row |',
             '|---|---|---|---|---|---|---|']
    for label, rel in RELATIONS:
        med, cpu = {}, {}
        for name, _, _ in METHODS:
            good = [r for r in runs if r['relation'] == rel and r['method'] == name
                    and r.get('ok') and r.get('rows') == nrows]
            ts = [r['query_s'] for r in good]
            med[name] = statistics.median(ts) if ts else None
            cc = [r['query_cpu_s'] for r in good if r.get('query_cpu_s') is not None]
            sc = [r['server_cpu_s'] for r in good if r.get('server_cpu_s') is not None]
            cpu[name] = (statistics.median(cc) * 1e6 / nrows if cc else None,
                         statistics.median(sc) * 1e6 / nrows if sc else None)
        for name, _, _ in METHODS:
            if med[name] is None:
                lines.append(f'| {label} | {name} | failed | | | | |')
                continue
            rps = nrows / med[name]
            vs_serial = med['fw_serial'] / med[name] if med['fw_serial'] else None
            vs_libpq = med['libpq_single'] / med[name] if med['libpq_single'] else None
            cus, sus = cpu[name]
            summary.append({'relation': rel, 'method': name, 'median_query_s': med[name],
                            'rows_per_s': rps, 'x_fw_serial': vs_serial, 'x_libpq_single': vs_libpq,
                            'client_cpu_us_per_row': cus, 'server_cpu_us_per_row': sus})
            fmt = lambda v: 'n/a' if v is None else f'{v:.2f}'
            lines.append(f'| {label} | {name} | {rps:,.0f} | '
                         f'{vs_serial:.2f} | {vs_libpq:.2f} | {fmt(cus)} | {fmt(sus)} |')
    table = '\n'.join(lines)
    note = (f"{meta['cores']} cores; load average {meta['load_before'][0]:.2f} before, "
            f"{meta['load_after'][0]:.2f} after; {nrows} rows; Unix socket")
    print(table)
    print(note)
    with open(args.out, 'w') as f:
        json.dump({'meta': meta, 'summary': summary, 'runs': runs, 'table': table, 'note': note},
                  f, indent=1, sort_keys=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
