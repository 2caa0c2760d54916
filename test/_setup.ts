// Preloaded by bunfig.toml before every test file: keep tests from inheriting a developer's env.
for (const key of Object.keys(process.env)) if (key.startsWith('MCPRAG_')) delete process.env[key]
