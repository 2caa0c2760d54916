// Preloaded by bunfig.toml before every test file: keep tests from inheriting a developer's env.
for (const key of Object.keys(process.env)) if (key.startsWith('MCPRAG_')) delete process.env[key]
// Redis is for the tests that ask for it (test/_utils/redis.ts), never inherited by a spawned
// server or CLI by accident: those would share state the test did not set up.
if (process.env.REDIS_URL) process.env.TEST_REDIS_URL = process.env.REDIS_URL
delete process.env.REDIS_URL
