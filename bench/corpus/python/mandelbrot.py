def mandelbrot(width, height, max_iter):
    rows = []
    for y in range(height):
        ci = -1.2 + 2.4 * y / (height - 1)
        row = []
        for x in range(width):
            cr = -2.1 + 2.8 * x / (width - 1)
            zr = zi = 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
                n += 1
            row.append("#" if n == max_iter else ".")
        rows.append("".join(row))
    return rows

art = mandelbrot(120, 60, 60)
inside = sum(r.count("#") for r in art)
assert art == [r for r in reversed(art)]
assert art[30][int((0 + 2.1) / 2.8 * 119)] == "#"
assert art[0][0] == "."
assert 1000 < inside < 2000
print("OK mandelbrot")
