#!/usr/bin/env python3
# Round trips and throughput through `tandem netsim` against a local echo server, beside the
# same without the proxy: what the proxy itself costs, and how close it holds RTT = 2D.
#   scripts/netsim_rtt.py [build/tandem]
import re, socket, statistics, subprocess, sys, threading, time

def echo_server():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while d := c.recv(65536): c.sendall(d)
        except OSError: pass
        c.close()
    def loop():
        while True:
            c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]

def rtts(port, n):
    c = socket.create_connection(("127.0.0.1", port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    for _ in range(n):
        t = time.perf_counter(); c.sendall(b"x" * 64); got = b""
        while len(got) < 64: got += c.recv(64 - len(got))
        out.append((time.perf_counter() - t) * 1000)
    c.close(); return out

def throughput(port, nbytes=50 << 20):
    c = socket.create_connection(("127.0.0.1", port))
    def rd():
        got = 0
        while got < nbytes: got += len(c.recv(1 << 20))
    t = time.perf_counter(); th = threading.Thread(target=rd); th.start()
    for _ in range(nbytes >> 20): c.sendall(b"y" * (1 << 20))
    th.join(); dt = time.perf_counter() - t; c.close(); return nbytes / dt / 1e6

def show(name, r, extra=""):
    r = sorted(r)
    print(f"{name}: RTT median {statistics.median(r):.3f} ms, min {r[0]:.3f}, p99 {r[int(.99 * len(r))]:.3f}{extra}")

tandem = sys.argv[1] if len(sys.argv) > 1 else "build/tandem"
up = echo_server()
show("direct      ", rtts(up, 200), f"; echo throughput {throughput(up):.0f} MB/s")
for delay in [0, 10, 25]:
    p = subprocess.Popen([tandem, "netsim", "--listen", "127.0.0.1:0", "--upstream", f"127.0.0.1:{up}",
                          "--delay-ms", str(delay)], stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+) ->", p.stderr.readline()).group(1))
    extra = f"; echo throughput {throughput(port):.0f} MB/s" if delay == 0 else ""
    show(f"netsim D={delay:<3}", rtts(port, 200 if delay == 0 else 40), extra)
    p.terminate(); p.wait()
