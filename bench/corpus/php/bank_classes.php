<?php
class InsufficientFunds extends Exception {}
class Account {
    public function __construct(public readonly string $owner, private int $balance) {}
    public function balance(): int { return $this->balance; }
    public function withdraw(int $n): void {
        if ($n > $this->balance) throw new InsufficientFunds($this->owner);
        $this->balance -= $n;
    }
    public function deposit(int $n): void { $this->balance += $n; }
}
mt_srand(11);
$accounts = [];
for ($i = 0; $i < 40; $i++) $accounts[] = new Account("c$i", 1000);
$refused = 0;
for ($t = 0; $t < 20000; $t++) {
    $a = $accounts[mt_rand(0, 39)]; $b = $accounts[mt_rand(0, 39)];
    $n = mt_rand(1, 400);
    try { $a->withdraw($n); $b->deposit($n); } catch (InsufficientFunds $e) { $refused++; }
}
$total = array_sum(array_map(fn($a) => $a->balance(), $accounts));
if ($total !== 40000 || $refused === 0) { fwrite(STDERR, "total $total\n"); exit(1); }
foreach ($accounts as $a) if ($a->balance() < 0) exit(1);
echo "OK bank_classes\n";
