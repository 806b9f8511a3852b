-- token_create.lua: wrk script for bench/kv_write.sh.
--
-- POST /v1/auth/token/create {"policies":["default"],"ttl":"1h"} with an
-- X-Vault-Token header. The request never changes, so no request() function:
-- wrk sends the one request built after init().
--
-- Usage: wrk ... -s bench/token_create.lua https://127.0.0.1:PORT -- TOKEN

function init(args)
  if not args[1] then
    error("usage: -- TOKEN")
  end
  wrk.method = "POST"
  wrk.path = "/v1/auth/token/create"
  wrk.headers["X-Vault-Token"] = args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"policies":["default"],"ttl":"1h"}'
end
