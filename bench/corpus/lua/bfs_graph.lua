local function bfs(adj, s)
  local dist, queue, head = { [s] = 0 }, { s }, 1
  while head <= #queue do
    local u = queue[head]; head = head + 1
    for _, v in ipairs(adj[u]) do
      if dist[v] == nil then dist[v] = dist[u] + 1; queue[#queue + 1] = v end
    end
  end
  return dist
end

local n = 2000
local adj = {}
for i = 1, n do adj[i] = {} end
for i = 1, n - 1 do
  table.insert(adj[i], i + 1); table.insert(adj[i + 1], i)
end
for i = 1, n, 100 do
  table.insert(adj[i], n - i + 1); table.insert(adj[n - i + 1], i)
end
local d = bfs(adj, 1)
assert(d[1] == 0 and d[2] == 1 and d[n] == 1)
for i = 1, n do assert(d[i] ~= nil) end
local path = {}
for i = 1, 10 do path[i] = {} end
for i = 1, 9 do table.insert(path[i], i + 1) end
assert(bfs(path, 1)[10] == 9)
print("OK bfs_graph")
