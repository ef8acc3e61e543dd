import ipaddress
import random

def valid_ipv4(s):
    parts = s.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p.isdigit() or (len(p) > 1 and p[0] == "0") or int(p) > 255:
            return False
    return True

def restore(s):
    out = []
    def go(i, parts):
        if len(parts) == 4:
            if i == len(s):
                out.append(".".join(parts))
            return
        for n in range(1, 4):
            seg = s[i:i + n]
            if len(seg) == n and valid_ipv4(".".join(["0"] * 3 + [seg])):
                go(i + n, parts + [seg])
    go(0, [])
    return out

assert restore("25525511135") == ["255.255.11.135", "255.255.111.35"]
assert restore("0000") == ["0.0.0.0"]
rng = random.Random(49)
for _ in range(5000):
    s = ".".join(str(rng.choice([rng.randint(0, 300), "0" + str(rng.randint(0, 9))])) for _ in range(rng.choice([3, 4, 4, 5])))
    try:
        ipaddress.IPv4Address(s)
        ok = True
    except ValueError:
        ok = False
    assert valid_ipv4(s) == ok, s
net = ipaddress.ip_network("10.1.0.0/22")
assert net.num_addresses == 1024 and ipaddress.ip_address("10.1.3.255") in net
print("OK ip_addresses")
