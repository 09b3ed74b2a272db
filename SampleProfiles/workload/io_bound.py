#!/usr/bin/env python3
"""I/O-bound: mostly waiting (sleep and a socket read), a little CPU. For `perftop report --summary`."""
import socket
import threading
import time


def serve(sock):
    conn, _ = sock.accept()
    for _ in range(10):
        time.sleep(0.08)
        conn.sendall(b"x" * 100)
    conn.close()


def fetch(port):
    c = socket.create_connection(("127.0.0.1", port))
    got = 0
    while got < 1000:
        data = c.recv(100)
        if not data:
            break
        got += len(data)
    return got


def main():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    threading.Thread(target=serve, args=(srv,), daemon=True).start()
    fetch(srv.getsockname()[1])
    time.sleep(0.3)
    sum(i * i for i in range(20000))


if __name__ == "__main__":
    main()
