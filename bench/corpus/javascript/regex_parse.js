const assert = require("assert");

const emailRe = /^[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}$/;
for (const good of ["a@b.co", "first.last@example.org", "x+y@mail.example.com"]) assert.ok(emailRe.test(good), good);
for (const bad of ["plain", "@x.com", "a@b", "a b@c.com"]) assert.ok(!emailRe.test(bad), bad);

const lines = [];
for (let i = 0; i < 5000; i++) lines.push(`2026-12-02T00:${String(i % 60).padStart(2, "0")}:00Z level=${["info", "warn", "error"][i % 3]} took=${i % 250}ms path=/api/${i % 7}`);
const re = /^(\S+) level=(\w+) took=(\d+)ms path=(\S+)$/;
const byLevel = {};
let took = 0;
for (const l of lines) {
  const m = re.exec(l);
  assert.ok(m);
  byLevel[m[2]] = (byLevel[m[2]] || 0) + 1;
  took += Number(m[3]);
}
assert.deepStrictEqual(byLevel, { info: 1667, warn: 1667, error: 1666 });
let expected = 0;
for (let i = 0; i < 5000; i++) expected += i % 250;
assert.strictEqual(took, expected);
console.log("OK regex_parse");
