-- POST /auth/refresh. Refresh tokens rotate: each is good for one use, and a second use
-- revokes its session. Each thread holds a pool of live refresh tokens ($BENCH_POOL, one per
-- line); a request takes one and its response puts the new one back.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local pool = {}
local headers = {}

setup = common.setup
done = common.done

function init(args)
  pool = common.lines_for_thread(os.getenv("BENCH_POOL"), thread_index)
end

function request()
  local token = table.remove(pool, 1)
  if token == nil then
    error("refresh pool exhausted: a response carried no new refresh token")
  end
  headers["Authorization"] = "Bearer " .. token
  return wrk.format("POST", "/auth/refresh", headers)
end

function response(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if status == 200 and token then
    pool[#pool + 1] = token
  end
end
