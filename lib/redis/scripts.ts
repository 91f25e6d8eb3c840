import "server-only";

/**
 * Appends an event to its channel's history and publishes it, in one atomic step, so no
 * subscriber sees a live event that history lacks and nothing sits in history that was
 * never published. The stream id becomes the event's `id:`: the script appends
 * `id: <id>\n\n` to the body exactly as `closeFrame` in `lib/sse/frame.ts` does (keep them
 * in step; that module is the one place that defines SSE bytes).
 *
 * KEYS[1] history stream, KEYS[2] idempotency key (same slot; unused when ARGV[5] is "0")
 * ARGV[1] pub/sub channel, ARGV[2] frame body, ARGV[3] max length, ARGV[4] TTL in seconds,
 * ARGV[5] "1" when KEYS[2] is an idempotency key, ARGV[6] PUBLISH, or SPUBLISH on a cluster
 * (sharded pub/sub: the channel hashes to the same slot as the keys' `{channel}` tag),
 * ARGV[7] events kept past the TTL (the newest N), ARGV[8] seconds an idle channel keeps them
 * Returns { id, receivers } or { first id, -1 } for a duplicate.
 */
export const PUBLISH_SCRIPT = `
if ARGV[5] == '1' then
  local seen = redis.call('GET', KEYS[2])
  if seen then return {seen, -1} end
end
local id = redis.call('XADD', KEYS[1], '*', 'f', ARGV[2])
-- Trim with XDEL rather than XADD MAXLEN / XTRIM: only XDEL moves the stream's
-- max-deleted-entry-id, which READ_SINCE_SCRIPT uses to tell a gap from a clean resume.
local function drop(entries)
  if #entries == 0 then return end
  local ids = {}
  for i, entry in ipairs(entries) do ids[i] = entry[1] end
  redis.call('XDEL', KEYS[1], unpack(ids))
end
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then drop(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)) end
-- Events older than the TTL go, but the newest ARGV[7] stay; the stream itself lives until
-- the channel has been idle for the longer of the two times.
local now = redis.call('TIME')
local minid = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4]) * 1000
local removable = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[7])
if minid > 0 and removable > 0 then
  drop(redis.call('XRANGE', KEYS[1], '-', '(' .. minid .. '-0', 'COUNT', math.min(100, removable)))
end
redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[4]), tonumber(ARGV[8])))
if ARGV[5] == '1' then redis.call('SET', KEYS[2], id, 'EX', ARGV[4]) end
local receivers = redis.call(ARGV[6], ARGV[1], ARGV[2] .. 'id: ' .. id .. '\\n\\n')
return {id, receivers}
`;

/**
 * Reads a channel's history after a position, and says whether that position can be
 * resumed without a gap: it must not be newer than the last id, nothing newer than it may
 * have been trimmed, and (unless it is 0-0) it must still be in the stream or older than
 * the newest trimmed id. An expired or missing stream can resume only from 0-0.
 *
 * KEYS[1] history stream, KEYS[2] its deleted ids (a set, same slot); ARGV[1] position (""
 * for none), ARGV[2] most entries to read
 * Returns { "ok" | "gap", last id, entries (XRANGE reply, deleted ones left out), the last id
 * read ("" for none), 1 when the read stopped at its limit }.
 */
export const READ_SINCE_SCRIPT = `
local function cmp(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
local position = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  if position == '' or position == '0-0' then return {'ok', '0-0', {}} end
  return {'gap', '0-0', {}}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, deleted = '0-0', '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
  if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
end
if position == '' then return {'ok', last, {}} end
if cmp(position, last) > 0 or cmp(deleted, position) > 0 then return {'gap', last, {}} end
if position ~= '0-0' and cmp(position, deleted) > 0 then
  if #redis.call('XRANGE', KEYS[1], position, position) == 0 then return {'gap', last, {}} end
end
local entries = redis.call('XRANGE', KEYS[1], '(' .. position, '+', 'COUNT', ARGV[2])
local through = ''
if #entries > 0 then through = entries[#entries][1] end
local more = 0
if #entries >= tonumber(ARGV[2]) then more = 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  local kept = {}
  for _, entry in ipairs(entries) do
    if redis.call('SISMEMBER', KEYS[2], entry[1]) == 0 then kept[#kept + 1] = entry end
  end
  entries = kept
end
return {'ok', last, entries, through, more}
`;
