#!/usr/bin/env python3
"""t/bench/tls.py: the TLS measurements of t/bench/tls (python3, stdlib).

  handshake  full TLS handshakes per second on an implicit-TLS port:
             each client connects, does the handshake, reads the 220
             greeting, says QUIT and closes, in a loop, for --secs
  starttls   messages per second over STARTTLS, one message per
             connection (EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT,
             DATA, QUIT), --count messages from --conc clients; then
             waits for them in the Maildir
  report     the table, chainmail next to Postfix, with the ratio

Clients are processes (fork), capped at TLS 1.2 (BearSSL's maximum) on
both sides, no certificate verification and no session resumption, so
every connection costs the server a full handshake. Server CPU comes
from bench.py's process-tree accounting. One JSON line per run goes to
--out.
"""

import argparse
import json
import multiprocessing
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (freeport, treecpu, count_new, clear_maildir)


def client_ctx():
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	ctx.maximum_version = ssl.TLSVersion.TLSv1_2
	return ctx


class Conn:
	def __init__(self, sock):
		self.s = sock
		self.buf = b""

	def reply(self):
		"""One whole reply: (code, last line)."""
		while True:
			while b"\n" not in self.buf:
				d = self.s.recv(4096)
				if not d:
					raise EOFError("connection closed")
				self.buf += d
			line, self.buf = self.buf.split(b"\n", 1)
			if len(line) < 4 or line[3:4] != b"-":
				return int(line[:3]), line

	def cmd(self, line, want):
		self.s.sendall(line + b"\r\n")
		code, text = self.reply()
		if code != want:
			raise RuntimeError("%r: %r" % (line, text))


def one_handshake(port, ctx):
	raw = socket.create_connection(("127.0.0.1", port), 30)
	try:
		s = ctx.wrap_socket(raw)
		c = Conn(s)
		code, _ = c.reply()
		if code != 220:
			raise RuntimeError("greeting %d" % code)
		cipher = s.cipher()
		c.cmd(b"QUIT", 221)
		s.close()
		return cipher
	finally:
		raw.close()


def handshake_worker(port, secs, q):
	ctx = client_ctx()
	n = err = 0
	cipher = None
	end = time.monotonic() + secs
	while time.monotonic() < end:
		try:
			cipher = one_handshake(port, ctx)
			n += 1
		except Exception:
			err += 1
	q.put((n, err, cipher))


def one_message(port, ctx, body, rcpt):
	raw = socket.create_connection(("127.0.0.1", port), 60)
	try:
		c = Conn(raw)
		if c.reply()[0] != 220:
			raise RuntimeError("greeting")
		c.cmd(b"EHLO bench.source.test", 250)
		c.cmd(b"STARTTLS", 220)
		s = ctx.wrap_socket(raw)
		c = Conn(s)
		c.cmd(b"EHLO bench.source.test", 250)
		c.cmd(b"MAIL FROM:<bench@source.test>", 250)
		c.cmd(b"RCPT TO:<" + rcpt.encode() + b">", 250)
		c.cmd(b"DATA", 354)
		s.sendall(body)
		code, text = c.reply()
		if code != 250:
			raise RuntimeError("data: %r" % text)
		c.cmd(b"QUIT", 221)
		s.close()
		return s.cipher() if hasattr(s, "cipher") else None
	finally:
		raw.close()


