import random

class InsufficientFunds(Exception):
    pass

class Account:
    def __init__(self, owner, balance=0):
        self.owner, self.balance, self.history = owner, balance, []

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        self.history.append(amount)

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(self.owner)
        self.balance -= amount
        self.history.append(-amount)

class Bank:
    def __init__(self):
        self.accounts = {}

    def open(self, owner, initial):
        self.accounts[owner] = Account(owner, initial)

    def transfer(self, a, b, amount):
        self.accounts[a].withdraw(amount)
        self.accounts[b].deposit(amount)

    def total(self):
        return sum(acc.balance for acc in self.accounts.values())

rng = random.Random(41)
bank = Bank()
for i in range(50):
    bank.open(f"c{i}", 1000)
refused = 0
for _ in range(20000):
    a, b = rng.sample(sorted(bank.accounts), 2)
    try:
        bank.transfer(a, b, rng.randint(1, 400))
    except InsufficientFunds:
        refused += 1
assert bank.total() == 50 * 1000
assert all(acc.balance >= 0 for acc in bank.accounts.values())
assert all(1000 + sum(acc.history) == acc.balance for acc in bank.accounts.values())
assert refused > 0
try:
    bank.accounts["c0"].deposit(0)
    raise SystemExit("a zero deposit was accepted")
except ValueError:
    pass
print("OK bank_accounts")
