/**
 * @module http/route-docs
 * The OpenAPI description of every REST route, attached to the route itself as Elysia `detail`
 * (metadata only: the routes parse and check their bodies themselves, so adding Elysia body
 * schemas would change what they accept and how they refuse). The shared parts (error body,
 * common error responses, security schemes) are components the document defines once.
 */
import { t, type DocumentDecoration } from 'elysia'

type Json = Record<string, unknown>

/** `detail` as Elysia types it (OpenAPI 3.0 shapes); our objects are 3.1 and JSON Schema 2020-12. */
const operation = (o: Json): DocumentDecoration => o as DocumentDecoration

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } })
const ref = (name: keyof typeof ERROR_RESPONSES) => ({ $ref: `#/components/responses/${name}` })
const body = (schema: unknown, required = true) => ({ required, content: { 'application/json': { schema } } })

const BEARER = [{ bearer: [] }]
const PUBLIC: never[] = []

const ErrorBody = t.Object(
  {
    error: t.String({ description: 'Stable machine-readable code, e.g. invalid_token, insufficient_tier, mfa_required, rate_limited' }),
    message: t.String({ description: 'What went wrong and what to do next, for people' }),
  },
  { additionalProperties: true, description: 'Every REST error. Some carry more fields: retry_after_s (429), required_tier (403), problems and fields (422).' },
)

const TIER = t.Union([t.Literal('public'), t.Literal('user'), t.Literal('admin')], { description: 'public < user < admin' })
const SignedIn = t.Object({
  token: t.String({ description: 'The bearer token: send it as Authorization: Bearer <token>' }),
  email: t.String(),
  tier: TIER,
  user_id: t.String(),
  expires_at: t.Integer({ description: 'Epoch seconds' }),
})
const MfaVerified = { mfa_verified: t.Literal(true), mfa_expires_at: t.Integer({ description: 'Epoch seconds until which this session may run admin tools' }) }

/** Error responses shared by many operations (`#/components/responses/<name>`). */
const ERROR_RESPONSES = {
  BadRequest: json({ $ref: '#/components/schemas/Error' }, 'The body or a parameter is malformed (invalid_request, invalid_json)'),
  Unauthorized: {
    ...json({ $ref: '#/components/schemas/Error' }, 'No valid bearer token (invalid_token): sign in with POST /auth/login'),
    headers: { 'WWW-Authenticate': { description: 'Bearer resource_metadata="<public URL>/.well-known/oauth-protected-resource"', schema: { type: 'string' } } },
  },
  Forbidden: json({ $ref: '#/components/schemas/Error' }, 'Refused: the Origin or Host is not allowed, or the caller lacks the tier or a recent MFA verification'),
  PayloadTooLarge: json({ $ref: '#/components/schemas/Error' }, 'The body is larger than allowed (payload_too_large)'),
  UnsupportedMediaType: json({ $ref: '#/components/schemas/Error' }, 'The body must be sent as Content-Type: application/json'),
  RateLimited: {
    ...json({ $ref: '#/components/schemas/Error' }, 'Too many requests (rate_limited, mfa_locked): retry after the given time'),
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  },
  InternalError: json({ $ref: '#/components/schemas/Error' }, 'The server failed; details are in its log, never in the answer'),
}

/** The `components` every REST operation may refer to. */
export const API_COMPONENTS = {
  schemas: {
    Error: ErrorBody,
    CallToolResult: t.Object(
      {
        content: t.Array(t.Object({ type: t.String({ description: 'text, image, audio, resource_link or resource' }) }, { additionalProperties: true })),
        structuredContent: t.Optional(t.Object({}, { additionalProperties: true })),
        isError: t.Optional(t.Boolean()),
        _meta: t.Optional(t.Object({}, { additionalProperties: true })),
      },
      { description: 'The MCP CallToolResult, exactly as tools/call returns it' },
    ),
  },
  responses: ERROR_RESPONSES,
  securitySchemes: {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A session token from the sign-in (POST /auth/login, then the emailed link or GET /auth/callback), or from `bun run mcprag user token <email>`.',
    },
    metricsToken: { type: 'http', scheme: 'bearer', description: 'The value of MCPRAG_METRICS_TOKEN.' },
  },
}

/** The tool-call error responses; `toolOperations` and the generic route share them. */
export const toolErrorResponses = (authRequired: boolean): Json => ({
  400: ref('BadRequest'),
  ...(authRequired ? { 401: ref('Unauthorized') } : {}),
  403: ref('Forbidden'),
  404: json({ $ref: '#/components/schemas/Error' }, 'No such tool (unknown_tool)'),
  413: ref('PayloadTooLarge'),
  415: ref('UnsupportedMediaType'),
  422: json({ $ref: '#/components/schemas/Error' }, 'The arguments do not match the input schema (invalid_arguments); `problems` says how and `fields` names them'),
  429: ref('RateLimited'),
  500: json({ $ref: '#/components/schemas/Error' }, 'The tool failed (tool_failed); no internals are returned'),
})

