/**
 * The Lua prelude of every limiter script: `now` in milliseconds on Redis's clock, so that all
 * processes agree on windows and deadlines whatever their own clocks say.
 */
export const NOW_MS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
