import csv
import io
from collections import defaultdict

rows = [("region", "product", "units", "price")]
regions = ["north", "south", "east", "west"]
for i in range(5000):
    rows.append((regions[i % 4], f"p{i % 13}", str(i % 17 + 1), f"{(i % 50) / 4:.2f}"))
buf = io.StringIO()
csv.writer(buf).writerows(rows)

totals = defaultdict(float)
units = defaultdict(int)
for rec in csv.DictReader(io.StringIO(buf.getvalue())):
    totals[rec["region"]] += int(rec["units"]) * float(rec["price"])
    units[rec["product"]] += int(rec["units"])

expect = defaultdict(float)
for i in range(5000):
    expect[regions[i % 4]] += (i % 17 + 1) * ((i % 50) / 4)
assert all(abs(totals[r] - expect[r]) < 1e-6 for r in regions)
assert sum(units.values()) == sum(i % 17 + 1 for i in range(5000))
assert len(units) == 13
print("OK csv_report")
