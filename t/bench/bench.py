#!/usr/bin/env python3
# Measurement half of `make bench` (t/bench/run sets the servers up).
#
#   bench.py freeport
#   bench.py load   --name N --port P --size S --count C --conc K
#                   --maildir DIR --parent PID --out FILE [--timeout T]
#   bench.py hold   --name N --port P --conns K --parent PID --out FILE
#   bench.py report FILE
#
# load: runs smtp-source once, times it (messages/s accepted), then polls
# the Maildir's new/ until every message is there; meanwhile it samples the
# RSS and PSS (/proc/PID/smaps_rollup) of the per-connection processes:
# the children of PARENT named smtpd, and (as the "tree" figure) each one
# plus its descendants.
#
# hold: opens K connections, takes each into the middle of DATA (64 KB of
# body sent), samples the memory of everything that serves them, then ends
# the messages and quits. The per-connection cost is the sum of PSS of the
# serving processes divided by K: for chainmail smtpd and whatever it
# started (rcpt-check, the queue chain), for Postfix smtpd plus the
# cleanup processes, which Postfix runs one per message being received.
#
# Results are JSON lines appended to FILE; `report` turns them into the
# table. Python 3 standard library only.

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time


def freeport():
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def children(pid):
	try:
		with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
			return [int(x) for x in f.read().split()]
	except OSError:
		return []


def comm(pid):
	try:
		with open("/proc/%d/comm" % pid) as f:
			return f.read().strip()
	except OSError:
		return None


def mem(pid):
	"""(rss_kb, pss_kb) of one process, or None if it is gone."""
	rss = pss = None
	try:
		with open("/proc/%d/smaps_rollup" % pid) as f:
			for line in f:
				if line.startswith("Rss:"):
					rss = int(line.split()[1])
				elif line.startswith("Pss:"):
					pss = int(line.split()[1])
	except OSError:
		return None
	if rss is None or pss is None or rss == 0:
		return None
	return (rss, pss)


def descendants(pid, depth=0):
	out = []
	if depth > 8:
		return out
	for c in children(pid):
		out.append(c)
		out.extend(descendants(c, depth + 1))
	return out


class Sampler(threading.Thread):
	"""Samples the smtpd children of `parent` every `interval` seconds
	(0.1 s: reading smaps_rollup costs CPU that the servers compete for)."""

	def __init__(self, parent, interval=0.1):
		threading.Thread.__init__(self, daemon=True)
		self.parent = parent
		self.interval = interval
		self.stop = threading.Event()
		self.peak = {}		# pid -> [rss, pss, tree_rss, tree_pss]
		self.samples = 0
		self.maxconc = 0

	def run(self):
		while not self.stop.is_set():
			self.sample()
			self.stop.wait(self.interval)

	def sample(self):
		self.samples += 1
		n = 0
		for pid in children(self.parent):
			if comm(pid) != "smtpd":
				continue
			m = mem(pid)
			if m is None:
				continue
			n += 1
			trss, tpss = m
			for d in descendants(pid):
				dm = mem(d)
				if dm is not None:
					trss += dm[0]
					tpss += dm[1]
			p = self.peak.setdefault(pid, [0, 0, 0, 0])
			for i, v in enumerate((m[0], m[1], trss, tpss)):
				if v > p[i]:
					p[i] = v
		if n > self.maxconc:
			self.maxconc = n

	def result(self):
		if not self.peak:
			return {}
		cols = list(zip(*self.peak.values()))
		return {
			"procs": len(self.peak),
			"samples": self.samples,
			"rss_peak": max(cols[0]), "pss_peak": max(cols[1]),
			"rss_median": statistics.median(cols[0]),
			"pss_median": statistics.median(cols[1]),
			"tree_rss_peak": max(cols[2]), "tree_pss_peak": max(cols[3]),
		}


def listen_overflows():
	"""The kernel's count of connections dropped for a full listen queue."""
	try:
		with open("/proc/net/netstat") as f:
			lines = f.read().splitlines()
	except OSError:
		return None
	for i in range(0, len(lines) - 1, 2):
		k, v = lines[i].split(), lines[i + 1].split()
		if k[0] == "TcpExt:" and "ListenOverflows" in k:
			return int(v[k.index("ListenOverflows")])
	return None


