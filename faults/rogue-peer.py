#!/usr/bin/env python3
"""A hostile peer for the fault suite (issue 8): connects to a coordinator and misbehaves.

  rogue-peer.py MODE ENDPOINT [--server-key coordinator.pub] [--allowed-key insider.key] [--rogue-key rogue.key]

MODE: nokey     a DEALER without CURVE that sends a valid register message
      wrongkey  a CURVE client whose key the coordinator does not list, sends register
      garbage   a CURVE client with an ALLOWED key (a compromised worker) that never registers, only sends junk: random bytes,
                a foreign protocol, a truncated register, a multi-part message, a message beyond the size limit,
                a result for a lease it never held, a chunk for a lease it never held
      rawtcp    not ZeroMQ at all: random bytes straight onto the TCP port
The last line printed is the verdict: "no data received (...)" or "GOT DATA: ..." when the coordinator sent it
an assignment or a chunk (a security failure). Exit status 0 unless data leaked.
"""
import argparse, os, random, socket, struct, sys, time
import zmq

MAGIC, VERSION = b"LF", 1
KINDS = {1: "register", 2: "welcome", 3: "reject", 4: "assign", 5: "credit", 6: "chunk", 7: "progress",
         8: "result", 9: "failure", 10: "cancel", 11: "heartbeat", 12: "goodbye"}


def z85_line(path):
    with open(path) as f:
        return next(l.strip() for l in f if l.strip() and not l.startswith("#")).encode()


def string(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def register(name):
    return MAGIC + bytes([VERSION, 1]) + string(name) + string("rogue-host") + struct.pack("<I", 1) \
        + struct.pack("<I", 0) + struct.pack("<Q", 1 << 30)


def lease(segment, attempt):
    return struct.pack("<QI", segment, attempt)


def listen(sock, seconds):
    """Collects what the coordinator sends for a while; returns kinds seen and whether data leaked."""
    seen, leaked = [], False
    deadline = time.time() + seconds
    while time.time() < deadline:
        if sock.poll(100):
            frames = sock.recv_multipart()
            frame = frames[-1]
            kind = KINDS.get(frame[3], "?") if len(frame) >= 4 and frame[:2] == MAGIC else "foreign"
            seen.append(kind)
            if kind in ("assign", "chunk"):
                leaked = True
    return seen, leaked


def zmq_peer(args, curve_secret=None, curve_public=None):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if curve_secret:
        sock.curve_secretkey = curve_secret
        sock.curve_publickey = curve_public
        sock.curve_serverkey = z85_line(args.server_key)
    sock.connect(args.endpoint)
    return ctx, sock


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["nokey", "wrongkey", "garbage", "rawtcp"])
    p.add_argument("endpoint")
    p.add_argument("--server-key")
    p.add_argument("--allowed-key")
    p.add_argument("--rogue-key")
    p.add_argument("--seconds", type=float, default=4)
    args = p.parse_args()
    rng = random.Random(0xBAD)

    if args.mode == "rawtcp":
        host, port = args.endpoint.replace("tcp://", "").rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=5)
        sent = 0
        try:
            for _ in range(64):
                s.sendall(bytes(rng.getrandbits(8) for _ in range(4096)))
                sent += 4096
        except OSError as e:
            print(f"connection dropped by the coordinator after {sent} bytes ({e.__class__.__name__})")
        s.settimeout(args.seconds)
        try:
            back = s.recv(65536)
        except OSError:
            back = b""
        # A ZMTP greeting (10-byte signature ...) is all a non-ZeroMQ peer can ever get.
        print(f"no data received (raw TCP: {sent} junk bytes sent, {len(back)} bytes back, greeting only)")
        return 0

    if args.mode == "nokey":
        ctx, sock = zmq_peer(args)
    else:
        keyfile = args.rogue_key if args.mode == "wrongkey" else args.allowed_key
        secret = z85_line(keyfile)
        public = z85_line(os.path.splitext(keyfile)[0] + ".pub")
        ctx, sock = zmq_peer(args, secret, public)

    if args.mode != "garbage":
        sock.send(register(f"rogue-{args.mode}"))
    else:
        time.sleep(0.5)
        junk = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(50)]
        junk += [b"GET / HTTP/1.1\r\n\r\n", register("x")[:9], MAGIC + bytes([VERSION + 7, 1]), MAGIC + bytes([VERSION, 99]),
                 MAGIC + bytes([VERSION, 1]) + b"\xff\xff\xff\xff"]
        for j in junk:
            sock.send(j)
        sock.send_multipart([register("multi"), b"second part"])
        result = MAGIC + bytes([VERSION, 8]) + lease(1, 1) + struct.pack("<III", 1, 64, 36) + struct.pack("<QQ", 10, 0)
        chunk = MAGIC + bytes([VERSION, 6]) + lease(1, 1) + struct.pack("<Q", 0) + string("x" * 100)
        sock.send(result)
        sock.send(chunk)
        sock.send(MAGIC + bytes([VERSION, 11]) + b"\0" * (300 * 1024))  # beyond ZMQ_MAXMSGSIZE: libzmq drops us
    seen, leaked = listen(sock, args.seconds)
    sock.close()
    ctx.term()
    summary = ",".join(sorted(set(seen))) or "nothing"
    if leaked:
        print(f"GOT DATA: the coordinator sent {summary}")
        return 1
    print(f"no data received (heard: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
