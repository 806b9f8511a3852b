-- kv_write.lua: wrk script for bench/kv_write.sh.
--
-- POSTs {"data":{"v":"<200 bytes>"}} to PREFIX .. n, where n is different for
-- every request of the run: thread t (of T) uses n = BASE + t, BASE + t + T,
-- BASE + t + 2T, ... so no two requests, in any thread, write the same key.
-- Each request is therefore a KV v2 create (version 1), never an update.
-- (wrk calls request() once on the first thread to check the script and
-- discards that request, so key BASE itself is never written.)
--
-- Usage: wrk ... -s bench/kv_write.lua https://127.0.0.1:PORT -- TOKEN T BASE PREFIX
--   T = wrk's -t, BASE = first key number (use a new range each run),
--   e.g. -- bench-root-token 2 100000000 /v1/secret/data/wbench/

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local stride = 1
local n = 0
local prefix = ""
local body = ""

function init(args)
  local token, threads, base = args[1], tonumber(args[2]), tonumber(args[3])
  prefix = args[4]
  if not token or not threads or threads < 1 or not base or not prefix then
    error("usage: -- TOKEN THREADS BASE PREFIX")
  end
  wrk.method = "POST"
  wrk.headers["X-Vault-Token"] = token
  wrk.headers["Content-Type"] = "application/json"
  -- 200 bytes of printable data. The same value for every key: the server
  -- encrypts and stores it the same way whatever it holds.
  local value = string.sub(string.rep("0123456789abcdefghijklmnopqrstuvwxyz", 6), 1, 200)
  body = '{"data":{"v":"' .. value .. '"}}'
  if thread_index == nil then
    -- Without setup() every thread would write the same keys (updates).
    error("thread_index not set by setup()")
  end
  stride = threads
  n = base + thread_index
end

function request()
  local path = string.format("%s%d", prefix, n)
  n = n + stride
  return wrk.format(nil, path, nil, body)
end
