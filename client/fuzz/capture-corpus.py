#!/usr/bin/env python3
"""capture-corpus.py OUTDIR — records real backend messages for the seed corpus.

Talks the v3 protocol to the throw-away cluster (scripts/cluster.sh; reads
PGPORT and FW_TEST_TCP_HOST) over plain TCP as each test role, runs simple
and extended queries, NOTIFY, COPY, errors and notices, and writes what the
server sent: OUTDIR/fuzz_decode/<name> (one file per whole exchange and one
per distinct message) and OUTDIR/fuzz_scram/<name> (server-first NL
server-final of real SCRAM exchanges).  Used once to build
client/fuzz/corpus/; not part of the build or the tests.
"""
import base64, hashlib, hmac, os, socket, struct, sys

HOST = os.environ.get("FW_TEST_TCP_HOST", "127.0.0.1")
PORT = int(os.environ["PGPORT"])
OUT = sys.argv[1]
seen = set()


def save(kind, name, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def msg(t, body):
    return t + struct.pack("!i", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


class Conn:
    def __init__(self, user, password=None, extra=None, minor=0):
        self.s = socket.create_connection((HOST, PORT))
        self.rx = b""       # every byte received, for the stream seed
        self.pending = b""
        params = cstr("user") + cstr(user) + cstr("database") + cstr("postgres")
        for k, v in (extra or {}).items():
            params += cstr(k) + cstr(v)
        body = struct.pack("!i", (3 << 16) | minor) + params + b"\0"
        self.s.sendall(struct.pack("!i", len(body) + 4) + body)
        self.scram = None
        self.auth(user, password)

    def read(self):
        while True:
            if len(self.pending) >= 5:
                n = struct.unpack("!i", self.pending[1:5])[0]
                if len(self.pending) >= n + 1:
                    m, self.pending = self.pending[: n + 1], self.pending[n + 1:]
                    if m not in seen:
                        seen.add(m)
                        save("fuzz_decode", "msg-%s-%03d" % (m[:1].hex(), len(seen)), m)
                    return m[:1], m[5:]
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.rx += chunk
            self.pending += chunk

    def until_ready(self):
        while True:
            t, b = self.read()
            if t == b"Z":
                return
            if t == b"E" and b"FATAL" in b:
                return

    def auth(self, user, password):
        while True:
            t, b = self.read()
            if t == b"E":
                return
            if t == b"Z":
                return
            if t != b"R":
                continue
            code = struct.unpack("!i", b[:4])[0]
            if code == 3:
                self.s.sendall(msg(b"p", cstr(password)))
            elif code == 5:
                inner = hashlib.md5((password + user).encode()).hexdigest()
                outer = "md5" + hashlib.md5(inner.encode() + b[4:8]).hexdigest()
                self.s.sendall(msg(b"p", cstr(outer)))
            elif code == 10:
                self.nonce = base64.b64encode(os.urandom(18)).decode()
                self.bare = "n=,r=" + self.nonce
                first = ("n,," + self.bare).encode()
                self.s.sendall(msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first))
            elif code == 11:
                sf = b[4:].decode()
                self.scram = [b[4:]]
                a = dict(x.split("=", 1) for x in sf.split(","))
                salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(a["s"]), int(a["i"]))
                ck = hmac.new(salted, b"Client Key", "sha256").digest()
                wp = "c=biws,r=" + a["r"]
                am = ",".join([self.bare, sf, wp]).encode()
                cs = hmac.new(hashlib.sha256(ck).digest(), am, "sha256").digest()
                proof = bytes(x ^ y for x, y in zip(ck, cs))
                self.s.sendall(msg(b"p", (wp + ",p=" + base64.b64encode(proof).decode()).encode()))
            elif code == 12:
                self.scram.append(b[4:])
                save("fuzz_scram", "real-%s" % user, b"\n".join(self.scram))

    def simple(self, sql):
        self.s.sendall(msg(b"Q", cstr(sql)))
        self.until_ready()

    def extended(self, sql, params, max_rows):
        p = msg(b"P", cstr("") + cstr(sql) + b"\0\0")
        vals = b"".join(struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v.encode() for v in params)
        p += msg(b"B", cstr("") + cstr("") + b"\0\0" + struct.pack("!h", len(params)) + vals + b"\0\0")
        p += msg(b"D", b"P" + cstr(""))
        p += msg(b"E", cstr("") + struct.pack("!i", max_rows))
        p += msg(b"E", cstr("") + struct.pack("!i", 0))
        p += msg(b"C", b"S" + cstr(""))
        p += msg(b"S", b"")
        self.s.sendall(p)
        self.until_ready()

    def close(self, name):
        self.s.sendall(msg(b"X", b""))
        self.s.close()
        save("fuzz_decode", "stream-" + name, self.rx)


c = Conn("fw_trust")
c.simple("SELECT '{\"a\":1}'::jsonb AS data, NULL::int AS n, 'x' AS t")
c.simple("")
c.simple("SELEC 1")
c.simple("DO $$BEGIN RAISE NOTICE 'hello %', 42; END$$")
c.simple("LISTEN ch; NOTIFY ch, 'payload'")
c.simple("COPY (SELECT 1) TO STDOUT")
c.simple("BEGIN; SELECT 1/0")
c.simple("ROLLBACK")
c.extended("SELECT jsonb_build_object('i', g) AS data FROM generate_series(1, $1::int) g", ["5"], 2)
c.extended("SELECT $1::jsonb AS data", [None], 0)
c.extended("SET application_name = 'x'", [], 0)
c.extended("SELECT * FROM nonexistent", [], 0)
c.close("trust")

for user, pw in [("fw_scram", "fw_scram_pw"), ("fw_md5", "fw_md5_pw"), ("fw_password", "fw_password_pw")]:
    c = Conn(user, pw)
    c.simple("SELECT current_user")
    c.close(user)
    try:
        Conn(user, "wrong").close(user + "-wrong")
    except (EOFError, ConnectionError):
        pass

# NegotiateProtocolVersion: ask for 3.1 and an unknown protocol option.
c = Conn("fw_trust", extra={"_pq_.fw_unknown": "1"}, minor=1)
c.close("negotiate")
