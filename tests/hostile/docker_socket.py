# Look for the Docker (or containerd) socket and try to talk to it.
import os
import socket

escaped = False
for path in ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
             "/var/run/containerd/containerd.sock", "/tmp/docker.sock", "/sandbox/docker.sock"]:
    if os.path.exists(path):
        print("present:", path)
        try:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(1)
            client.connect(path)
            client.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            print("ESCAPED: talked to", path, client.recv(200))
            escaped = True
        except OSError as error:
            print("refused:", path, error)
# The engine's TCP port, in case it listens on loopback: the sandbox's
# loopback is its own.
for port in (2375, 2376):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        print("ESCAPED: something listens on", port)
        escaped = True
    except OSError:
        pass
if not escaped:
    print("BLOCKED")
