/**
 * @module core/uri-template
 * Matching concrete URIs against RFC 6570 templates, for `resources/read` on templated resources.
 * Supports simple `{var}` (one segment, no `/ ? #`) and reserved `{+var}` (anything) expressions,
 * which is what resource templates use in practice.
 */
export interface UriMatcher {
  readonly variables: string[]
  match(uri: string): Record<string, string> | undefined
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function compileUriTemplate(template: string): UriMatcher {
  const variables: string[] = []
  let pattern = '^'
  let last = 0
  for (const m of template.matchAll(/\{(\+?)([A-Za-z0-9_.]+)\}/g)) {
    pattern += escape(template.slice(last, m.index))
    variables.push(m[2]!)
    pattern += m[1] === '+' ? '(.+?)' : '([^/?#]+)'
    last = m.index + m[0].length
  }
  pattern += escape(template.slice(last)) + '$'
  const re = new RegExp(pattern)
  return {
    variables,
    match(uri) {
      const m = re.exec(uri)
      if (!m) return undefined
      const out: Record<string, string> = {}
      variables.forEach((v, i) => {
        try {
          out[v] = decodeURIComponent(m[i + 1]!)
        } catch {
          out[v] = m[i + 1]!
        }
      })
      return out
    },
  }
}
