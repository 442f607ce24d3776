-- POST /auth/login with one account's credentials ($BENCH_USERNAME, $BENCH_PASSWORD).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

wrk.method = "POST"
wrk.path = "/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"username": "%s", "password": "%s"}',
  os.getenv("BENCH_USERNAME"), os.getenv("BENCH_PASSWORD"))

setup = common.setup
done = common.done
