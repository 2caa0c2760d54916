/**
 * @module rag/languages
 * Which language a file is, from its name, and what the parser needs to know about each one: the
 * grammar file shipped in `@vscode/tree-sitter-wasm`, and the syntax node types that define,
 * import, call and branch. Files of other text languages are indexed as line windows.
 */

/** Languages parsed with a real grammar; everything else indexed is `text`-like (see `LANGUAGES`). */
export type ParsedLanguage = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go'

export interface LanguageInfo {
  id: string
  /** Grammar file name in `@vscode/tree-sitter-wasm/wasm/`, for parsed languages. */
  grammar?: string
  mimeType: string
  /** Names a caller may use for it (`lang:ts`, `language: "py"`). */
  aliases: string[]
}

const info = (id: string, grammar: string | undefined, mimeType: string, aliases: string[]): LanguageInfo => ({ id, grammar, mimeType, aliases })

/** Every language the index knows, keyed by id. */
export const LANGUAGES: Record<string, LanguageInfo> = {
  typescript: info('typescript', 'tree-sitter-typescript.wasm', 'text/x-typescript', ['ts', 'mts', 'cts']),
  tsx: info('tsx', 'tree-sitter-tsx.wasm', 'text/x-typescript', []),
  javascript: info('javascript', 'tree-sitter-javascript.wasm', 'text/javascript', ['js', 'jsx', 'mjs', 'cjs', 'node']),
  python: info('python', 'tree-sitter-python.wasm', 'text/x-python', ['py', 'python3', 'pyi']),
  go: info('go', 'tree-sitter-go.wasm', 'text/x-go', ['golang']),
  rust: info('rust', undefined, 'text/x-rust', ['rs']),
  java: info('java', undefined, 'text/x-java', []),
  c: info('c', undefined, 'text/x-c', ['h']),
  cpp: info('cpp', undefined, 'text/x-c++', ['c++', 'cc', 'hpp']),
  ruby: info('ruby', undefined, 'text/x-ruby', ['rb']),
  shell: info('shell', undefined, 'text/x-shellscript', ['sh', 'bash']),
  markdown: info('markdown', undefined, 'text/markdown', ['md']),
  json: info('json', undefined, 'application/json', []),
  yaml: info('yaml', undefined, 'text/yaml', ['yml']),
  toml: info('toml', undefined, 'text/x-toml', []),
  sql: info('sql', undefined, 'text/x-sql', []),
  html: info('html', undefined, 'text/html', ['htm']),
  css: info('css', undefined, 'text/css', ['scss', 'less']),
  text: info('text', undefined, 'text/plain', ['txt']),
}

const BY_EXTENSION: Record<string, string> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx',
  js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  py: 'python', pyi: 'python', go: 'go', rs: 'rust', java: 'java', kt: 'java',
  c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', cxx: 'cpp', hpp: 'cpp', rb: 'ruby',
  sh: 'shell', bash: 'shell', zsh: 'shell', md: 'markdown', mdx: 'markdown', rst: 'text', txt: 'text',
  json: 'json', yaml: 'yaml', yml: 'yaml', toml: 'toml', sql: 'sql', html: 'html', htm: 'html',
  css: 'css', scss: 'css', less: 'css', vue: 'html', svelte: 'html',
}
const BY_NAME: Record<string, string> = { Dockerfile: 'shell', Makefile: 'shell', README: 'text', LICENSE: 'text' }

/** The language of a repository-relative path, or undefined when the file is not indexed as code or text. */
export function languageOf(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1)
  if (name.endsWith('.d.ts')) return 'typescript'
  const dot = name.lastIndexOf('.')
  if (dot <= 0) return BY_NAME[name]
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()]
}

/** A language id from what a caller typed (`ts`, `TypeScript`, `.py`), or undefined. */
export function normalizeLanguage(raw: string): string | undefined {
  const v = raw.trim().toLowerCase().replace(/^\./, '')
  if (LANGUAGES[v]) return v
  for (const l of Object.values(LANGUAGES)) if (l.aliases.includes(v)) return l.id
  return BY_EXTENSION[v]
}

/** Languages whose search filter also matches another (a `typescript` filter includes `.tsx`). */
export function languageFamily(id: string): string[] {
  if (id === 'typescript') return ['typescript', 'tsx']
  return [id]
}

export const isParsed = (lang: string): lang is ParsedLanguage => LANGUAGES[lang]?.grammar !== undefined

export const mimeTypeOf = (lang: string) => LANGUAGES[lang]?.mimeType ?? 'text/plain'
