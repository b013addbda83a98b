#!/usr/bin/env python3
"""bench/report.py — turns benchmark results into text, Markdown and plots.

    bench/report.py docs RESULTS.json          docs/benchmarks.md + docs/plots/*.png
    bench/report.py micro MICRO.jsonl          the micro benchmarks as a table (stdout)
    bench/report.py compare NEW.json BASE.json ratios against libpq single-row mode,
                                               a WARNING for each that dropped > 10 %
    bench/report.py render RESULTS.json        the document-rendering comparison (stdout)

Everything in docs/benchmarks.md is computed from the results file; nothing
is typed in by hand.  A client or a feature that was not measured is shown
as "not run", never as a number.  Only the standard library and gnuplot.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENTS = ['fraiseql_wire', 'libpq_single', 'libpq_exec', 'libpq_copy', 'libpq_cursor', 'psql',
           'server_floor']
CLIENT_DOC = {
    'fraiseql_wire': 'fraiseql-wire: fw_stream_open_sql/fw_stream_next, chunk 1024 (default), two Executes in flight',
    'libpq_single': 'libpq single-row mode (PQsetSingleRowMode)',
    'libpq_exec': 'libpq PQexec (whole result buffered)',
    'libpq_copy': 'libpq COPY (SELECT data …) TO STDOUT, PQgetCopyData',
    'libpq_cursor': 'libpq DECLARE CURSOR + FETCH 256',
    'psql': 'psql -X -A -t -c, output read from a pipe (its own process)',
    'server_floor': 'server only: EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*), sum(octet_length(data::text)) …, '
                    'no parallel workers',
}
SIZES = ['1k', '10k', '100k', '1m']
ROWS = {'1k': 1000, '10k': 10000, '100k': 100000, '1m': 1000000}
DROP_WARN = 0.10


# ------------------------------------------------------------- formatting
def f_rate(x):
    if x is None:
        return '–'
    if x >= 1e6:
        return f'{x / 1e6:.2f} M'
    if x >= 1e3:
        return f'{x / 1e3:.0f} k'
    return f'{x:.0f}'


def f_ms(s):
    if s is None:
        return '–'
    ms = s * 1000
    if ms >= 100:
        return f'{ms:.0f} ms'
    if ms >= 1:
        return f'{ms:.1f} ms'
    return f'{ms * 1000:.0f} µs'


def f_mib(kb):
    return '–' if kb is None else f'{kb / 1024:.1f} MiB'


def f_num(x, fmt='{:.0f}'):
    return '–' if x is None else fmt.format(x)


class Results:
    def __init__(self, data):
        self.meta = data.get('meta', {})
        self.micro = data.get('micro', [])
        self.summary = data.get('summary', [])
        self.index = {}
        for s in self.summary:
            key = (s['group'], s['dataset'], s.get('transport', 'unix'), s.get('chunk'),
                   s.get('filter'), s.get('method'), s['client'])
            self.index[key] = s

    def get(self, group, dataset, client, transport='unix', chunk=None, filt=None, method=None):
        return self.index.get((group, dataset, transport, chunk, filt, method, client))

    def ok(self, *a, **k):
        s = self.get(*a, **k)
        return s if s and s.get('status') == 'ok' else None

    def datasets(self, group):
        seen = []
        for s in self.summary:
            if s['group'] == group and s['dataset'] not in seen:
                seen.append(s['dataset'])
        return seen

    def clients(self, group):
        present = {s['client'] for s in self.summary if s['group'] == group}
        return [c for c in CLIENTS if c in present]


def cell(r, group, dataset, client, metric, fmt, **k):
    s = r.get(group, dataset, client, **k)
    if s is None:
        return ''
    if s.get('status') == 'not run':
        return 'not run'
    if s.get('status') != 'ok':
        return 'failed'
    return fmt(s.get(metric))


def table(header, rows):
    out = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
    out += ['| ' + ' | '.join(str(c).replace('|', '\\|') for c in row) + ' |' for row in rows]
    return '\n'.join(out)


def dataset_order(names):
    def key(n):
        for i, s in enumerate(SIZES):
            if f'_{s}_' in n + '_' and n.startswith(('tv_items', 'v_items')):
                kind = 0 if n.endswith('_jsonb') else 1 if n.endswith('_json') else 2
                return (0, i, kind, n)
        return (1, 0, 0, n)
    return sorted(names, key=key)


# ------------------------------------------------------------------ goals
def goals(r):
    """[(goal, target, measured, verdict)] — every verdict computed here.

    The goals are stated at 1M rows; a run that did not build the 1M sets
    (BENCH_MAX_ROWS) is judged at its largest size, and says so."""
    g = []
    big = next((s for s in reversed(SIZES)
                if r.get('throughput', f'tv_items_{s}_jsonb', 'libpq_single')), None)
    if big is None:
        return [('all goals', '', '', 'not run: no throughput results')]
    B = big.upper()
    at = '' if big == '1m' else f' — judged at {B}: this run has no 1M sets'
    fwb = {k: r.ok('throughput', f'tv_items_{big}_{k}', 'fraiseql_wire') for k in ('json', 'jsonb')}
    pqb = {k: r.ok('throughput', f'tv_items_{big}_{k}', 'libpq_single') for k in ('json', 'jsonb')}
    fw_state = r.get('throughput', f'tv_items_{big}_jsonb', 'fraiseql_wire')
    if fw_state and fw_state.get('status') == 'not run':
        why = 'not run: ' + fw_state.get('reason', 'the fraiseql-wire client is not built')
    else:
        why = 'not run: no fraiseql-wire result (see the tables)'

    # 1. CPU per row
    for k in ('jsonb', 'json'):
        f, p = fwb[k], pqb[k]
        name = f'client CPU per row ≤ ¼ of libpq single-row ({k}, {B}){at}'
        if f and p and p['cpu_ns_per_row']:
            ratio = f['cpu_ns_per_row'] / p['cpu_ns_per_row']
            verdict = 'met' if ratio <= 0.25 else \
                f'missed: {ratio:.2f}×, {ratio / 0.25:.1f} times the target'
            g.append((name, '≤ 0.25×',
                      f'{f["cpu_ns_per_row"]:.0f} vs {p["cpu_ns_per_row"]:.0f} ns/row = {ratio:.2f}×',
                      verdict))
        else:
            g.append((name, '≤ 0.25×',
                      f'libpq single-row: {p["cpu_ns_per_row"]:.0f} ns/row' if p else '', why))

    # 2. json: ≥ 1.3× libpq single-row rows/s
    f, p = fwb['json'], pqb['json']
    name = f'rows/s on the {B} json tv_ set ≥ 1.3× libpq single-row{at}'
    if f and p:
        ratio = f['rows_per_s'] / p['rows_per_s']
        g.append((name, '≥ 1.30×',
                  f'{f_rate(f["rows_per_s"])} vs {f_rate(p["rows_per_s"])} rows/s = {ratio:.2f}×',
                  'met' if ratio >= 1.3 else f'missed by {(1.3 - ratio) / 1.3 * 100:.0f} % ({ratio:.2f}×)'))
    else:
        g.append((name, '≥ 1.30×', f'libpq single-row: {f_rate(p["rows_per_s"])} rows/s' if p else '',
                  why))

    # 3. jsonb: within 1.1× of the floor, never behind libpq
    f = fwb['jsonb']
    floor = r.ok('throughput', f'tv_items_{big}_jsonb', 'server_floor')
    name = f'time on the {B} jsonb tv_ set within 1.1× of the server-only floor{at}'
    if f and floor:
        ratio = f['query_s'] / floor['query_s']
        g.append((name, '≤ 1.10×',
                  f'{f_ms(f["query_s"])} vs floor {f_ms(floor["query_s"])} = {ratio:.2f}×',
                  'met' if ratio <= 1.1 else f'missed: {ratio:.2f}× ({(ratio - 1.1) / 1.1 * 100:.0f} % over)'))
    else:
        g.append((name, '≤ 1.10×', f'floor: {f_ms(floor["query_s"])}' if floor else '', why))
    libpqs = [c for c in ('libpq_single', 'libpq_exec', 'libpq_copy', 'libpq_cursor')
              if r.ok('throughput', f'tv_items_{big}_jsonb', c)]
    name = f'…and never behind libpq (fastest libpq method, {B} jsonb){at}'
    if f and libpqs:
        best = min(libpqs, key=lambda c: r.ok('throughput', f'tv_items_{big}_jsonb', c)['query_s'])
        b = r.ok('throughput', f'tv_items_{big}_jsonb', best)
        ratio = f['query_s'] / b['query_s']
        g.append((name, '≤ 1.00×',
                  f'{f_ms(f["query_s"])} vs {best} {f_ms(b["query_s"])} = {ratio:.2f}×',
                  'met' if ratio <= 1.0 else f'missed: {(ratio - 1) * 100:.0f} % slower than {best}'))
    else:
        g.append((name, '≤ 1.00×', '', why))

    # 4. RSS ≤ libpq single-row's, and flat from 1K up
    f1k = r.ok('throughput', 'tv_items_1k_jsonb', 'fraiseql_wire')
    p = pqb['jsonb']
    name = f'peak RSS ≤ libpq single-row\'s ({B} jsonb){at}'
    if f and p:
        g.append((name, '≤ 1.00×', f'{f_mib(f["maxrss_kb"])} vs {f_mib(p["maxrss_kb"])}',
                  'met' if f['maxrss_kb'] <= p['maxrss_kb']
                  else f'missed by {f_mib(f["maxrss_kb"] - p["maxrss_kb"])}'))
    else:
        g.append((name, '≤ 1.00×', f'libpq single-row: {f_mib(p["maxrss_kb"])}' if p else '', why))
    name = f'peak RSS flat from 1K to {B} rows (jsonb){at}'
    if f and f1k:
        d = f['maxrss_kb'] - f1k['maxrss_kb']
        g.append((name, '≤ +1 MiB',
                  f'{f_mib(f1k["maxrss_kb"])} → {f_mib(f["maxrss_kb"])} ({d / 1024:+.1f} MiB)',
                  'met' if d <= 1024 else f'missed by {(d - 1024) / 1024:.1f} MiB'))
    else:
        g.append((name, '≤ +1 MiB', '', why))

    # 5. time to first row
    name = f'time to first row at {B} within 1 ms of 1K (jsonb){at}'
    if f and f1k:
        d = f['ttfr_s'] - f1k['ttfr_s']
        g.append((name, '≤ +1 ms',
                  f'{f_ms(f1k["ttfr_s"])} → {f_ms(f["ttfr_s"])} ({d * 1000:+.2f} ms)',
                  'met' if d <= 0.001 else f'missed by {(d - 0.001) * 1000:.2f} ms'))
    else:
        g.append((name, '≤ +1 ms', '', why))
    return g


# ------------------------------------------------------------------ plots
def gnuplot(script, workdir):
    if not shutil.which('gnuplot'):
        return False
    p = subprocess.run(['gnuplot'], input=script, text=True, cwd=workdir, capture_output=True)
    if p.returncode != 0:
        print(f'report: gnuplot failed: {p.stderr[-500:]}', file=sys.stderr)
    return p.returncode == 0


def plots(r, plotdir):
    os.makedirs(plotdir, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        clients = [c for c in r.clients('throughput')]
        head = ('set terminal pngcairo noenhanced size 900,560 font "DejaVu Sans,10"\n'
                'set key outside right top\nset grid\nset format y "%.1s%c"\n')

        def series(metric, scale, kind):
            lines = []
            for c in clients:
                if metric in ('maxrss_kb', 'ttfr_s') and c == 'server_floor':
                    continue    # the probe has no first row, and its RSS is not a client's
                fn = os.path.join(tmp, f'{metric}_{kind}_{c}.dat')
                pts = []
                for s in SIZES:
                    x = r.ok('throughput', f'tv_items_{s}_{kind}', c)
                    if x and x.get(metric) is not None:
                        pts.append(f'{ROWS[s]} {x[metric] * scale}')
                if pts:
                    with open(fn, 'w') as f:
                        f.write('\n'.join(pts) + '\n')
                    lines.append(f'"{fn}" using 1:2 with linespoints lw 2 title "{c}"')
            return lines

        for metric, scale, name, ylabel, logy in (
                ('rows_per_s', 1.0, 'throughput', 'rows/s (median)', False),
                ('maxrss_kb', 1 / 1024, 'rss', 'peak RSS of the client process (MiB)', True),
                ('ttfr_s', 1000.0, 'ttfr', 'time to first row (ms)', True)):
            lines = series(metric, scale, 'jsonb')
            if not lines:
                continue
            out = os.path.join(plotdir, f'{name}.png')
            script = head + (f'set output "{out}"\nset logscale x\nset xrange [500:2000000]\n'
                             'set format x "%.0s%c"\n'
                             + ('set logscale y\nset format y "%g"\n' if logy else '')
                             + f'set xlabel "rows (tv_items_N_jsonb)"\nset ylabel "{ylabel}"\n'
                             f'set title "{ylabel} vs rows, per client"\n'
                             'plot ' + ', \\\n  '.join(lines) + '\n')
            if gnuplot(script, tmp):
                made.append(name)

        # time vs selectivity, per relation and method, for one client
        order = ['0.01%', '1%', '10%', '50%']
        sel = [x for x in r.summary if x['group'] == 'selectivity' and x.get('status') == 'ok']
        client = 'fraiseql_wire' if any(x['client'] == 'fraiseql_wire' for x in sel) \
            else 'libpq_single'
        combos = []
        for x in sel:
            if x['client'] == client and (x['dataset'], x['method']) not in combos:
                combos.append((x['dataset'], x['method']))
        lines = []
        for ds, method in combos:
            pts = []
            for i, label in enumerate(order):
                x = r.ok('selectivity', ds, client, filt=label, method=method)
                if x:
                    pts.append(f'{i} {x["query_s"] * 1000} "{label}"')
            if pts:
                fn = os.path.join(tmp, f'sel_{ds}_{method}.dat')
                with open(fn, 'w') as f:
                    f.write('\n'.join(pts) + '\n')
                lines.append(f'"{fn}" using 1:2:xtic(3) with linespoints lw 2 '
                             f'title "{ds}: {method}"')
        if lines:
            out = os.path.join(plotdir, 'selectivity.png')
            script = head + (f'set output "{out}"\nset xlabel "selectivity (rows kept)"\n'
                             'set ylabel "query time (ms, median)"\nset logscale y\n'
                             'set format y "%g"\n'
                             f'set title "time vs selectivity per filtering method ({client})"\n'
                             'plot ' + ', \\\n  '.join(lines) + '\n')
            if gnuplot(script, tmp):
                made.append('selectivity')
    return made


# --------------------------------------------------------------- markdown
def docs(path, docdir):
    with open(path) as f:
        r = Results(json.load(f))
    m = r.meta
    plotdir = os.path.join(docdir, 'plots')
    made = plots(r, plotdir)
    ns = [s['n'] for s in r.summary if s.get('status') == 'ok' and s.get('n')]
    L = []
    w = L.append
    w('# Benchmarks')
    w('')
    w('<!-- Generated by bench/report.py from bench/results/latest.json: do not edit. -->')
    w('')
    w(f'Run: `make bench` ({m.get("mode")}) started {m.get("started_utc")}, '
      f'{m.get("elapsed_s")} s, commit `{m.get("git_commit")}`'
      + (' (client or extension modified)' if m.get('git_dirty') else '') + '.  '
      f'Machine: {m.get("cpu")}, {m.get("cores")} cores, load average {m.get("loadavg_start"):.2f} '
      f'at the start and {m.get("loadavg_end"):.2f} at the end.  PostgreSQL {m.get("server_version")} '
      f'(throw-away cluster, shared_buffers {m.get("settings", {}).get("shared_buffers")}, '
      f'jit {m.get("settings", {}).get("jit")}, max_parallel_workers_per_gather '
      f'{m.get("settings", {}).get("max_parallel_workers_per_gather")}).')
    w('')
    w('Timings on this machine are noisy (±25 %, other jobs share its two cores): read them as '
      'ratios between clients measured side by side in the same run, not as absolutes.  Every '
      'number below is the median over the repetitions of a case, in which the clients run '
      'interleaved (A B C … A B C …), each run in its own process'
      + (f' ({min(ns)} to {max(ns)} repetitions a case).' if ns else '.'))
    w('')
    feats = m.get('features', {})
    missing = [k for k, v in feats.items() if not v]
    if missing:
        w(f'**Not in the client library at this commit** (so reported as "not run"): '
          f'{", ".join(missing)}.  ')
    if not m.get('matches_available'):
        w('**fraiseql_wire.matches() was not installed**: server pushdown is "not run".')
    w('')

    w('## Goals')
    w('')
    w('Targets, not tests: each line says whether this run met it and by how much it missed.')
    w('')
    w(table(['goal', 'target', 'measured', 'verdict'], goals(r)))
    w('')
    w('Why the missed goals miss, with profiles and the commands that took them: '
      '[performance.md, "Client streaming"](performance.md#client-streaming-where-the-goals-miss-and-why).')
    w('')

    w('## Clients')
    w('')
    for c in CLIENTS:
        w(f'- `{c}`: {CLIENT_DOC[c]}')
    w('')
    w('Measured per run: rows and bytes of `data` received; query time from sending the '
      'query to holding the last row (connection set-up excluded; for psql its whole process); '
      'time to first row from sending the query; the client process\'s user+system CPU during '
      'the query (getrusage); its peak RSS (VmHWM from /proc, psql: ru_maxrss of the child).  rows/s = rows ÷ query time.  The '
      'server floor is the server\'s own Execution Time for producing the same text.')
    w('')

    tds = dataset_order(r.datasets('throughput'))
    tcl = r.clients('throughput')
    if tds:
        w('## Throughput')
        w('')
        for title, metric, fmt in (
                ('rows/s', 'rows_per_s', f_rate),
                ('MB/s of documents', 'mb_per_s', lambda x: f_num(x, '{:.0f}')),
                ('query time', 'query_s', f_ms),
                ('time to first row', 'ttfr_s', f_ms),
                ('client CPU per row (ns)', 'cpu_ns_per_row', lambda x: f_num(x, '{:.0f}')),
                ('peak RSS of the client process', 'maxrss_kb', f_mib)):
            cl = tcl if metric not in ('cpu_ns_per_row', 'maxrss_kb', 'ttfr_s') else \
                [c for c in tcl if c != 'server_floor']
            w(f'### {title}')
            w('')
            rows = []
            for ds in tds:
                any_s = next((r.ok('throughput', ds, c) for c in cl if r.ok('throughput', ds, c)), None)
                size = f'{any_s["rows"]:,} × {any_s["bytes"] / max(any_s["rows"], 1):.0f} B' if any_s else ''
                rows.append([f'`{ds}`', size] + [cell(r, 'throughput', ds, c, metric, fmt) for c in cl])
            w(table(['data set', 'rows × avg doc'] + [f'`{c}`' for c in cl], rows))
            w('')
        if 'throughput' in made:
            w('![rows/s vs rows per client](plots/throughput.png)')
            w('')
        if 'rss' in made:
            w('![peak RSS vs rows per client](plots/rss.png)')
            w('')
        if 'ttfr' in made:
            w('![time to first row vs rows per client](plots/ttfr.png)')
            w('')
        w('### Ratio to libpq single-row mode (rows/s)')
        w('')
        rows = []
        for ds in tds:
            base = r.ok('throughput', ds, 'libpq_single')
            row = [f'`{ds}`']
            for c in tcl:
                s = r.get('throughput', ds, c)
                if s is None:
                    row.append('')
                elif s.get('status') == 'not run':
                    row.append('not run')
                elif s.get('status') != 'ok' or not base:
                    row.append('failed' if s.get('status') != 'ok' else '–')
                else:
                    row.append(f'{s["rows_per_s"] / base["rows_per_s"]:.2f}×')
            rows.append(row)
        w(table(['data set'] + [f'`{c}`' for c in tcl], rows))
        w('')

    cds = r.datasets('chunk')
    if cds:
        w('## Chunk size')
        w('')
        w('Rows fetched per round trip (fraiseql-wire: the Execute row limit; libpq: FETCH n '
          'from a cursor), on ' + ' and '.join(f'`{d}`' for d in cds) + '.')
        w('')
        chunks = sorted({s['chunk'] for s in r.summary if s['group'] == 'chunk'})
        rows = []
        for ds in cds:
            for c in r.clients('chunk'):
                for ch in chunks:
                    s = r.get('chunk', ds, c, chunk=ch)
                    if s and s.get('status') == 'ok':
                        rows.append([f'`{ds}`', f'`{c}`', ch, f_rate(s['rows_per_s']),
                                     f_ms(s['ttfr_s']), f_num(s['cpu_ns_per_row']),
                                     f_mib(s['maxrss_kb'])])
                    elif s:
                        rows.append([f'`{ds}`', f'`{c}`', ch, s.get('status'), '', '', ''])
        w(table(['data set', 'client', 'chunk', 'rows/s', 'first row', 'CPU ns/row', 'peak RSS'],
                rows))
        w('')

    xds = r.datasets('transport')
    if xds:
        w('## Unix socket, TCP, TLS')
        w('')
        w(f'`{xds[0]}` over the Unix socket, TCP to 127.0.0.1 (sslmode=disable) and TLS '
          '(sslmode=require).')
        w('')
        rows = []
        for c in r.clients('transport'):
            row = [f'`{c}`']
            for t in ('unix', 'tcp', 'tls'):
                s = r.get('transport', xds[0], c, transport=t)
                row.append('' if not s else s['status'] if s['status'] != 'ok' else
                           f'{f_rate(s["rows_per_s"])} rows/s, {f_num(s["cpu_ns_per_row"])} ns/row CPU')
            rows.append(row)
        w(table(['client', 'unix', 'tcp', 'tls'], rows))
        w('')

    sds = r.datasets('stability')
    if sds:
        w('## Stability')
        w('')
        w(f'`{sds[0]}` streamed twice over one connection in one process: peak RSS after each '
          'pass (it should not grow) and the time of each pass.')
        w('')
        rows = []
        for c in r.clients('stability'):
            s = r.get('stability', sds[0], c)
            if s and s.get('status') == 'ok' and s.get('pass_maxrss_kb'):
                a, b = s['pass_maxrss_kb'][:2]
                rows.append([f'`{c}`', f_mib(a), f_mib(b), f'{(b - a) / 1024:+.2f} MiB',
                             f_ms(s['pass_query_s'][0]), f_ms(s['pass_query_s'][1])])
            elif s:
                rows.append([f'`{c}`', s.get('status'), '', '', '', ''])
        w(table(['client', 'RSS after pass 1', 'after pass 2', 'growth', 'pass 1', 'pass 2'], rows))
        w('')

    sel_ds = r.datasets('selectivity')
    if sel_ds:
        w('## Predicates: where to filter')
        w('')
        w('The same filter several ways: `sql` = `WHERE (data->>\'f\')::int < n` on the server; '
          '`pushdown` = `WHERE fraiseql_wire.matches(data, \'{"f": {"lt": n}}\')`, which the '
          'planner support function rewrites into indexable SQL (`data @> …` on a tv_ table, '
          'conditions on the base columns of a v_ view); `pushdown_norewrite` = the same with '
          '`fraiseql_wire.enable_rewrite = off` (the filter evaluated per row in C); `client` = every '
          'row streamed and the filter evaluated in the client (json-c parse of each document; the '
          'fraiseql-wire client has no predicate callback in its public header yet, so both '
          'clients apply the same predicate to each row they hand out).  The largest sets have a '
          'GIN (jsonb_path_ops) index on the tv_ table and B-tree indexes on the view\'s base '
          'columns `bucket` and `pct`.  The row count of every run is checked against the exact '
          'expected count.')
        w('')
        order = ['0.01%', '1%', '10%', '50%']
        mrank = {'sql': 0, 'pushdown': 1, 'pushdown_norewrite': 2, 'client': 3}
        for ds in sel_ds:
            w(f'`{ds}`:')
            w('')
            combos = []
            for s in r.summary:
                if s['group'] == 'selectivity' and s['dataset'] == ds and \
                        (s['method'], s['client']) not in combos:
                    combos.append((s['method'], s['client']))
            combos.sort(key=lambda mc: (mrank.get(mc[0], 9), CLIENTS.index(mc[1])))
            rows = []
            for method, client in combos:
                row = [method, f'`{client}`']
                for label in order:
                    s = r.get('selectivity', ds, client, filt=label, method=method)
                    if not s:
                        row.append('')
                    elif s.get('status') != 'ok':
                        row.append(s['status'])
                    else:
                        bad = '' if s.get('correct', True) else ' **WRONG COUNT**'
                        row.append(f'{f_ms(s["query_s"])}{bad}')
                rows.append(row)
            w(table(['method', 'client'] + order, rows))
            w('')
        if 'selectivity' in made:
            w('![time vs selectivity](plots/selectivity.png)')
            w('')
        if m.get('matches_available') and not m.get('matches_support'):
            w('`fraiseql_wire.matches()` has no planner support function in this build, so the '
              'pushdown rows measure the filter evaluated per row on the server, without the '
              'rewrite into indexable SQL.')
            w('')
        plans = m.get('plans') or {}
        if plans:
            w('Plans (`EXPLAIN (COSTS OFF)`) as the server chose them in this run:')
            w('')
            rows = []
            for name in sorted(plans, key=lambda n: (n.split()[0], mrank.get(n.split()[1], 9),
                                                     order.index(n.split()[2])
                                                     if n.split()[2] in order else 9)):
                rel, method, label = name.split()[:3]
                plan = plans[name].get('plan') or '(no plan)'
                plan = ' → '.join(l.strip() for l in plan.splitlines() if l.strip())
                if len(plan) > 200:
                    plan = plan[:197] + '…'
                rows.append([f'`{rel}`', method, label, f'`{plan}`'])
            w(table(['relation', 'method', 'filter', 'plan'], rows))
            w('')

    if r.micro:
        w('## Micro benchmarks')
        w('')
        w('No server; each is calibrated to ~40 ms a run and run 15 times (`make bench-micro`).')
        w('')
        w(micro_table(r.micro))
        w('')
        w('The decoder hands out views into the receive buffer and never touches the payload, so '
          'its "GB/s" is bytes framed per second, not bytes copied: it says the decoder costs a '
          'few nanoseconds a row whatever the row size.  The client predicate is the one the '
          '`client` filtering method above uses (json-c parse, then a field test); the text scan '
          'shows what a parser competes with.')
        w('')

    rs = render_section(r)
    if rs:
        w('## Document rendering (v_ views)')
        w('')
        w('The same 1M documents (9 keys: integers, text, numeric, timestamp, a two-element '
          'array, a nested object) built per row by a v_ view with `jsonb_build_object`, '
          '`json_build_object` and the extension\'s renderer `fraiseql_wire.json_document` '
          '(what `create_view(format => \'json\')` builds), streamed whole on one backend; all '
          'nine (view, client) pairs interleaved.  The profile: '
          '[performance.md, "Building documents"](performance.md#building-documents-the-c-renderer).')
        w('')
        L.extend(rs)

    nr = [s for s in r.summary if s.get('status') == 'not run']
    nr_micro = [x for x in r.micro if x.get('status') == 'not run']
    if nr or nr_micro:
        w('## Not run')
        w('')
        reasons = {}
        for s in nr:
            reasons.setdefault((s['client'], s['reason']), set()).add(s['group'])
        for (client, reason), groups in sorted(reasons.items()):
            w(f'- `{client}` ({", ".join(sorted(groups))}): {reason}')
        for x in nr_micro:
            w(f'- micro "{x["name"]}": {x["reason"]}')
        w('')
    w('## Reproducing')
    w('')
    w('`make bench` (this page; the run time is at the top), `make bench-quick` (a subset '
      'compared with `bench/results/baseline.json`, under a minute), `make bench-micro` '
      '(~10 s).  Pass '
      '`PG_CONFIG=…` to pick the server.  `BENCH_REPS=N` and `BENCH_MAX_ROWS=N` shorten a run.  '
      'The data set is `bench/setup.sql` (deterministic); raw runs are in the results file.')
    w('')
    os.makedirs(docdir, exist_ok=True)
    with open(os.path.join(docdir, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(L))
    print(f'report: {os.path.join(docdir, "benchmarks.md")}, plots: {", ".join(made) or "none"}',
          file=sys.stderr)


RENDER_BUILDERS = (('', 'jsonb_build_object'), ('_json', 'json_build_object'),
                   ('_doc', 'fraiseql_wire.json_document'),
                   ('_docb', 'fraiseql_wire.json_document(…)::jsonb'))
RENDER_CLIENTS = ('server_floor', 'libpq_single', 'fraiseql_wire')


def render_section(r):
    """The render group: v_ views building the same documents three ways."""
    sets = r.datasets('render')
    if not sets:
        return []
    base = next((d for d in sets if not d.endswith(('_json', '_doc', '_docb'))), sets[0])
    stem = base
    L = []
    rows = []
    for suffix, builder in RENDER_BUILDERS:
        ds = stem + suffix
        row = [f'`{ds}`', f'`{builder}`']
        for c in RENDER_CLIENTS:
            row.append(cell(r, 'render', ds, c, 'rows_per_s', f_rate))
        rows.append(row)
    L.append(table(['view', 'documents built by'] + [f'`{c}` rows/s' for c in RENDER_CLIENTS], rows))
    L.append('')
    rows = []
    for num, den in (('_doc', ''), ('_doc', '_json'), ('_docb', '')):
        name = dict(RENDER_BUILDERS)
        row = [f'`{name[num]}` ÷ `{name[den]}`']
        for c in RENDER_CLIENTS:
            a, b = r.ok('render', stem + num, c), r.ok('render', stem + den, c)
            row.append(f'{a["rows_per_s"] / b["rows_per_s"]:.2f}×' if a and b else '–')
        rows.append(row)
    L.append(table(['rows/s ratio'] + [f'`{c}`' for c in RENDER_CLIENTS], rows))
    L.append('')
    return L


def render_cmd(path):
    with open(path) as f:
        r = Results(json.load(f))
    m = r.meta
    print(f'render: started {m.get("started_utc")}, commit {m.get("git_commit")}, load average '
          f'{m.get("loadavg_start"):.2f} -> {m.get("loadavg_end"):.2f}, medians of '
          f'{min((s["n"] for s in r.summary if s.get("n")), default=0)}+ interleaved runs')
    for line in render_section(r):
        print(line)
    for s in r.summary:
        if s.get('status') == 'not run':
            print(f'  {s["dataset"]} {s["client"]}: not run: {s["reason"]}')


def micro_table(micro):
    rows = []
    for x in micro:
        if x.get('status') == 'not run':
            rows.append([x['name'], 'not run', '', '', ''])
            continue
        gb = f'{x["gbps_median"]:.2f}' if x.get('bytes_per_op') else '–'
        rows.append([x['name'], f'{x["ns_min"]:,.0f} ns/{x["op"]}', f'{x["ns_median"]:,.0f} ns/{x["op"]}',
                     gb, f'{x["runs"]} × {x["iters"]:,}'])
    return table(['benchmark', 'min', 'median', 'GB/s (median)', 'runs × iterations'], rows)


def micro_cmd(path):
    with open(path) as f:
        micro = [json.loads(l) for l in f if l.startswith('{')]
    for x in micro:
        if x.get('status') == 'not run':
            print(f'  {x["name"]:48} not run ({x["reason"]})')
        else:
            gb = f'  {x["gbps_median"]:.2f} GB/s' if x.get('bytes_per_op') else ''
            print(f'  {x["name"]:48} min {x["ns_min"]:>12,.1f} ns  median {x["ns_median"]:>12,.1f} '
                  f'ns/{x["op"]}{gb}')


# ---------------------------------------------------------------- compare
def ratios(r):
    out = {}
    for s in r.summary:
        if s['group'] != 'throughput' or s.get('status') != 'ok' or s['client'] == 'libpq_single':
            continue
        base = r.ok('throughput', s['dataset'], 'libpq_single')
        if base:
            # server_floor: a time ratio, the others rows/s: higher is better in both
            out[(s['dataset'], s['client'])] = s['rows_per_s'] / base['rows_per_s']
    return out


def compare(new_path, base_path):
    with open(new_path) as f:
        new = Results(json.load(f))
    with open(base_path) as f:
        base = Results(json.load(f))
    rn, rb = ratios(new), ratios(base)
    warnings = 0
    print(f'bench-quick: rows/s as a ratio to libpq single-row, this run vs '
          f'{os.path.basename(base_path)} ({base.meta.get("started_utc")}, '
          f'commit {base.meta.get("git_commit")})')
    for key in sorted(set(rn) | set(rb)):
        ds, client = key
        a, b = rn.get(key), rb.get(key)
        if a is None:
            st = new.get('throughput', ds, client)
            print(f'  {ds:22} {client:14} {"":>7} (baseline {b:.2f}×): '
                  f'{st["status"] if st else "absent"} now')
            continue
        if b is None:
            print(f'  {ds:22} {client:14} {a:6.2f}× (no baseline)')
            continue
        change = a / b - 1
        flag = ''
        if change < -DROP_WARN:
            flag = f'  WARNING: dropped {-change * 100:.0f} %'
            warnings += 1
        print(f'  {ds:22} {client:14} {a:6.2f}× (baseline {b:.2f}×, {change * 100:+.0f} %){flag}')
    for s in new.summary:
        if s.get('status') == 'not run':
            print(f'  {s["dataset"]:22} {s["client"]:14} not run: {s["reason"]}')
    print(f'bench-quick: {warnings} warning(s)')
    return 1 if warnings else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == 'docs':
        docs(argv[2], os.path.join(ROOT, 'docs'))
        return 0
    if len(argv) >= 3 and argv[1] == 'micro':
        micro_cmd(argv[2])
        return 0
    if len(argv) >= 3 and argv[1] == 'render':
        render_cmd(argv[2])
        return 0
    if len(argv) >= 4 and argv[1] == 'compare':
        return compare(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