TICK = os.sysconf("SC_CLK_TCK")


def cputime(pid):
	"""utime + stime + cutime + cstime of pid, in seconds (0 if gone)."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			st = f.read()
	except OSError:
		return 0.0
	fields = st[st.rindex(")") + 2:].split()
	return sum(int(x) for x in fields[11:15]) / TICK


def treecpu(roots):
	"""CPU seconds used by the roots, their live descendants and every
	descendant already reaped (counted in its parent's cutime/cstime)."""
	total = 0.0
	for r in roots:
		for p in [r] + descendants(r):
			total += cputime(p)
	return total


def alive(pid):
	try:
		with open("/proc/%d/stat" % pid) as f:
			st = f.read()
	except OSError:
		return False
	return st[st.rindex(")") + 2] not in "ZX"


def count_new(maildir):
	try:
		with os.scandir(os.path.join(maildir, "new")) as it:
			return sum(1 for _ in it)
	except FileNotFoundError:
		return 0


def clear_maildir(maildir):
	"""Empties the Maildir, and drops the Maildir++ usage file (no longer
	true once the messages are gone), so that every run starts alike."""
	try:
		os.unlink(os.path.join(maildir, "maildirsize"))
	except FileNotFoundError:
		pass
	for sub in ("new", "cur", "tmp"):
		d = os.path.join(maildir, sub)
		try:
			names = os.listdir(d)
		except FileNotFoundError:
			continue
		for n in names:
			os.unlink(os.path.join(d, n))


def cmd_load(a):
	clear_maildir(a.maildir)
	argv = ["smtp-source", "-c", "-l", str(a.size), "-m", str(a.count),
		"-s", str(a.conc), "-M", "source.test",
		"-f", a.sender, "-t", a.rcpt, "127.0.0.1:%d" % a.port]
	samp = Sampler(a.parent)
	samp.start()
	lo0 = listen_overflows()
	roots = [int(x) for x in a.cpu_roots.split(",")] if a.cpu_roots \
	    else [a.parent]
	cpu0 = treecpu(roots)
	t0 = time.monotonic()
	with open(a.log, "ab") as log:
		log.write(("# %s\n" % " ".join(argv)).encode())
		log.flush()
		try:
			rc = subprocess.run(argv, stdout=log, stderr=log,
			    timeout=a.timeout).returncode
		except subprocess.TimeoutExpired:
			rc = -1
	t1 = time.monotonic()
	lo1 = listen_overflows()
	res = {"name": a.name, "size": a.size, "count": a.count,
	    "conc": a.conc, "source_rc": rc,
	    "accept_s": round(t1 - t0, 3),
	    "accept_rate": round(a.count / (t1 - t0), 1)}
	deadline = t1 + a.timeout
	n = count_new(a.maildir)
	dead = [r for r in roots if not alive(r)]
	while n < a.count and time.monotonic() < deadline and not dead:
		time.sleep(0.02)
		n = count_new(a.maildir)
		dead = [r for r in roots if not alive(r)]
	t2 = time.monotonic()
	time.sleep(0.3)		# let the last processes be reaped
	cpu1 = treecpu(roots)
	samp.stop.set()
	samp.join()
	res["delivered"] = n
	if dead:
		res["dead"] = dead
	res["cpu_ms_per_msg"] = round((cpu1 - cpu0) * 1000 / a.count, 2)
	res["all_s"] = round(t2 - t0, 3) if n >= a.count else None
	res.update(samp.result())
	res["maxconc_seen"] = samp.maxconc
	if lo0 is not None and lo1 is not None:
		res["listen_overflows"] = lo1 - lo0
	with open(a.out, "a") as f:
		f.write(json.dumps(res) + "\n")
	print("%-9s %6d x %6d B  c=%-3d  accepted %7.1f msg/s (%.2f s)  "
	    "in Maildir %s  CPU %.2f ms/msg  smtpd peak RSS %s kB PSS %s kB%s" % (
	    a.name, a.count, a.size, a.conc, res["accept_rate"],
	    res["accept_s"],
	    "%.2f s" % res["all_s"] if res["all_s"] else
	    "SERVER PROCESS DIED (pid %s; %d/%d)" % (
	    ",".join(str(x) for x in dead), n, a.count) if dead else
	    "TIMEOUT (%d/%d)" % (n, a.count), res["cpu_ms_per_msg"],
	    res.get("rss_peak", "-"), res.get("pss_peak", "-"),
	    "" if rc == 0 else "  [smtp-source exit %d]" % rc) +
	    ("  [%d SYNs dropped: listen queue full]" %
	    res["listen_overflows"] if res.get("listen_overflows") else ""))
	sys.stdout.flush()
	return 0 if rc == 0 and n >= a.count else 1


def expect(f, code):
	"""Reads one SMTP reply (all its lines); fails unless it is `code`."""
	while True:
		line = f.readline(4096)
		if not line:
			raise RuntimeError("connection closed, wanted %s" % code)
		if len(line) < 4 or not line.startswith(code.encode()):
			raise RuntimeError("wanted %s, got %r" % (code, line))
		if line[3:4] != b"-":
			return


def cmd_hold(a):
	if a.maildir:
		clear_maildir(a.maildir)
	socks = []
	body = (b"X" * 78 + b"\r\n") * 820		# ~64 KB
	try:
		for i in range(a.conns):
			s = socket.create_connection(("127.0.0.1", a.port),
			    timeout=60)
			f = s.makefile("rb")
			expect(f, "220")
			s.sendall(b"EHLO source.test\r\n")
			expect(f, "250")
			s.sendall(("MAIL FROM:<%s>\r\n" % a.sender).encode())
			expect(f, "250")
			s.sendall(("RCPT TO:<%s>\r\n" % a.rcpt).encode())
			expect(f, "250")
			s.sendall(b"DATA\r\n")
			expect(f, "354")
			s.sendall(b"Subject: hold %d\r\n\r\n" % i)
			s.sendall(body)
			socks.append((s, f))
		time.sleep(1.0)
		best = None
		for _ in range(5):
			procs = []	# (pid, comm, rss, pss)
			for pid in children(a.parent):
				c = comm(pid)
				if c not in ("smtpd", "cleanup"):
					continue
				for q in [pid] + descendants(pid):
					m = mem(q)
					if m is not None:
						procs.append((q, comm(q)) + m)
			smtpd = [p for p in procs if p[1] == "smtpd" and
			    p[0] in children(a.parent)]
			tot_pss = sum(p[3] for p in procs)
			tot_rss = sum(p[2] for p in procs)
			if best is None or tot_pss > best["total_pss"]:
				best = {"total_pss": tot_pss,
				    "total_rss": tot_rss,
				    "procs": len(procs),
				    "names": sorted(set(p[1] for p in procs)),
				    "smtpd_rss_max": max([p[2] for p in smtpd] or [0]),
				    "smtpd_pss_max": max([p[3] for p in smtpd] or [0]),
				    "smtpd_pss_sum": sum(p[3] for p in smtpd)}
			time.sleep(0.2)
		for s, f in socks:
			s.sendall(b"\r\n.\r\n")
		for s, f in socks:
			expect(f, "250")
			s.sendall(b"QUIT\r\n")
			expect(f, "221")
	finally:
		for s, f in socks:
			s.close()
	# wait for these messages to be delivered, so that they do not
	# count towards the first workload
	if a.maildir:
		end = time.monotonic() + a.timeout
		while count_new(a.maildir) < a.conns and time.monotonic() < end:
			time.sleep(0.05)
	res = {"name": a.name, "hold": a.conns}
	res.update(best)
	res["pss_per_conn"] = round(best["total_pss"] / a.conns, 1)
	res["smtpd_pss_per_conn"] = round(best["smtpd_pss_sum"] / a.conns, 1)
	with open(a.out, "a") as f:
		f.write(json.dumps(res) + "\n")
	print("%-9s %d connections held in DATA: %d processes (%s), "
	    "PSS %.0f kB per connection (smtpd alone %.0f kB), "
	    "RSS sum %d kB" % (a.name, a.conns, best["procs"],
	    " ".join(best["names"]), res["pss_per_conn"],
	    res["smtpd_pss_per_conn"], best["total_rss"]))
	return 0


def ratio(a, b):
	if a is None or b is None or b == 0:
		return "-"
	return "%.2f" % (a / b)


def fmt(v, spec):
	return "-" if v is None else spec % v


def cmd_report(a):
	rows = []
	with open(a.file) as f:
		for line in f:
			line = line.strip()
			if line:
				rows.append(json.loads(line))
	load = [r for r in rows if "size" in r]
	hold = [r for r in rows if "hold" in r]
	A, B = "chainmail", "postfix"
	keys = []
	for r in load:
		k = (r["size"], r["count"], r["conc"])
		if k not in keys:
			keys.append(k)
	by = {}		# the fastest run of each server and workload
	for r in load:
		k = (r["name"], r["size"], r["count"], r["conc"])
		if k not in by or r["accept_rate"] > by[k]["accept_rate"]:
			by[k] = r
	out = []
	w = out.append
	w("Throughput: messages/s accepted by the SMTP server (smtp-source wall clock)")
	w("and seconds from the first connection until all are in the Maildir.")
	w("")
	w("%-16s %-4s | %10s %10s %6s | %10s %10s %6s" % (
	    "workload", "conc", A + " /s", B + " /s", "ratio",
	    A + " s", B + " s", "ratio"))
	w("-" * 86)
	for k in keys:
		ra = by.get((A,) + k, {})
		rb = by.get((B,) + k, {})
		wl = "%d x %s" % (k[1], "%d KB" % (k[0] // 1024)
		    if k[0] >= 1024 else "%d B" % k[0])
		w("%-16s %-4d | %10s %10s %6s | %10s %10s %6s" % (
		    wl, k[2],
		    fmt(ra.get("accept_rate"), "%.1f"),
		    fmt(rb.get("accept_rate"), "%.1f"),
		    ratio(ra.get("accept_rate"), rb.get("accept_rate")),
		    fmt(ra.get("all_s"), "%.2f"),
		    fmt(rb.get("all_s"), "%.2f"),
		    ratio(ra.get("all_s"), rb.get("all_s"))))
	w("")
	w("CPU time of all the server's processes per message (ms; user + system,")
	w("from receiving to delivery; less sensitive to other load than wall clock):")
	w("")
	w("%-16s %-4s | %12s %12s %6s" % ("workload", "conc", A, B, "ratio"))
	w("-" * 56)
	for k in keys:
		ra = by.get((A,) + k, {})
		rb = by.get((B,) + k, {})
		wl = "%d x %s" % (k[1], "%d KB" % (k[0] // 1024)
		    if k[0] >= 1024 else "%d B" % k[0])
		w("%-16s %-4d | %12s %12s %6s" % (wl, k[2],
		    fmt(ra.get("cpu_ms_per_msg"), "%.2f"),
		    fmt(rb.get("cpu_ms_per_msg"), "%.2f"),
		    ratio(ra.get("cpu_ms_per_msg"), rb.get("cpu_ms_per_msg"))))
	w("")
	w("Memory of one smtpd process (peak over the run, sampled every 100 ms;")
	w("kB; PSS shares common pages among the processes that map them):")
	w("")
	w("%-16s %-4s | %9s %9s %6s | %9s %9s %6s | %s" % (
	    "workload", "conc", A + " RSS", B + " RSS", "ratio",
	    A + " PSS", B + " PSS", "ratio", A + " +children RSS/PSS"))
	w("-" * 100)
	for k in keys:
		ra = by.get((A,) + k, {})
		rb = by.get((B,) + k, {})
		if k[2] < 10:
			continue
		wl = "%d x %s" % (k[1], "%d KB" % (k[0] // 1024)
		    if k[0] >= 1024 else "%d B" % k[0])
		w("%-16s %-4d | %9s %9s %6s | %9s %9s %6s | %s/%s" % (
		    wl, k[2],
		    fmt(ra.get("rss_peak"), "%d"), fmt(rb.get("rss_peak"), "%d"),
		    ratio(ra.get("rss_peak"), rb.get("rss_peak")),
		    fmt(ra.get("pss_peak"), "%d"), fmt(rb.get("pss_peak"), "%d"),
		    ratio(ra.get("pss_peak"), rb.get("pss_peak")),
		    fmt(ra.get("tree_rss_peak"), "%d"),
		    fmt(ra.get("tree_pss_peak"), "%d")))
	if hold:
		hb = {r["name"]: r for r in hold}
		ha, hb2 = hb.get(A, {}), hb.get(B, {})
		w("")
		w("Memory per connection with %s connections held open in the "
		    "middle of DATA" % (ha.get("hold") or hb2.get("hold")))
		w("(sum of PSS of every process serving them / connections, kB):")
		w("")
		w("%-10s %12s %12s %6s" % ("", A, B, "ratio"))
		w("%-10s %12s %12s %6s" % ("all",
		    fmt(ha.get("pss_per_conn"), "%.0f"),
		    fmt(hb2.get("pss_per_conn"), "%.0f"),
		    ratio(ha.get("pss_per_conn"), hb2.get("pss_per_conn"))))
		w("%-10s %12s %12s %6s" % ("smtpd",
		    fmt(ha.get("smtpd_pss_per_conn"), "%.0f"),
		    fmt(hb2.get("smtpd_pss_per_conn"), "%.0f"),
		    ratio(ha.get("smtpd_pss_per_conn"),
		    hb2.get("smtpd_pss_per_conn"))))
		w("%-10s %12s %12s" % ("processes",
		    " ".join(ha.get("names", [])) or "-",
		    " ".join(hb2.get("names", [])) or "-"))
	bad = [r for r in load if r.get("source_rc") or r.get("all_s") is None]
	if bad:
		w("")
		for r in bad:
			w("WARNING: %s %d x %d c=%d: smtp-source exit %s, "
			    "%s of %d delivered%s" % (r["name"], r["count"],
			    r["size"], r["conc"], r.get("source_rc"),
			    r.get("delivered"), r["count"],
			    ", a server process died" if r.get("dead") else ""))
	for r in load:
		if r.get("listen_overflows"):
			w("NOTE: %s %d x %d c=%d: the kernel dropped %d SYNs system-wide "
			    "(listen queue full; clients waited for retransmits)" % (
			    r["name"], r["count"], r["size"], r["conc"],
			    r["listen_overflows"]))
	print("\n".join(out))
	return 0


def main():
	ap = argparse.ArgumentParser()
	sub = ap.add_subparsers(dest="cmd", required=True)
	sub.add_parser("freeport")
	for n in ("load", "hold"):
		p = sub.add_parser(n)
		p.add_argument("--name", required=True)
		p.add_argument("--port", type=int, required=True)
		p.add_argument("--parent", type=int, required=True)
		p.add_argument("--out", required=True)
		p.add_argument("--sender", default="bench@source.test")
		p.add_argument("--rcpt", default="user@bench.test")
		p.add_argument("--timeout", type=float, default=180)
		if n == "load":
			p.add_argument("--size", type=int, required=True)
			p.add_argument("--count", type=int, required=True)
			p.add_argument("--conc", type=int, required=True)
			p.add_argument("--maildir", required=True)
			p.add_argument("--log", default="/dev/null")
			p.add_argument("--cpu-roots", default="",
			    help="pids whose process trees do the work "
			    "(default: --parent)")
		else:
			p.add_argument("--conns", type=int, required=True)
			p.add_argument("--maildir", default="")
	p = sub.add_parser("report")
	p.add_argument("file")
	a = ap.parse_args()
	if a.cmd == "freeport":
		print(freeport())
		return 0
	if a.cmd == "load":
		return cmd_load(a)
	if a.cmd == "hold":
		return cmd_hold(a)
	return cmd_report(a)


if __name__ == "__main__":
	sys.exit(main())
