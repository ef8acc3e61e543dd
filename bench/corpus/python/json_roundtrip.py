import json
import random

rng = random.Random(26)

def make(depth):
    kind = rng.randrange(6 if depth < 4 else 4)
    if kind == 0:
        return rng.randint(-10 ** 6, 10 ** 6)
    if kind == 1:
        return "".join(rng.choice("abcé\"\\\n☃") for _ in range(rng.randint(0, 8)))
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.randint(-1000, 1000) / 8
    if kind == 4:
        return [make(depth + 1) for _ in range(rng.randint(0, 5))]
    return {f"k{i}": make(depth + 1) for i in range(rng.randint(0, 5))}

for _ in range(400):
    doc = make(0)
    assert json.loads(json.dumps(doc)) == doc
    assert json.loads(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)) == doc
orders = [{"id": i, "items": [{"sku": f"S{j}", "qty": j % 3 + 1, "price": 2.5 * j} for j in range(i % 6)]} for i in range(500)]
decoded = json.loads(json.dumps(orders))
revenue = sum(it["qty"] * it["price"] for o in decoded for it in o["items"])
assert revenue == sum((j % 3 + 1) * 2.5 * j for i in range(500) for j in range(i % 6))
print("OK json_roundtrip")
