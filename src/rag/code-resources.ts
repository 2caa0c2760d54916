/**
 * @module rag/code-resources
 * Indexed files as resources `mcprag://{repo}/{+path}`: listed (only the repositories the caller
 * may read), read (the indexed bytes, not whatever is on disk now), completed by path prefix, and
 * announced when they change. Server paths and `file://` URIs never appear.
 */
import { ErrorCode, McpError } from '../core/errors.ts'
import { defineResourceTemplate } from '../core/registry.ts'
import type { Principal } from '../core/types.ts'
import type { CodeAccess } from './code-access.ts'
import type { IndexedFile, RepoState } from './code-index.ts'
import { mimeTypeOf } from './languages.ts'
import { fileUri } from './search.ts'

export const CODE_URI_TEMPLATE = 'mcprag://{repo}/{+path}'
const MAX_COMPLETIONS = 100

const notFound = (uri: string) => new McpError(ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri })

function readableRepo(access: CodeAccess, principal: Principal | undefined, name: string | undefined): RepoState | undefined {
  if (!principal || name === undefined) return undefined
  return access.readable(principal).find((r) => r.config.name === name)
}

export function codeResourceTemplate(access: CodeAccess) {
  return defineResourceTemplate({
    uriTemplate: CODE_URI_TEMPLATE,
    name: 'indexed-file',
    title: 'Indexed source file',
    description: 'A file of an indexed repository, as indexed (the revision search results refer to). A #L10-L20 fragment is informational.',
    complete: {
      repo: (value, { principal }) => (principal ? access.readable(principal).map((r) => r.config.name).filter((n) => n.startsWith(value)) : []),
      path(value, { arguments: args, principal }) {
        const repos = principal ? access.readable(principal).filter((r) => args.repo === undefined || r.config.name === args.repo) : []
        const out: string[] = []
        for (const repo of repos) {
          for (const path of repo.files.keys()) {
            if (!path.startsWith(value)) continue
            out.push(path)
            if (out.length >= MAX_COMPLETIONS) return out.sort()
          }
        }
        return out.sort()
      },
    },
    list(ctx) {
      return access.readable(ctx.principal).flatMap((repo) => [...repo.files.values()].map((f) => listed(f)))
    },
    read(uri, vars, ctx) {
      const repo = readableRepo(access, ctx.principal, vars.repo)
      // Unreadable and absent look the same: a caller learns nothing about repositories above its tier.
      if (!repo) throw notFound(uri)
      const path = (vars.path ?? '').replace(/#.*$/, '')
      const file = repo.files.get(path)
      if (!file) throw notFound(uri)
      const text = repo.store.content(file.id)
      if (text === undefined) throw notFound(uri)
      return [{ uri: fileUri(file), mimeType: mimeTypeOf(file.lang), text, _meta: { revision: access.index!.revision(repo), sha256: file.sha256, lines: file.lines } }]
    },
  })
}

function listed(f: IndexedFile) {
  return { uri: fileUri(f), name: f.path, title: `${f.repo.config.name}: ${f.path}`, mimeType: mimeTypeOf(f.lang), size: f.size }
}
