/**
 * /openapi.json and /docs over a real port: the document is valid OpenAPI 3.1, documents every
 * REST route with its errors and every registered tool as its own operation (generated from the
 * registry at request time), leaves the MCP transports out, and the page loads only local files.
 * The Origin guard accepts the server's own origin (the page's "Try it out") and nothing more.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { post } from '../_utils/http.ts'
import { startAuthServer, startTestServer, type TestServer } from '../_utils/server.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const MCP_PATHS = ['/mcp', '/sse', '/messages', '/mcp/sse', '/mcp/messages', '/mcp/ws']

const documentOf = async (s: TestServer): Promise<Json> => {
  const res = await fetch(`${s.url}/openapi.json`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('application/json')
  return (await res.json()) as Json
}

const validate = async (doc: Json) => {
  const result = await new Validator().validate(structuredClone(doc))
  return result.valid ? 'valid' : result.errors
}

/** Resolve a local `$ref` (`#/a/b~1c`) inside the document. */
function resolve(doc: Json, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true)
  return ref
    .slice(2)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((at, key) => (at as Json | undefined)?.[key], doc)
}

function refsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsOf(v, out))
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refsOf(v, out)
    }
  return out
}

describe('with authentication on', () => {
  let s: TestServer
  let doc: Json
  beforeAll(async () => {
    s = await startAuthServer()
    doc = await documentOf(s)
  })
  afterAll(() => s.stop())

  test('the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(await validate(doc)).toBe('valid')
  })

  test('every $ref resolves inside the document', () => {
    const refs = refsOf(doc)
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of refs) expect({ ref, found: resolve(doc, ref) !== undefined }).toEqual({ ref, found: true })
  })

  test('every REST route is documented with a summary, tags, security and its error responses', () => {
    const rest = [
      'GET /health', 'GET /ready', 'GET /metrics', 'GET /mcp/tools',
      'GET /.well-known/oauth-protected-resource', 'GET /.well-known/oauth-protected-resource/mcp',
      'POST /auth/login', 'GET /auth/callback', 'POST /auth/callback', 'POST /auth/verify-mfa',
      'POST /auth/totp/enroll', 'POST /auth/totp/confirm', 'POST /auth/ws-ticket', 'POST /auth/logout',
    ]
    for (const op of rest) {
      const [method, path] = op.split(' ') as [string, string]
      const o = doc.paths[path]?.[method.toLowerCase()]
      expect({ op, documented: o !== undefined }).toEqual({ op, documented: true })
      expect(o.summary).toBeString()
      expect(o.tags.length).toBeGreaterThan(0)
      expect(Array.isArray(o.security)).toBe(true)
      expect(Object.keys(o.responses)).toContain('200')
    }
    const bodies = ['/auth/login', '/auth/verify-mfa', '/auth/totp/confirm', '/auth/callback']
    for (const path of bodies) expect(doc.paths[path].post.requestBody.content['application/json'].schema.type).toBe('object')
    expect(Object.keys(doc.paths['/auth/login'].post.responses)).toEqual(expect.arrayContaining(['400', '413', '415', '429']))
    expect(doc.paths['/auth/logout'].post.security).toEqual([{ bearer: [] }])
    expect(doc.paths['/auth/login'].post.security).toEqual([])
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  test('the MCP transports, the generic tool route and the page itself are left out', () => {
    for (const path of [...MCP_PATHS, '/mcp/tool/*', '/mcp/tool/{*}', '/docs', '/openapi.json', '/docs/assets/{file}']) expect(doc.paths[path]).toBeUndefined()
    for (const path of Object.keys(doc.paths)) for (const m of Object.keys(doc.paths[path])) expect(m).not.toBe('options')
    expect(doc.info.description).toContain('`/mcp`')
  })

  test('every registered tool is its own POST /mcp/tool/{name}: input schema as body, tier tag, bearer security', () => {
    const tools = s.registry.tools()
    expect(tools.map((t) => t.definition.name)).toEqual(['echo', 'whoami', 'audit_query', 'search_code', 'analyze_context', 'generate_code', 'index_status', 'reindex'])
    for (const tool of tools) {
      const op = doc.paths[`/mcp/tool/${tool.definition.name}`].post
      expect(op.requestBody.content['application/json'].schema).toEqual(tool.descriptor.inputSchema)
      expect(op.tags).toEqual([`Tools: ${tool.tier}`])
      expect(op['x-mcprag-tier']).toBe(tool.tier)
      expect(op.security).toEqual([{ bearer: [] }])
      expect(Object.keys(op.responses)).toEqual(['200', '400', '401', '403', '404', '413', '415', '422', '429', '500'])
    }
    expect(doc.paths['/mcp/tool/echo'].post.requestBody.required).toBe(true)
    expect(doc.paths['/mcp/tool/whoami'].post.requestBody.required).toBe(false)
    expect(doc.paths['/mcp/tool/audit_query'].post.description).toContain('MFA')
    // An output schema becomes the 200 body's structuredContent.
    const whoami = doc.paths['/mcp/tool/whoami'].post.responses['200'].content['application/json'].schema.properties.result
    expect(whoami.allOf[1].properties.structuredContent).toEqual(s.registry.getTool('whoami')!.definition.outputSchema)
    expect(doc.tags.map((t: Json) => t.name)).toEqual(expect.arrayContaining(['Tools: public', 'Tools: user', 'Tools: admin']))
  })

  test('registering a tool adds its operation at once, removing it drops it, with no other change', async () => {
    s.registry.tool({
      name: 'late.arrival',
      title: 'Late arrival',
      description: 'Registered after the server started.',
      tier: 'admin',
      inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] },
      handler: () => ({ content: [] }),
    })
    try {
      const after = await documentOf(s)
      const op = after.paths['/mcp/tool/late.arrival']?.post
      expect(op).toMatchObject({ summary: 'Late arrival', tags: ['Tools: admin'], security: [{ bearer: [] }], operationId: 'callTool_late.arrival' })
      expect(op.requestBody.content['application/json'].schema.required).toEqual(['n'])
      expect(await validate(after)).toBe('valid')
    } finally {
      s.registry.removeTool('late.arrival')
    }
    expect((await documentOf(s)).paths['/mcp/tool/late.arrival']).toBeUndefined()
  })
})

