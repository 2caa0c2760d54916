/**
 * @module core/versions
 * Protocol revisions this server speaks, per era. The initialize-based (stateful) era is listed
 * newest first; `2026-07-28` is deliberately absent from it: answering `initialize` with it breaks
 * SDK 1.x clients. The per-request era (2026-07-28: no initialize, no session) has its own list.
 */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number]
export const LATEST_PROTOCOL_VERSION: ProtocolVersion = '2025-11-25'
/** What a request without `MCP-Protocol-Version` is assumed to speak (transports spec, 2025-06-18+). */
export const DEFAULT_NEGOTIATED_VERSION: ProtocolVersion = '2025-03-26'

export function isSupportedVersion(v: unknown): v is ProtocolVersion {
  return typeof v === 'string' && (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(v)
}

/** Echo a supported requested version, otherwise offer our latest (the client then decides). */
export function negotiateVersion(requested: unknown): ProtocolVersion {
  return isSupportedVersion(requested) ? requested : LATEST_PROTOCOL_VERSION
}

/** Revision dates compare lexically. */
export function versionAtLeast(v: string, min: ProtocolVersion): boolean {
  return v >= min
}

/** JSON-RPC batches were part of one revision only: 2025-03-26 added them, 2025-06-18 removed them. */
export function allowsBatches(v: string): boolean {
  return v === '2025-03-26'
}

/** Revisions served per request, without initialize or a session (`server/discover` lists them). */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const
const FIRST_MODERN_VERSION = '2026-07-28'
const REVISION_DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * Whether a revision named in an MCP-Protocol-Version header claims the per-request era: a date
 * from 2026-07-28 on (a later one is served, or refused with -32022, by the modern rules). Other
 * values ("latest", an old date) stay legacy, refused as an unsupported 2025-era header.
 */
export function namesModernVersion(v: string | null): boolean {
  return v !== null && v >= FIRST_MODERN_VERSION && REVISION_DATE.test(v)
}

export function isServedModernVersion(v: string): boolean {
  return (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(v)
}
