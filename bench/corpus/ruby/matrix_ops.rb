require 'matrix'

def multiply(a, b)
  a.map { |row| b.transpose.map { |col| row.zip(col).sum { |x, y| x * y } } }
end

rng = Random.new(2)
a = Array.new(40) { Array.new(40) { rng.rand(-9..9) } }
b = Array.new(40) { Array.new(40) { rng.rand(-9..9) } }
raise "product" unless Matrix[*multiply(a, b)] == Matrix[*a] * Matrix[*b]
m = Matrix[[2, 1, 1], [1, 3, 2], [1, 0, 0]]
raise "det" unless m.determinant == -1
raise "inverse" unless m * m.inverse == Matrix.identity(3)
puts "OK matrix_ops"
