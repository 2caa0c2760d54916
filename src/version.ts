/**
 * @module version
 * The server's name and version, as reported by `initialize` and `/health`.
 */
import pkg from '../package.json' with { type: 'json' }

export const SERVER_NAME = 'mcprag'
export const SERVER_VERSION: string = pkg.version
