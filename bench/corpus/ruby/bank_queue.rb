class Account
  attr_reader :balance
  def initialize(balance) = @balance = balance
  def withdraw(n)
    raise ArgumentError, "insufficient" if n > @balance
    @balance -= n
  end
  def deposit(n) = @balance += n
end

rng = Random.new(4)
accounts = Array.new(30) { Account.new(500) }
refused = 0
10_000.times do
  a, b = accounts.sample(2, random: rng)
  amount = rng.rand(1..200)
  begin
    a.withdraw(amount)
    b.deposit(amount)
  rescue ArgumentError
    refused += 1
  end
end
raise "total" unless accounts.sum(&:balance) == 30 * 500
raise "negative" if accounts.any? { |a| a.balance.negative? }
raise "refused" unless refused.positive?
puts "OK bank_queue"