const Tool = t.Object(
  {
    name: t.String(),
    title: t.Optional(t.String()),
    description: t.Optional(t.String()),
    tier: TIER,
    inputSchema: t.Object({}, { additionalProperties: true, description: 'JSON Schema of the arguments' }),
    outputSchema: t.Optional(t.Object({}, { additionalProperties: true })),
    annotations: t.Optional(t.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
)

/** The `detail` of each REST route, by route. */
export const ROUTE_DOCS = {
  health: operation({
    tags: ['Operations'],
    summary: 'Liveness',
    description: 'Answers from memory and touches no dependency: use it as the liveness probe.',
    security: PUBLIC,
    responses: { 200: json(t.Object({ status: t.Literal('ok'), version: t.String(), uptime_s: t.Integer() }), 'The process is alive') },
  }),
  ready: operation({
    tags: ['Operations'],
    summary: 'Readiness',
    description: 'Checks what requests depend on (the auth store). 503 while a check fails, and from the moment shutdown begins (draining) so load balancers stop sending new work while in-flight requests finish.',
    security: PUBLIC,
    responses: {
      200: json(t.Object({ status: t.Literal('ready'), checks: t.Record(t.String(), t.Literal('ok')) }), 'Ready for traffic'),
      503: json(
        t.Object({ status: t.Union([t.Literal('not_ready'), t.Literal('draining')]), checks: t.Record(t.String(), t.String({ description: 'ok, failed or timeout' })) }),
        'Not ready (a check failed) or draining (shutting down)',
      ),
    },
  }),
  metrics: (tokenRequired: boolean) =>
    operation({
      tags: ['Operations'],
      summary: 'Prometheus metrics',
      description: `Metrics in the Prometheus text format (0.0.4).${tokenRequired ? ' Needs Authorization: Bearer <MCPRAG_METRICS_TOKEN>.' : ' Open: set MCPRAG_METRICS_TOKEN to require a token.'}`,
      security: tokenRequired ? [{ metricsToken: [] }] : PUBLIC,
      responses: {
        200: { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...(tokenRequired ? { 401: json({ $ref: '#/components/schemas/Error' }, 'Missing or wrong metrics token') } : {}),
      },
    }),
  listTools: (authRequired: boolean) =>
    operation({
      tags: ['Tools'],
      summary: 'List the tools you may call',
      description: 'The tools at or below your tier, with their input schemas. Each is also documented below as its own POST /mcp/tool/{name} operation.',
      security: authRequired ? BEARER : PUBLIC,
      responses: {
        200: json(t.Object({ tools: t.Array(Tool), total: t.Integer() }), 'The tools'),
        ...(authRequired ? { 401: ref('Unauthorized') } : {}),
        403: ref('Forbidden'),
        429: ref('RateLimited'),
      },
    }),
  login: operation({
    tags: ['Authentication'],
    summary: 'Request a sign-in email',
    description: 'Always the same 200, whether or not the address may sign in (no user enumeration). If it may, an email brings a link and the bare token (valid 10 minutes, usable once).',
    security: PUBLIC,
    requestBody: body(t.Object({ email: t.String({ format: 'email', maxLength: 254 }) })),
    responses: {
      200: json(t.Object({ status: t.Literal('ok'), message: t.String() }), 'Accepted'),
      400: ref('BadRequest'),
      403: ref('Forbidden'),
      413: ref('PayloadTooLarge'),
      415: ref('UnsupportedMediaType'),
      429: ref('RateLimited'),
    },
  }),
  callbackGet: operation({
    tags: ['Authentication'],
    summary: 'Finish signing in (emailed link)',
    description:
      'With `Accept: application/json` (and not text/html) the emailed token is consumed and the session token returned. Browsers, HEAD requests and link checkers get a confirmation page instead, whose button POSTs the token; they consume nothing.',
    security: PUBLIC,
    parameters: [{ name: 'token', in: 'query', required: true, description: 'The emailed sign-in token', schema: { type: 'string' } }],
    responses: {
      200: {
        description: 'Signed in (JSON), or the confirmation page (HTML)',
        content: { 'application/json': { schema: SignedIn }, 'text/html': { schema: { type: 'string' } } },
      },
      400: html('The link is incomplete (HTML)'),
      401: json({ $ref: '#/components/schemas/Error' }, 'The sign-in token is invalid, expired or already used (invalid_token)'),
      403: ref('Forbidden'),
      429: ref('RateLimited'),
    },
  }),
  callbackPost: operation({
    tags: ['Authentication'],
    summary: 'Finish signing in (button or script)',
    description: 'JSON `{"token": "…"}` answers JSON; the confirmation page posts a form and gets a page showing the session token.',
    security: PUBLIC,
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: t.Object({ token: t.String() }) },
        'application/x-www-form-urlencoded': { schema: t.Object({ token: t.String() }) },
      },
    },
    responses: {
      200: { description: 'Signed in', content: { 'application/json': { schema: SignedIn }, 'text/html': { schema: { type: 'string' } } } },
      400: ref('BadRequest'),
      401: json({ $ref: '#/components/schemas/Error' }, 'The sign-in token is invalid, expired or already used (invalid_token)'),
      403: ref('Forbidden'),
      413: ref('PayloadTooLarge'),
      415: ref('UnsupportedMediaType'),
      429: ref('RateLimited'),
    },
  }),
  verifyMfa: operation({
    tags: ['Authentication'],
    summary: 'Verify a TOTP code for this session',
    description: 'Lets the calling session run admin tools for MCPRAG_MFA_WINDOW_S. Wrong codes count towards a lock (429 mfa_locked).',
    security: BEARER,
    requestBody: body(t.Object({ user_id: t.String({ description: 'Your own user id' }), totp_code: t.String({ pattern: '^[0-9]{6}$' }) })),
    responses: {
      200: json(t.Object({ user_id: t.String(), ...MfaVerified }), 'Verified'),
      400: ref('BadRequest'),
      401: json({ $ref: '#/components/schemas/Error' }, 'No valid bearer token, or a wrong or replayed code (invalid_code)'),
      403: ref('Forbidden'),
      413: ref('PayloadTooLarge'),
      415: ref('UnsupportedMediaType'),
      429: ref('RateLimited'),
    },
  }),
  totpEnroll: operation({
    tags: ['Authentication'],
    summary: 'Start TOTP enrolment',
    description: 'Returns a new secret to scan. Replacing a confirmed authenticator needs a recent verification with it (403 mfa_required).',
    security: BEARER,
    responses: {
      200: json(t.Object({ otpauth_uri: t.String(), secret: t.String(), qr_code: t.String({ description: 'PNG data URL' }), next: t.String() }), 'Scan the QR code, then confirm a code'),
      401: ref('Unauthorized'),
      403: ref('Forbidden'),
      429: ref('RateLimited'),
    },
  }),
  totpConfirm: operation({
    tags: ['Authentication'],
    summary: 'Confirm TOTP enrolment',
    description: 'The first correct code confirms the authenticator and verifies this session.',
    security: BEARER,
    requestBody: body(t.Object({ totp_code: t.String({ pattern: '^[0-9]{6}$' }) })),
    responses: {
      200: json(t.Object({ enrolled: t.Literal(true), ...MfaVerified }), 'Enrolled'),
      400: ref('BadRequest'),
      401: json({ $ref: '#/components/schemas/Error' }, 'No valid bearer token, or a wrong code (invalid_code)'),
      403: ref('Forbidden'),
      409: json({ $ref: '#/components/schemas/Error' }, 'Already confirmed (already_enrolled)'),
      413: ref('PayloadTooLarge'),
      415: ref('UnsupportedMediaType'),
      429: ref('RateLimited'),
    },
  }),
  wsTicket: operation({
    tags: ['Authentication'],
    summary: 'Get a WebSocket ticket',
    description: 'A single-use ticket for browsers, which cannot set Authorization on a WebSocket: connect to `/mcp/ws?ticket=…` within `expires_in` seconds. It stands for this token\'s session (its revocation, tier and MFA state apply).',
    security: BEARER,
    responses: {
      200: json(t.Object({ ticket: t.String({ description: 'wst_…, valid for one upgrade' }), expires_in: t.Integer({ description: 'Seconds' }) }), 'The ticket'),
      401: ref('Unauthorized'),
      403: ref('Forbidden'),
      429: ref('RateLimited'),
    },
  }),
  logout: operation({
    tags: ['Authentication'],
    summary: 'Sign out',
    description: 'Revokes this token\'s session (`{"all": true}`: every session of the user) and closes its open streams and WebSockets.',
    security: BEARER,
    requestBody: body(t.Object({ all: t.Optional(t.Boolean()) }), false),
    responses: {
      200: json(t.Object({ status: t.Literal('signed_out'), revoked_sessions: t.Integer() }), 'Signed out'),
      400: ref('BadRequest'),
      401: ref('Unauthorized'),
      403: ref('Forbidden'),
      413: ref('PayloadTooLarge'),
      415: ref('UnsupportedMediaType'),
      429: ref('RateLimited'),
    },
  }),
  protectedResource: (which: string) =>
    operation({
      tags: ['Authentication'],
      summary: which === 'server' ? 'Protected resource metadata (RFC 9728)' : `Protected resource metadata of /${which} (RFC 9728)`,
      description: 'Where MCP clients look after a 401: which authorization server issues tokens for this resource.',
      security: PUBLIC,
      responses: {
        200: json(
          t.Object({
            resource: t.String(),
            authorization_servers: t.Array(t.String()),
            scopes_supported: t.Array(t.String()),
            bearer_methods_supported: t.Array(t.String()),
            resource_name: t.String(),
            resource_documentation: t.String(),
            mcprag_sign_in: t.String(),
          }),
          'The metadata',
        ),
      },
    }),
  /** An endpoint of the OAuth 2.1 authorization server (its RFC 8414 metadata describes them all). */
  oauth: (summary: string, description: string) => operation({ tags: ['OAuth 2.1'], summary, description, security: PUBLIC }),
  /** The generic tool route: each tool is documented as its own operation instead. */
  hidden: operation({ hide: true }),
}
