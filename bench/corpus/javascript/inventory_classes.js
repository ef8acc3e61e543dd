const assert = require("assert");

class Item {
  constructor(name, category, cents, qty) {
    Object.assign(this, { name, category, cents, qty });
  }
  get value() {
    return this.cents * this.qty;
  }
}

class Inventory {
  constructor() {
    this.items = new Map();
  }
  add(item) {
    if (this.items.has(item.name)) throw new Error(`duplicate ${item.name}`);
    this.items.set(item.name, item);
  }
  take(name, n) {
    const it = this.items.get(name);
    if (!it || it.qty < n) return false;
    it.qty -= n;
    return true;
  }
  valueBy(category) {
    let v = 0;
    for (const it of this.items.values()) if (it.category === category) v += it.value;
    return v;
  }
}

const inv = new Inventory();
for (let i = 0; i < 3000; i++) inv.add(new Item(`i${i}`, ["tools", "food", "toys"][i % 3], (i * 37) % 1000 + 1, i % 9));
assert.throws(() => inv.add(new Item("i1", "food", 1, 1)));
let expected = 0;
for (let i = 0; i < 3000; i++) expected += ((i * 37) % 1000 + 1) * (i % 9);
assert.strictEqual(inv.valueBy("tools") + inv.valueBy("food") + inv.valueBy("toys"), expected);
assert.ok(inv.take("i8", 8) && !inv.take("i8", 1) && !inv.take("nope", 1));
console.log("OK inventory_classes");
