/**
 * @module core/versions
 * Protocol revisions this server speaks in the initialize-based (stateful) era, newest first.
 * `2026-07-28` is deliberately absent: answering `initialize` with it breaks SDK 1.x clients.
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
