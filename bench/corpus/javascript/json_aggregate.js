const assert = require("assert");

const orders = [];
for (let i = 0; i < 2000; i++) {
  const lines = [];
  for (let j = 0; j < i % 5; j++) lines.push({ sku: `S${j}`, qty: j + 1, cents: 150 * (j + 1) });
  orders.push({ id: i, customer: `c${i % 37}`, lines });
}
const decoded = JSON.parse(JSON.stringify(orders));
assert.deepStrictEqual(decoded, orders);
const byCustomer = new Map();
for (const o of decoded) {
  const total = o.lines.reduce((s, l) => s + l.qty * l.cents, 0);
  byCustomer.set(o.customer, (byCustomer.get(o.customer) || 0) + total);
}
let expected = 0;
for (let i = 0; i < 2000; i++) for (let j = 0; j < i % 5; j++) expected += (j + 1) * 150 * (j + 1);
assert.strictEqual([...byCustomer.values()].reduce((a, b) => a + b, 0), expected);
assert.strictEqual(byCustomer.size, 37);
console.log("OK json_aggregate");