describe('with authentication off and the conformance fixtures', () => {
  let s: TestServer
  let doc: Json
  beforeAll(async () => {
    s = await startTestServer()
    doc = await documentOf(s)
  })
  afterAll(() => s.stop())

  test('the document is valid, has every fixture tool, and asks for no token', async () => {
    expect(await validate(doc)).toBe('valid')
    for (const tool of s.registry.tools()) expect(doc.paths[`/mcp/tool/${tool.definition.name}`].post.security).toEqual([])
    expect(doc.paths['/auth/login']).toBeUndefined()
    expect(doc.info.description).toContain('MCPRAG_AUTH=off')
  })

  test("a tool schema's local $refs are rebased to where the schema sits in the document", () => {
    const schema = doc.paths['/mcp/tool/json_schema_2020_12_tool'].post.requestBody.content['application/json'].schema
    const ref = schema.properties.address.$ref as string
    expect(ref).not.toBe('#/$defs/address')
    expect(resolve(doc, ref)).toEqual(schema.$defs.address)
  })

  test('/docs loads Swagger UI from this server only, under a CSP that allows nothing else', async () => {
    const res = await fetch(`${s.url}/docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await res.text()
    const sources = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1])
    expect(sources).toEqual(['docs/assets/swagger-ui.css', 'docs/assets/swagger-ui-bundle.js'])
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'$|script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/)
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')

    const js = await fetch(`${s.url}/docs/assets/swagger-ui-bundle.js`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await js.text()).length).toBeGreaterThan(100_000)
    const css = await fetch(`${s.url}/docs/assets/swagger-ui.css`)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    await css.arrayBuffer()
    for (const name of ['package.json', 'index.html', '..%2Fpackage.json', '%2e%2e%2fpackage.json', 'constructor', '__proto__'])
      expect((await fetch(`${s.url}/docs/assets/${name}`)).status).toBe(404)
  })
})

describe("the Origin guard accepts the server's own origin and nothing more", () => {
  let s: TestServer
  beforeAll(async () => {
    // An allowlist that does not cover loopback: only the automatic own origin can let the page in.
    s = await startTestServer({ MCPRAG_ALLOWED_ORIGINS: 'https://app.example.com' })
  })
  afterAll(() => s.stop())

  const callEcho = (origin: string) =>
    fetch(`${s.url}/mcp/tool/echo`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ text: 'hi' }) })

  test('the page origin (the listening URL) may call tools, and gets CORS headers', async () => {
    const res = await callEcho(s.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(s.url)
    const configured = await callEcho('https://app.example.com')
    expect(configured.status).toBe(200)
  })

  test('an evil origin, another loopback port or a lookalike stays 403 on REST, preflight and MCP', async () => {
    const port = s.port === 65535 ? 65534 : s.port + 1
    // (`http://localhost:<this port>` is this same server under another loopback name: allowed.)
    for (const origin of ['https://evil.example', `http://127.0.0.1:${port}`, `https://127.0.0.1:${s.port}`, `http://localhost:${port}`, 'null']) {
      const res = await callEcho(origin)
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await fetch(`${s.url}/mcp/tool/echo`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } })
      expect({ origin, status: preflight.status }).toEqual({ origin, status: 403 })
      const mcp = await post(s.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'ping' }, { origin })
      expect({ origin, status: mcp.status }).toEqual({ origin, status: 403 })
    }
  })

  test('a preflight from the page origin is answered with the methods and headers "Try it out" needs', async () => {
    const res = await fetch(`${s.url}/mcp/tool/echo`, { method: 'OPTIONS', headers: { origin: s.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(s.url)
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization')
  })
})
