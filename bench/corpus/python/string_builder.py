import io

def build_join(n):
    return "".join(str(i % 10) for i in range(n))

def build_io(n):
    buf = io.StringIO()
    for i in range(n):
        buf.write(str(i % 10))
    return buf.getvalue()

n = 300000
a = build_join(n)
assert a == build_io(n)
assert len(a) == n and a[:12] == "012345678901"
assert a.count("7") == n // 10
lines = "\n".join(f"{i:05d},{i * i}" for i in range(20000))
assert sum(int(l.split(",")[1]) for l in lines.splitlines()) == sum(i * i for i in range(20000))
print("OK string_builder")
