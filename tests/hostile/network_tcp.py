# TCP connections must fail at once: the sandbox has no network at all
# (network_mode none), so nothing is sent anywhere.
import os
import socket
import time

interfaces = sorted(os.listdir("/sys/class/net"))
print("interfaces", interfaces)
escaped = interfaces != ["lo"]
for host, port in (("10.0.0.1", 80), ("1.1.1.1", 53)):
    started = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=2).close()
        print(f"ESCAPED: connected to {host}:{port}")
        escaped = True
    except socket.timeout:
        print(f"ESCAPED: {host}:{port} timed out: packets went somewhere")
        escaped = True
    except OSError as error:
        elapsed = time.monotonic() - started
        print(f"{host}:{port} failed in {elapsed:.3f}s: {error}")
        if elapsed > 0.5:
            escaped = True
print("ESCAPED" if escaped else "BLOCKED")
