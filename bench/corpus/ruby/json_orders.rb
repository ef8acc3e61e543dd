require 'json'

orders = (0...800).map do |i|
  { "id" => i, "customer" => "c#{i % 37}", "lines" => (0...(i % 5)).map { |j| { "sku" => "S#{j}", "qty" => j + 1, "cents" => 150 * (j + 1) } } }
end
decoded = JSON.parse(JSON.generate(orders))
raise "roundtrip" unless decoded == orders
totals = Hash.new(0)
decoded.each { |o| o["lines"].each { |l| totals[o["customer"]] += l["qty"] * l["cents"] } }
expected = (0...800).sum { |i| (0...(i % 5)).sum { |j| (j + 1) * 150 * (j + 1) } }
raise "total" unless totals.values.sum == expected
raise "pretty" unless JSON.parse(JSON.pretty_generate(orders)) == orders
puts "OK json_orders"