def message_worker(port, count, size, rcpt, q):
	ctx = client_ctx()
	line = b"x" * 76 + b"\r\n"
	body = (b"From: bench@source.test\r\nTo: " + rcpt.encode() +
	    b"\r\nSubject: tls bench\r\n\r\n" + line * max(1, size // len(line)) + b".\r\n")
	n = err = 0
	for _ in range(count):
		try:
			one_message(port, ctx, body, rcpt)
			n += 1
		except Exception:
			err += 1
	q.put((n, err, None))


def run_workers(target, args_for, conc):
	q = multiprocessing.Queue()
	ps = [multiprocessing.Process(target=target, args=args_for(i) + (q,)) for i in range(conc)]
	for p in ps:
		p.start()
	res = [q.get() for _ in ps]
	for p in ps:
		p.join()
	return (sum(r[0] for r in res), sum(r[1] for r in res),
	    next((r[2] for r in res if r[2]), None))


def roots_of(a):
	return [int(x) for x in a.cpu_roots.split(",") if x]


def cmd_handshake(a):
	roots = roots_of(a)
	cpu0 = bench.treecpu(roots)
	t0 = time.monotonic()
	n, err, cipher = run_workers(handshake_worker, lambda i: (a.port, a.secs), a.conc)
	dt = time.monotonic() - t0
	time.sleep(0.3)
	cpu1 = bench.treecpu(roots)
	res = {"test": "handshake", "name": a.name, "conc": a.conc, "n": n, "errors": err,
	    "secs": round(dt, 3), "rate": round(n / dt, 1),
	    "cpu_ms": round((cpu1 - cpu0) * 1000 / n, 2) if n else None,
	    "cipher": "%s %s" % (cipher[1], cipher[0]) if cipher else None}
	with open(a.out, "a") as f:
		f.write(json.dumps(res) + "\n")
	print("%-9s handshakes c=%-3d %7.1f /s  (%d in %.1f s, %d errors)  server CPU %s ms each  %s" % (
	    a.name, a.conc, res["rate"], n, dt, err, res["cpu_ms"], res["cipher"]))
	sys.stdout.flush()
	return 0 if n and not err else 1


def cmd_starttls(a):
	bench.clear_maildir(a.maildir)
	roots = roots_of(a)
	per = [a.count // a.conc + (1 if i < a.count % a.conc else 0) for i in range(a.conc)]
	cpu0 = bench.treecpu(roots)
	t0 = time.monotonic()
	n, err, _ = run_workers(message_worker, lambda i: (a.port, per[i], a.size, a.rcpt), a.conc)
	t1 = time.monotonic()
	deadline = t1 + a.timeout
	got = bench.count_new(a.maildir)
	while got < n and time.monotonic() < deadline:
		time.sleep(0.02)
		got = bench.count_new(a.maildir)
	t2 = time.monotonic()
	time.sleep(0.3)
	cpu1 = bench.treecpu(roots)
	res = {"test": "starttls", "name": a.name, "conc": a.conc, "size": a.size, "count": a.count,
	    "accepted": n, "errors": err, "accept_s": round(t1 - t0, 3),
	    "rate": round(n / (t1 - t0), 1), "delivered": got,
	    "all_s": round(t2 - t0, 3) if got >= a.count else None,
	    "cpu_ms": round((cpu1 - cpu0) * 1000 / n, 2) if n else None}
	with open(a.out, "a") as f:
		f.write(json.dumps(res) + "\n")
	print("%-9s STARTTLS %5d x %6d B c=%-3d accepted %7.1f msg/s (%.2f s, %d errors)  in Maildir %s  server CPU %s ms/msg" % (
	    a.name, a.count, a.size, a.conc, res["rate"], t1 - t0, err,
	    "%.2f s" % res["all_s"] if res["all_s"] else "TIMEOUT (%d/%d)" % (got, a.count), res["cpu_ms"]))
	sys.stdout.flush()
	return 0 if n == a.count and got >= a.count else 1


def cmd_report(a):
	rows = [json.loads(l) for l in open(a.file) if l.strip()]
	keys = []
	for r in rows:
		k = (r["test"], r.get("size"), r["conc"])
		if k not in keys:
			keys.append(k)
	print("%-10s %7s %4s | %12s %12s %6s | %11s %11s %6s" % (
	    "test", "size", "conc", "chainmail/s", "postfix/s", "ratio", "cm CPU ms", "pf CPU ms", "ratio"))
	for k in keys:
		by = {r["name"]: r for r in rows if (r["test"], r.get("size"), r["conc"]) == k}
		cm, pf = by.get("chainmail", {}), by.get("postfix", {})
		print("%-10s %7s %4d | %12s %12s %6s | %11s %11s %6s" % (
		    k[0], k[1] if k[1] is not None else "-", k[2],
		    cm.get("rate", "-"), pf.get("rate", "-"), bench.ratio(cm.get("rate"), pf.get("rate")),
		    cm.get("cpu_ms", "-"), pf.get("cpu_ms", "-"), bench.ratio(cm.get("cpu_ms"), pf.get("cpu_ms"))))
	ciphers = {r["name"]: r.get("cipher") for r in rows if r.get("cipher")}
	for name, c in sorted(ciphers.items()):
		print("negotiated by %s: %s" % (name, c))
	print("rates: higher is better; CPU: server CPU time per handshake or message, lower is better;"
	    " ratio = chainmail / Postfix")
	return 0


def main():
	ap = argparse.ArgumentParser()
	sub = ap.add_subparsers(dest="cmd", required=True)
	for name in ("handshake", "starttls"):
		p = sub.add_parser(name)
		p.add_argument("--name", required=True)
		p.add_argument("--port", type=int, required=True)
		p.add_argument("--conc", type=int, required=True)
		p.add_argument("--out", required=True)
		p.add_argument("--cpu-roots", default="")
		if name == "handshake":
			p.add_argument("--secs", type=float, default=10)
		else:
			p.add_argument("--count", type=int, required=True)
			p.add_argument("--size", type=int, default=1024)
			p.add_argument("--maildir", required=True)
			p.add_argument("--rcpt", default="user@bench.test")
			p.add_argument("--timeout", type=float, default=180)
	p = sub.add_parser("report")
	p.add_argument("file")
	a = ap.parse_args()
	return {"handshake": cmd_handshake, "starttls": cmd_starttls, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
	sys.exit(main())
