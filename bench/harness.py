#!/usr/bin/env python3
"""bench/harness.py — runs the benchmark clients and writes one results file.

    bench/harness.py --mode all|quick|render --out FILE [--micro FILE]

Called by bench/run.sh with the throw-away cluster's PG* variables set and the
programs built in bench/build/.  Every measurement is one run of one client
program in its own process (bench/clients/*.c), which prints one JSON line.
Within a case (one data set, one transport, …) the clients are interleaved,
A B C A B C …, so that a slow minute of a noisy machine hits them all alike;
the summary keeps the median (and the minimum) over the repetitions.

Environment:
  BENCH_REPS       repetitions per case (default: 5 for throughput, 3 for the 1M
                   view and the chunk, transport and filter cases, 11 in quick)
  BENCH_MAX_ROWS   largest item set measured (must match what setup.sql built)
  BENCH_PSQL       the psql binary (run.sh sets the server's)

Only the standard library is used.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, 'build')

PROGRAMS = {
    'fraiseql_wire': 'clients/fw_stream',
    'libpq_single': 'clients/libpq_single',
    'libpq_exec': 'clients/libpq_exec',
    'libpq_copy': 'clients/libpq_copy',
    'libpq_cursor': 'clients/libpq_cursor',
    'psql': 'clients/psql_pipe',
    'server_floor': 'clients/server_floor',
}
ALL_CLIENTS = ['fraiseql_wire', 'libpq_single', 'libpq_exec', 'libpq_copy', 'libpq_cursor',
               'psql', 'server_floor']
SIZES = [('1k', 1000), ('10k', 10000), ('100k', 100000), ('1m', 1000000)]
# (label, fraction, field, op, value): exact, since bucket = id % 10000, pct = id % 100
FILTERS = [('0.01%', 0.0001, 'bucket', 'eq', 0), ('1%', 0.01, 'pct', 'lt', 1),
           ('10%', 0.10, 'pct', 'lt', 10), ('50%', 0.50, 'pct', 'lt', 50)]
SQL_OPS = {'eq': '=', 'lt': '<', 'gt': '>'}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_features():
    feats = {}
    try:
        with open(os.path.join(BUILD, 'features')) as f:
            for line in f:
                k, _, v = line.strip().partition('=')
                feats[k] = v == '1'
    except OSError:
        pass
    return feats


def psql_value(sql):
    psql = os.environ.get('BENCH_PSQL', 'psql')
    out = subprocess.run([psql, '-X', '-A', '-t', '-q', '-c', sql], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        return None
    return out.stdout.strip()


def conninfo(transport, options=None):
    extra = f" options='{options}'" if options else ''
    return _conninfo(transport) + extra


def _conninfo(transport):
    port = os.environ['PGPORT']
    user = os.environ.get('PGUSER', 'postgres')
    db = os.environ.get('PGDATABASE', 'postgres')
    tcp = os.environ.get('FW_TEST_TCP_HOST', '127.0.0.1')
    if transport == 'unix':
        return f"host={os.environ['PGHOST']} port={port} user={user} dbname={db}"
    if transport == 'tcp':
        return f"host={tcp} port={port} user={user} dbname={db} sslmode=disable"
    if transport == 'tls':
        return f"host={tcp} port={port} user={user} dbname={db} sslmode=require"
    raise ValueError(transport)


class Harness:
    def __init__(self, mode, features, matches):
        self.mode = mode
        self.features = features
        self.matches = matches
        self.runs = []
        self.not_run = []
        self.plans = {}
        # version() is folded at plan time, which loads the module and so
        # defines its settings before current_setting() runs.
        self.rewrite_guc = matches and psql_value(
            "SELECT CASE WHEN fraiseql_wire.version() IS NOT NULL THEN "
            "current_setting('fraiseql_wire.enable_rewrite', true) END") in ('on', 'off')
        self.reps_override = int(os.environ['BENCH_REPS']) if os.environ.get('BENCH_REPS') else None

    def available(self, client):
        path = os.path.join(BUILD, PROGRAMS[client])
        if os.access(path, os.X_OK):
            return True, None
        if client == 'fraiseql_wire':
            return False, ('the client library does not define fw_conn_connect/fw_stream_open_sql/'
                           'fw_stream_next/fw_stream_close yet')
        return False, f'{PROGRAMS[client]} was not built'

    def run_one(self, client, sql, transport, chunk=None, repeat=1, cfilter=None, options=None):
        args = [os.path.join(BUILD, PROGRAMS[client]), '--conninfo', conninfo(transport, options),
                '--sql', sql]
        if chunk:
            args += ['--chunk', str(chunk)]
        if repeat > 1:
            args += ['--repeat', str(repeat)]
        if cfilter:
            args += ['--client-filter', cfilter]
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return {'client': client, 'ok': False, 'error': 'timed out after 900 s'}
        lines = [l for l in out.stdout.splitlines() if l.startswith('{')]
        if not lines:
            return {'client': client, 'ok': False,
                    'error': f'exit {out.returncode}, no result line; stderr: {out.stderr[-300:]}'}
        try:
            return json.loads(lines[-1])
        except ValueError as e:
            return {'client': client, 'ok': False, 'error': f'bad result line: {e}'}

    def case(self, group, dataset, sql, clients, reps, transport='unix', chunk=None, repeat=1,
             filt=None, method=None, client_filter=None, expected=None, warmup=True,
             options=None):
        """One case: the clients interleaved over reps repetitions."""
        if self.reps_override:
            reps = self.reps_override
        tags = {'group': group, 'dataset': dataset, 'transport': transport, 'chunk': chunk,
                'filter': filt, 'method': method, 'repeat': repeat}
        todo = []
        for c in clients:
            ok, why = self.available(c)
            if ok:
                todo.append(c)
            else:
                self.not_run.append(dict(tags, client=c, reason=why))
        if not todo:
            return
        log(f'  {group:11} {dataset:22} {transport:4} chunk={chunk or "-":<5} '
            f'{(filt or "") + " " + (method or ""):14} x{reps}: {" ".join(todo)}')
        if warmup:
            self.run_one(todo[0], sql, transport, chunk, 1, client_filter, options)
        for rep in range(reps):
            k = rep % len(todo)
            for c in todo[k:] + todo[:k]:
                r = self.run_one(c, sql, transport, chunk, repeat,
                                 client_filter if c != 'server_floor' else None, options)
                r.update(tags)
                r['client'] = c
                r['rep'] = rep
                if expected is not None:
                    r['expected'] = expected
                if not r.get('ok'):
                    log(f'    {c} failed: {r.get("error")}')
                self.runs.append(r)


    def matrix(self, group, datasets, clients, reps):
        """Several data sets x clients, all interleaved: each repetition runs every
        (data set, client) pair, the order rotated from one repetition to the next."""
        if self.reps_override:
            reps = self.reps_override
        todo = []
        for c in clients:
            ok, why = self.available(c)
            if ok:
                todo.append(c)
            else:
                for ds, _ in datasets:
                    self.not_run.append({'group': group, 'dataset': ds, 'transport': 'unix',
                                         'chunk': None, 'filter': None, 'method': None,
                                         'repeat': 1, 'client': c, 'reason': why})
        if not todo:
            return
        log(f'  {group:11} {" ".join(ds for ds, _ in datasets)} x{reps}: {" ".join(todo)}')
        for ds, sql in datasets:
            self.run_one(todo[0], sql, 'unix')  # warm-up: caches, hint bits
        pairs = [(ds, sql, c) for ds, sql in datasets for c in todo]
        for rep in range(reps):
            k = (rep * len(todo) + rep) % len(pairs)
            for ds, sql, c in pairs[k:] + pairs[:k]:
                r = self.run_one(c, sql, 'unix')
                r.update({'group': group, 'dataset': ds, 'transport': 'unix', 'chunk': None,
                          'filter': None, 'method': None, 'repeat': 1, 'client': c, 'rep': rep})
                if not r.get('ok'):
                    log(f'    {c} {ds} failed: {r.get("error")}')
                self.runs.append(r)


RENDER_CLIENTS = ['server_floor', 'libpq_single', 'fraiseql_wire']


def plan_render(h, max_rows):
    """v_ views building the same documents with jsonb_build_object, json_build_object,
    fraiseql_wire.json_document and json_document(...)::jsonb, on one backend (no parallel
    query, no JIT)."""
    label = [l for l, n in SIZES if n <= max_rows][-1]
    views = [f'v_items_{label}', f'v_items_{label}_json', f'v_items_{label}_doc',
             f'v_items_{label}_docb']
    have = [v for v in views if psql_value(f"SELECT to_regclass('bench.{v}') IS NOT NULL") == 't']
    for v in views:
        if v not in have:
            for c in RENDER_CLIENTS:
                h.not_run.append({'group': 'render', 'dataset': v, 'transport': 'unix',
                                  'chunk': None, 'filter': None, 'method': None, 'repeat': 1,
                                  'client': c,
                                  'reason': 'fraiseql_wire.json_document() is not installed'})
    log('render (v_ views: jsonb_build_object, json_build_object, json_document)')
    h.matrix('render', [(v, f'SELECT data FROM bench.{v}') for v in have], RENDER_CLIENTS, 3)


def plan(h, max_rows, all_clients):
    if h.mode == 'render':
        plan_render(h, max_rows)
        return
    sizes = [(l, n) for l, n in SIZES if n <= max_rows]
    big_label, big_n = sizes[-1]
    big = f'bench.tv_items_{big_label}_jsonb'
    streaming = ['fraiseql_wire', 'libpq_single']

    if h.mode == 'quick':
        for label in ('10k', '100k'):
            if (label, dict(SIZES)[label]) not in sizes:
                continue
            for kind in ('jsonb', 'json') if label == '100k' else ('jsonb',):
                ds = f'tv_items_{label}_{kind}'
                # more repetitions than `all`: the medians are compared at 10 %
                h.case('throughput', ds, f'SELECT data FROM bench.{ds}', all_clients, 11)
        return

    log('throughput (every client, every size)')
    for label, n in sizes:
        # the goals are judged on the 1M tv_ sets: as many repetitions there as
        # below; the 1M view (~5 s a run) gets 3
        for ds in (f'tv_items_{label}_jsonb', f'tv_items_{label}_json', f'v_items_{label}'):
            reps = 3 if n >= 1000000 and ds.startswith('v_') else 5
            h.case('throughput', ds, f'SELECT data FROM bench.{ds}', all_clients, reps)
    for ds in ('tv_nested_10k_jsonb', 'tv_nested_10k_json', 'tv_large_jsonb', 'tv_large_json'):
        h.case('throughput', ds, f'SELECT data FROM bench.{ds}', all_clients, 5)

    plan_render(h, max_rows)

    log('chunk sizes')
    # jsonb: the server's conversion dominates; json: the server only copies
    # text, so round trips per chunk show
    chunk_label = '100k' if max_rows >= 100000 else big_label
    for kind in ('jsonb', 'json'):
        chunk_ds = f'tv_items_{chunk_label}_{kind}'
        for chunk in (16, 64, 256, 1024, 4096):
            h.case('chunk', chunk_ds, f'SELECT data FROM bench.{chunk_ds}',
                   ['fraiseql_wire', 'libpq_cursor'], 3, chunk=chunk)

    log('transports')
    for transport in ('unix', 'tcp', 'tls'):
        h.case('transport', big.split('.')[1], f'SELECT data FROM {big}',
               ['fraiseql_wire', 'libpq_single', 'libpq_copy'], 3, transport=transport)

    log('stability (the largest set twice in one process)')
    h.case('stability', big.split('.')[1], f'SELECT data FROM {big}',
           ['fraiseql_wire', 'libpq_single', 'libpq_cursor', 'libpq_copy'], 1, repeat=2)

    log('predicates (selectivity x method)')
    tv = big.split('.')[1]
    view = f'v_items_{big_label}'
    norewrite = '-c fraiseql_wire.enable_rewrite=off'
    for i, (label, frac, field, op, value) in enumerate(FILTERS):
        expected = round(big_n * frac)
        fdoc = json.dumps({field: {op: value}})
        where_sql = f"(data->>'{field}')::int {SQL_OPS[op]} {value}"
        where_push = f"fraiseql_wire.matches(data, '{fdoc}'::jsonb)"
        # (relation, method, where, reps, session options): the view's full
        # scans build every document, so it gets fewer repetitions and no
        # client-side method (that is the tv_ case plus the build cost).
        variants = [(tv, 'sql', where_sql, 3, None), (tv, 'pushdown', where_push, 3, None),
                    (tv, 'pushdown_norewrite', where_push, 3, norewrite),
                    (view, 'sql', where_sql, 2, None), (view, 'pushdown', where_push, 2, None)]
        for rel, method, where, reps, options in variants:
            sql = f'SELECT data FROM bench.{rel} WHERE {where}'
            if method.startswith('pushdown') and not h.matches:
                for c in streaming:
                    h.not_run.append({'group': 'selectivity', 'dataset': rel, 'transport': 'unix',
                                      'chunk': None, 'filter': label, 'method': method,
                                      'repeat': 1, 'client': c,
                                      'reason': 'fraiseql_wire.matches(jsonb, jsonb) is not in '
                                                'the installed extension yet'})
                continue
            if method == 'pushdown_norewrite' and not h.rewrite_guc:
                continue
            pre = f'SET fraiseql_wire.enable_rewrite = off; ' if options else ''
            h.plans[f'{rel} {method} {label}'] = {
                'sql': sql, 'plan': psql_value(f'{pre}EXPLAIN (COSTS OFF) {sql}')}
            h.case('selectivity', rel, sql, streaming, reps, filt=label, method=method,
                   expected=expected, options=options, warmup=(i == 0))
        h.case('selectivity', tv, f'SELECT data FROM {big}', streaming, 3, filt=label,
               method='client', client_filter=f'{field}:{op}:{value}', expected=expected,
               warmup=False)


def median(xs):
    return statistics.median(xs) if xs else None


def summarize(runs, not_run):
    """Median (and min) per case and client; rows/s from each run's query time."""
    groups = {}
    for r in runs:
        key = (r['group'], r['dataset'], r['transport'], r['chunk'], r['filter'], r['method'],
               r['client'])
        groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        group, dataset, transport, chunk, filt, method, client = key
        ok = [r for r in rs if r.get('ok')]
        s = {'group': group, 'dataset': dataset, 'transport': transport, 'chunk': chunk,
             'filter': filt, 'method': method, 'client': client, 'n': len(ok),
             'failed': len(rs) - len(ok)}
        if not ok:
            s['status'] = 'failed'
            s['error'] = rs[0].get('error')
            out.append(s)
            continue
        s['status'] = 'ok'
        rows = ok[0]['rows']
        s['rows'] = rows
        s['bytes'] = ok[0]['bytes']
        s['kept'] = ok[0]['kept']
        s['query_s'] = median([r['query_s'] for r in ok])
        s['query_s_min'] = min(r['query_s'] for r in ok)
        s['ttfr_s'] = median([r['ttfr_s'] for r in ok])
        s['connect_s'] = median([r['connect_s'] for r in ok])
        s['query_cpu_s'] = median([r['query_cpu_s'] for r in ok])
        s['maxrss_kb'] = median([r['maxrss_kb'] for r in ok])
        s['rows_per_s'] = median([r['rows'] / r['query_s'] for r in ok if r['query_s'] > 0])
        s['mb_per_s'] = median([r['bytes'] / 1e6 / r['query_s'] for r in ok if r['query_s'] > 0])
        s['cpu_ns_per_row'] = (s['query_cpu_s'] / rows * 1e9) if rows else None
        passes = ok[0].get('passes', [])
        if len(passes) > 1:
            s['pass_maxrss_kb'] = [p['maxrss_kb'] for p in passes]
            s['pass_query_s'] = [p['query_s'] for p in passes]
        if 'expected' in ok[0]:
            s['expected'] = ok[0]['expected']
            got = s['kept'] if method == 'client' else s['rows']
            s['correct'] = got == ok[0]['expected']
        out.append(s)
    for nr in not_run:
        out.append(dict(nr, status='not run', n=0))
    return out


