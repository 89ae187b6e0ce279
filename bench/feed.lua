-- wrk script: GET the newsfeed as a different seeded user on each request (tokens from $TOKENS_FILE).
-- With DELAY_MS set, every connection waits that long between requests (an approximately fixed rate).
local tokens = {}
local i = 0
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[i] })
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
