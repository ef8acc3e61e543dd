import re
from collections import Counter

LINE = re.compile(r'^(\S+) - - \[([^\]]+)\] "(GET|POST|PUT|DELETE) (\S+) HTTP/1\.[01]" (\d{3}) (\d+|-)$')

def make_log(n):
    methods = ["GET", "POST", "PUT", "DELETE"]
    paths = ["/", "/api/items", "/api/items/42", "/login", "/static/app.js"]
    lines = []
    for i in range(n):
        status = [200, 201, 404, 500, 302][i % 5]
        size = "-" if status == 302 else str(100 + i % 900)
        lines.append(f'10.0.{i % 4}.{i % 250} - - [02/Dec/2026:00:{i % 60:02d}:00 +0000] "{methods[i % 4]} {paths[i % 5]} HTTP/1.1" {status} {size}')
    lines.append("garbage line")
    return lines

parsed, bad = [], 0
for line in make_log(6000):
    m = LINE.match(line)
    if not m:
        bad += 1
        continue
    parsed.append(m.groups())
assert bad == 1 and len(parsed) == 6000
status = Counter(p[4] for p in parsed)
assert status["200"] == 1200 and status["500"] == 1200
total_bytes = sum(int(p[5]) for p in parsed if p[5] != "-")
assert total_bytes == sum(100 + i % 900 for i in range(6000) if i % 5 != 4)
assert Counter(p[2] for p in parsed).most_common(1)[0][1] == 1500
print("OK log_parsing")
