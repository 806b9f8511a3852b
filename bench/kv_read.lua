-- kv_read.lua: wrk script for bench/kv_read_vs_nginx.sh.
--
-- GETs PREFIX .. "0000" up to PREFIX .. (N-1) (four digits), in rotation,
-- with an X-Vault-Token header. Each wrk thread has its own Lua state and
-- starts at a different point of the rotation. All N requests are built once
-- in init(), so that wrk, which shares the CPUs with the server, spends as
-- little as possible per request.
--
-- Usage: wrk ... -s bench/kv_read.lua https://127.0.0.1:PORT -- TOKEN N PREFIX
--   e.g. -- bench-root-token 1000 /v1/secret/data/bench/k

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local requests = {}
local count = 0
local pos = 0

function init(args)
  local token, n, prefix = args[1], tonumber(args[2]), args[3]
  if not token or not n or n < 1 or n > 10000 or not prefix then
    error("usage: -- TOKEN N PREFIX (N between 1 and 10000)")
  end
  wrk.headers["X-Vault-Token"] = token
  for i = 0, n - 1 do
    requests[i] = wrk.format("GET", string.format("%s%04d", prefix, i))
  end
  count = n
  -- A prime stride spreads the threads' starting points over the keys.
  pos = ((thread_index or 0) * 487) % n
end

function request()
  local r = requests[pos]
  pos = pos + 1
  if pos == count then
    pos = 0
  end
  return r
end