def write_results(path, result):
    """JSON with one record a line: small, and readable in a diff."""
    def one(x):
        return json.dumps(x, sort_keys=True, separators=(',', ':'))
    parts = ['{', f' "meta": {json.dumps(result["meta"], sort_keys=True, indent=2)},']
    for i, k in enumerate(('micro', 'summary', 'runs')):
        items = result[k]
        parts.append(f' "{k}": [')
        parts += ['  ' + one(x) + (',' if j < len(items) - 1 else '') for j, x in enumerate(items)]
        parts.append(' ]' + (',' if i < 2 else ''))
    parts.append('}')
    with open(path, 'w') as f:
        f.write('\n'.join(parts) + '\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=['all', 'quick', 'render'], required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--micro', help='micro benchmark output (JSON lines) to include')
    args = ap.parse_args()

    features = read_features()
    matches = psql_value("SELECT to_regprocedure('fraiseql_wire.matches(jsonb,jsonb)') "
                         "IS NOT NULL") == 't'
    max_rows = int(os.environ.get('BENCH_MAX_ROWS', '1000000'))
    started = time.time()
    meta = {
        'mode': args.mode,
        'started_utc': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'git_commit': subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                                     text=True, cwd=HERE).stdout.strip(),
        'git_dirty': subprocess.run(['git', 'status', '--porcelain', '--', '../client',
                                     '../extension'], capture_output=True, text=True,
                                    cwd=HERE).stdout.strip() != '',
        'server_version': psql_value('SHOW server_version'),
        'settings': {k: psql_value(f'SHOW {k}') for k in
                     ('shared_buffers', 'jit', 'max_parallel_workers_per_gather', 'ssl')},
        'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo')
                     if l.startswith('model name')), platform.processor()),
        'cores': os.cpu_count(),
        'loadavg_start': os.getloadavg()[0],
        'features': features,
        'matches_available': matches,
        'matches_support': psql_value(
            "SELECT prosupport <> 0 FROM pg_proc "
            "WHERE oid = to_regprocedure('fraiseql_wire.matches(jsonb,jsonb)')") == 't',
        'max_rows': max_rows,
        'reps_override': os.environ.get('BENCH_REPS'),
    }
    h = Harness(args.mode, features, matches)
    plan(h, max_rows, ALL_CLIENTS)
    meta['loadavg_end'] = os.getloadavg()[0]
    meta['plans'] = h.plans
    meta['elapsed_s'] = round(time.time() - started, 1)

    micro = []
    if args.micro and os.path.exists(args.micro):
        with open(args.micro) as f:
            micro = [json.loads(l) for l in f if l.startswith('{')]
    result = {'meta': meta, 'micro': micro, 'summary': summarize(h.runs, h.not_run),
              'runs': h.runs}
    write_results(args.out, result)
    failed = sum(1 for r in h.runs if not r.get('ok'))
    wrong = [s for s in result['summary'] if s.get('correct') is False]
    log(f'harness: {len(h.runs)} runs ({failed} failed), {len(h.not_run)} not run, '
        f'{meta["elapsed_s"]} s -> {args.out}')
    for s in wrong:
        log(f'harness: WRONG ROW COUNT {s["client"]} {s["dataset"]} {s["filter"]} '
            f'{s["method"]}: expected {s["expected"]}')
    return 1 if failed or wrong else 0


if __name__ == '__main__':
    sys.exit(main())
