import re

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")

def valid(address):
    return bool(EMAIL.match(address)) and ".." not in address

good = ["a@b.co", "first.last@example.org", "x+tag@mail.example.com", "u_1@d-1.io"]
bad = ["plain", "@no.user", "a@b", "a@b.c", "a..b@c.com", "a@b..com", "sp ace@x.com"]
assert all(valid(g) for g in good)
assert not any(valid(b) for b in bad)
text = " ".join(f"user{i}@host{i % 7}.example.com junk{i} @bad{i}" for i in range(3000))
found = re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
assert len(found) == 3000 and all(valid(f) for f in found)
assert len({f.split("@")[1] for f in found}) == 7
print("OK regex_emails")
