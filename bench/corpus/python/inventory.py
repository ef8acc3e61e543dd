from dataclasses import dataclass, field
from collections import defaultdict

@dataclass(order=True)
class Item:
    category: str
    name: str
    price_cents: int
    quantity: int = field(default=0, compare=False)

    def value(self):
        return self.price_cents * self.quantity

items = [Item(["tools", "food", "toys"][i % 3], f"item{i:04d}", (i * 37) % 1000 + 1, i % 9) for i in range(3000)]
by_cat = defaultdict(list)
for it in items:
    by_cat[it.category].append(it)
assert sorted(by_cat) == ["food", "tools", "toys"]
totals = {c: sum(it.value() for it in its) for c, its in by_cat.items()}
assert sum(totals.values()) == sum(((i * 37) % 1000 + 1) * (i % 9) for i in range(3000))
ordered = sorted(items)
assert ordered[0].category == "food" and all(a <= b for a, b in zip(ordered, ordered[1:]))
restock = [it.name for it in items if it.quantity == 0]
assert len(restock) == 334
print("OK inventory")
