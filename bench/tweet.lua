-- wrk script: POST /api/tweets/ as a different seeded user on each request (tokens from $TOKENS_FILE).
local tokens = {}
local i = 0
local n = 0
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  n = n + 1
  local body = '{"content": "benchmark tweet number ' .. n .. ' from the load tool"}'
  return wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json" }, body)
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 201 then
    io.stderr:write("status " .. status .. "\n")
  end
end
