#!/usr/bin/env python3
"""t/bench/relay.py: the measurement for t/bench/relay (not a test).

  relay.py freeport
  relay.py run --name N --port SERVERPORT --sink-port SINKPORT
               --count C --size S --conc K --timeout T --out FILE --log FILE

`run` starts an SMTP sink on 127.0.0.1:SINKPORT (asyncio, any number of
connections, several transactions per connection, PIPELINING), runs
smtp-source against the server, and waits until the sink has answered
250 after the data of COUNT messages. Messages/s = COUNT / (time of the
sink's last 250 - smtp-source's start). One JSON line goes to --out.
Python 3 standard library only.
"""

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time


def freeport():
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


class Sink:
	def __init__(self):
		self.done = 0		# 250s after the data
		self.last = None	# time.monotonic() of the last one
		self.conns = 0
		self.maxconns = 0
		self.open = 0

	async def serve(self, reader, writer):
		self.conns += 1
		self.open += 1
		self.maxconns = max(self.maxconns, self.open)
		try:
			writer.write(b"220 sink.relay.test ESMTP bench sink\r\n")
			await writer.drain()
			while True:
				line = await reader.readline()
				if not line:
					return
				cmd = line[:4].upper()
				if cmd in (b"EHLO",):
					writer.write(b"250-sink.relay.test\r\n"
					    b"250-PIPELINING\r\n250-8BITMIME\r\n"
					    b"250-SIZE 10240000\r\n"
					    b"250 ENHANCEDSTATUSCODES\r\n")
				elif cmd == b"DATA":
					writer.write(b"354 go ahead\r\n")
					await writer.drain()
					while True:
						l = await reader.readline()
						if not l:
							return
						if l in (b".\r\n", b".\n"):
							break
					self.done += 1
					self.last = time.monotonic()
					writer.write(b"250 2.0.0 queued\r\n")
				elif cmd == b"QUIT":
					writer.write(b"221 2.0.0 bye\r\n")
					await writer.drain()
					return
				else:	# HELO MAIL RCPT RSET NOOP
					writer.write(b"250 2.0.0 ok\r\n")
				# replies to pipelined commands go out together
				if not reader._buffer:
					await writer.drain()
		except (ConnectionError, asyncio.IncompleteReadError,
		    asyncio.CancelledError):
			pass
		finally:
			self.open -= 1
			writer.close()


async def run(a):
	sink = Sink()
	srv = await asyncio.start_server(sink.serve, "127.0.0.1", a.sink_port,
	    backlog=200, reuse_address=True)
	argv = ["smtp-source", "-c", "-l", str(a.size), "-m", str(a.count),
	    "-s", str(a.conc), "-M", "source.test", "-f", "bench@source.test",
	    "-t", "user@relay.test", "127.0.0.1:%d" % a.port]
	log = open(a.log, "ab")
	log.write(("# %s\n" % " ".join(argv)).encode())
	log.flush()
	t0 = time.monotonic()
	src = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.DEVNULL,
	    stdout=log, stderr=log)
	deadline = t0 + a.timeout
	rc = None
	t_acc = None
	while time.monotonic() < deadline:
		if rc is None and src.returncode is not None:
			rc = src.returncode
			t_acc = time.monotonic()
		if rc is not None and sink.done >= a.count:
			break
		await asyncio.sleep(0.01)
	if rc is None:
		src.kill()
		await src.wait()
	srv.close()
	log.close()
	ok = sink.done >= a.count and rc == 0
	res = {"name": a.name, "count": a.count, "size": a.size,
	    "conc": a.conc, "source_rc": rc, "relayed": sink.done,
	    "sink_connections": sink.conns, "sink_max_open": sink.maxconns,
	    "accept_s": round(t_acc - t0, 3) if t_acc else None,
	    "all_s": round(sink.last - t0, 3) if ok else None,
	    "rate": round(a.count / (sink.last - t0), 1) if ok else None}
	with open(a.out, "a") as f:
		f.write(json.dumps(res) + "\n")
	print("relay: %-9s %d x %d B c=%d: accepted in %s s, all relayed in %s"
	    " -> %s msg/s (sink: %d connections, at most %d open)%s" % (
	    a.name, a.count, a.size, a.conc, res["accept_s"],
	    "%s s" % res["all_s"] if ok else
	    "TIMEOUT (%d/%d relayed)" % (sink.done, a.count),
	    res["rate"], sink.conns, sink.maxconns,
	    "" if rc == 0 else "  [smtp-source exit %s]" % rc))
	sys.stdout.flush()
	return 0 if ok else 1


def report(path):
	rows = {}
	with open(path) as f:
		for line in f:
			r = json.loads(line)
			rows[r["name"]] = r
	c = rows.get("chainmail", {})
	p = rows.get("postfix", {})
	print("%-10s %10s %12s %12s %12s" % ("", "accept s", "all relayed s",
	    "msg/s", "sink conns"))
	for n, r in (("chainmail", c), ("postfix", p)):
		print("%-10s %10s %12s %12s %12s" % (n, r.get("accept_s", "-"),
		    r.get("all_s") or "-", r.get("rate") or "-",
		    r.get("sink_connections", "-")))
	if c.get("rate") and p.get("rate"):
		print("ratio chainmail/postfix (msg/s): %.2f" % (c["rate"] / p["rate"]))
	else:
		print("ratio chainmail/postfix (msg/s): -")


def main():
	ap = argparse.ArgumentParser()
	sub = ap.add_subparsers(dest="cmd", required=True)
	sub.add_parser("freeport")
	r = sub.add_parser("run")
	for o in ("name", "out", "log"):
		r.add_argument("--" + o, required=True)
	for o in ("port", "sink-port", "count", "size", "conc"):
		r.add_argument("--" + o, type=int, required=True)
	r.add_argument("--timeout", type=float, default=90)
	p = sub.add_parser("report")
	p.add_argument("file")
	a = ap.parse_args()
	if a.cmd == "freeport":
		print(freeport())
		return 0
	if a.cmd == "report":
		report(a.file)
		return 0
	return asyncio.run(run(a))


if __name__ == "__main__":
	sys.exit(main())
