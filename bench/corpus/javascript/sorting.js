const assert = require("assert");

function mergeSort(a) {
  if (a.length <= 1) return a;
  const mid = a.length >> 1;
  const l = mergeSort(a.slice(0, mid)), r = mergeSort(a.slice(mid));
  const out = [];
  let i = 0, j = 0;
  while (i < l.length && j < r.length) out.push(l[i] <= r[j] ? l[i++] : r[j++]);
  return out.concat(l.slice(i), r.slice(j));
}

let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
for (let t = 0; t < 50; t++) {
  const a = Array.from({ length: rnd() % 100 }, () => rnd() % 1000);
  assert.deepStrictEqual(mergeSort(a), [...a].sort((x, y) => x - y));
}
const big = Array.from({ length: 50000 }, () => rnd());
assert.deepStrictEqual(mergeSort(big), Float64Array.from(big).sort().reduce((acc, x) => (acc.push(x), acc), []));
console.log("OK sorting");
