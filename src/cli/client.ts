/**
 * @module cli/client
 * The command line for people and scripts, against a running server's REST API:
 *
 *   search <query…> [--lang L] [--limit N] [--path P] [--repo R] [--mode auto|symbol|exact]
 *   analyze <file_path> | --symbol NAME | --code FILE [--lang L] [--repo R]
 *   generate <description…> [--lang L] [--file PATH] [--repo R] [--tokens N]
 *   tools                       the tools you may call
 *   call <tool> ['{json}']      any tool, arguments as a JSON object
 *   login <email> [--token T]   magic-link sign-in; the bearer token is saved for later commands
 *
 * Every command takes --json for the raw result. Exit codes: 0 done, 1 refused or failed, 2 usage.
 */
import { readFileSync } from 'node:fs'
import { loadClientConfig } from '../config.ts'
import type { CallToolResult } from '../core/types.ts'
import { RestClient, RestError } from './rest-client.ts'

export const CLIENT_COMMANDS = ['search', 'analyze', 'generate', 'tools', 'call', 'login'] as const

export const CLIENT_USAGE = `usage: bun run mcprag <command> [--json]   (server: MCPRAG_URL, default http://127.0.0.1:3000)
  search <query…> [--lang L] [--limit N] [--path P] [--repo R] [--mode auto|symbol|exact]
  analyze <file_path> | --symbol NAME | --code FILE [--lang L] [--repo R]
  generate <description…> [--lang L] [--file PATH] [--repo R] [--tokens N]
  tools
  call <tool> ['{"arg": "value"}']
  login <email> [--token EMAILED_TOKEN]`

export class ClientUsageError extends Error {}

const FLAGS_WITHOUT_VALUE = new Set(['json'])

function parse(args: string[]): { words: string[]; opts: Record<string, string> } {
  const words: string[] = []
  const opts: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('--')) {
      words.push(a)
      continue
    }
    const name = a.slice(2)
    if (FLAGS_WITHOUT_VALUE.has(name)) opts[name] = 'true'
    else {
      const value = args[++i]
      if (value === undefined) throw new ClientUsageError(`${a} needs a value`)
      opts[name] = value
    }
  }
  return { words, opts }
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new ClientUsageError(`--${name} must be a positive integer (got "${value}")`)
  return n
}

/** Only the arguments that were given: the server rejects unknown or null ones by name. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

const textOf = (r: CallToolResult) => r.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n')

interface Hit {
  rank: number
  repo: string
  path: string
  start_line: number
  end_line: number
  symbol: string
  kind: string
  score: number
  snippet: string
  revision: string
}

function formatSearch(s: { results: Hit[]; took_ms: number; total_candidates: number; mode: string }): string {
  if (s.results.length === 0) return `no results (${s.mode}, ${s.took_ms} ms)`
  const blocks = s.results.map((h) => {
    const head = `${h.rank}. ${h.repo}:${h.path}:${h.start_line}-${h.end_line}${h.symbol ? `  ${h.symbol}` : ''}  [${h.kind}, ${h.score}]`
    const body = h.snippet.split('\n').slice(0, 4).map((l) => `     ${l}`).join('\n')
    return `${head}\n${body}`
  })
  return `${blocks.join('\n')}\n(${s.results.length} of ${s.total_candidates} candidates, ${s.mode}, ${s.took_ms} ms, revision ${s.results[0]!.revision})`
}

export async function runClient(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv
  const { words, opts } = parse(rest)
  const json = opts.json === 'true'
  const client = new RestClient(loadClientConfig())
  const show = (result: CallToolResult, readable: () => string) => {
    out(json ? JSON.stringify(result.structuredContent ?? result, null, 2) : result.isError ? textOf(result) : readable())
    return result.isError ? 1 : 0
  }
  try {
    switch (command) {
      case 'search': {
        if (words.length === 0) throw new ClientUsageError('search needs a query: bun run mcprag search "parse the config"')
        const args = defined({ query: words.join(' '), language: opts.lang, limit: int(opts.limit, 'limit'), path: opts.path, repo: opts.repo, mode: opts.mode })
        const r = await client.callTool('search_code', args)
        return show(r, () => formatSearch(r.structuredContent as never))
      }
      case 'analyze': {
        const code = opts.code === undefined ? undefined : readFileSync(opts.code === '-' ? 0 : opts.code, 'utf8')
        const target = defined({ file_path: words[0], symbol: opts.symbol, code })
        if (Object.keys(target).length !== 1) throw new ClientUsageError('analyze needs one of: a file path, --symbol NAME, or --code FILE (- for stdin)')
        const r = await client.callTool('analyze_context', defined({ ...target, language: opts.lang, repo: opts.repo }))
        return show(r, () => textOf(r))
      }
      case 'generate': {
        if (words.length === 0) throw new ClientUsageError('generate needs a description: bun run mcprag generate "a function that …"')
        const r = await client.callTool('generate_code', defined({ description: words.join(' '), language: opts.lang, file_path: opts.file, repo: opts.repo, max_context_tokens: int(opts.tokens, 'tokens') }))
        return show(r, () => {
          const s = r.structuredContent as { sampled: boolean; code?: string; context: unknown[]; context_tokens: number }
          if (s.sampled) return s.code ?? textOf(r)
          return `${textOf(r)}\n\n(not generated here: the server cannot sample over REST. Give the prompt above to a model; ${s.context.length} chunks, ${s.context_tokens} tokens of context)`
        })
      }
      case 'tools': {
        const tools = await client.listTools()
        out(json ? JSON.stringify(tools, null, 2) : tools.map((t) => `${t.name.padEnd(16)} ${t.tier.padEnd(7)} ${(t.description ?? '').split(/(?<=\.)\s/)[0]}`).join('\n'))
        return 0
      }
      case 'call': {
        const [name, raw] = words
        if (!name) throw new ClientUsageError('call needs a tool name: bun run mcprag call echo \'{"text":"hi"}\'')
        let args: unknown = {}
        try {
          args = raw === undefined ? {} : JSON.parse(raw)
        } catch {
          throw new ClientUsageError(`the arguments must be a JSON object (got ${raw})`)
        }
        if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ClientUsageError('the arguments must be a JSON object')
        const r = await client.callTool(name, args as Record<string, unknown>)
        out(json ? JSON.stringify(r, null, 2) : textOf(r))
        return r.isError ? 1 : 0
      }
      case 'login': {
        const email = words[0]
        if (!email) throw new ClientUsageError('login needs your email address: bun run mcprag login ada@example.com')
        let token = opts.token
        if (!token) {
          await client.requestLogin(email)
          token = prompt(`A sign-in email is on its way to ${email} (if it may sign in). Paste its token:`)?.trim()
          if (!token) throw new ClientUsageError('no token given')
        }
        const done = await client.completeLogin(token)
        const file = client.saveToken(done)
        out(json ? JSON.stringify({ email: done.email, tier: done.tier, expires_at: done.expires_at, saved_to: file }) : `signed in as ${done.email} (tier ${done.tier}) until ${new Date(done.expires_at * 1000).toISOString()}; token saved to ${file}`)
        return 0
      }
      default:
        throw new ClientUsageError(CLIENT_USAGE)
    }
  } catch (err) {
    if (err instanceof RestError) {
      if (json) out(JSON.stringify({ error: err.message, status: err.status }))
      else console.error(`error: ${err.message}`)
      return 1
    }
    throw err
  }
}
