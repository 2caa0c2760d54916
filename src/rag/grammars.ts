/**
 * @module rag/grammars
 * Loads web-tree-sitter and the grammars shipped as `.wasm` in `@vscode/tree-sitter-wasm`, each
 * once, on first use. One parser per language per thread (parsers are not shared across workers).
 */
import { dirname, join } from 'node:path'
import { Language, Parser } from 'web-tree-sitter'
import { LANGUAGES } from './languages.ts'

let ready: Promise<void> | undefined
const parsers = new Map<string, Promise<Parser | undefined>>()
const grammarDir = () => join(dirname(Bun.resolveSync('@vscode/tree-sitter-wasm/package.json', import.meta.dir)), 'wasm')

/** A parser for `lang`, or undefined when the language has no grammar. */
export function parserFor(lang: string): Promise<Parser | undefined> {
  let p = parsers.get(lang)
  if (!p) {
    p = load(lang)
    parsers.set(lang, p)
  }
  return p
}

async function load(lang: string): Promise<Parser | undefined> {
  const grammar = LANGUAGES[lang]?.grammar
  if (!grammar) return undefined
  ready ??= Parser.init()
  await ready
  const language = await Language.load(join(grammarDir(), grammar))
  const parser = new Parser()
  parser.setLanguage(language)
  return parser
}
