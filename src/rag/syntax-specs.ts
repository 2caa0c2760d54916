/**
 * @module rag/syntax-specs
 * Per grammar: which syntax nodes define, wrap, call, branch and import. Written against the node
 * types of the `@vscode/tree-sitter-wasm` grammars (TypeScript/TSX, JavaScript, Python, Go).
 */
import type { Node } from 'web-tree-sitter'
import type { ChunkKind, ImportRecord } from './parsed-file.ts'

export interface LanguageSpec {
  /** Node type → what it defines. */
  defs: Record<string, ChunkKind>
  /** Nodes that wrap a definition (`export …`, `@decorator …`). */
  wrappers: Set<string>
  /** Values that make `const x = …` a function. */
  functionValues: Set<string>
  calls: Set<string>
  branches: Set<string>
  /** The binary node type whose `&&`/`||` operators count as decisions. */
  logical: string
  isLogical(node: Node): boolean
  /** Nodes that deepen nesting. */
  nesting: Set<string>
  nameOf(node: Node): string | undefined
  calleeOf(call: Node): string | undefined
  importsOf(node: Node, out: ImportRecord[]): void
  /** Which comments document the definition below them: `/** … *\/` in TypeScript/JavaScript, any in Go. */
  isDocComment(text: string): boolean
  /** Python: the docstring node of a definition. */
  docstring?(node: Node): Node | undefined
  /** Go: exported means capitalised. */
  exportedByName?(name: string): boolean
  /** Go: the receiver type of a method. */
  receiverOf?(node: Node): string | undefined
}

const unquote = (s: string) => s.replace(/^[`'"]|[`'"]$/g, '')

/** The last identifier of a callee expression: `a.b.c(…)` calls `c`. */
function lastName(node: Node | null): string | undefined {
  if (!node) return undefined
  switch (node.type) {
    case 'identifier':
    case 'property_identifier':
    case 'field_identifier':
    case 'type_identifier':
      return node.text
    case 'member_expression':
      return node.childForFieldName('property')?.text
    case 'attribute':
      return node.childForFieldName('attribute')?.text
    case 'selector_expression':
      return node.childForFieldName('field')?.text
    default:
      return undefined
  }
}

const logicalOperator = (ops: string[]) => (node: Node) => ops.includes(node.childForFieldName('operator')?.type ?? node.child(1)?.type ?? '')

const ecmaDefs: Record<string, ChunkKind> = {
  function_declaration: 'function',
  generator_function_declaration: 'function',
  class_declaration: 'class',
  abstract_class_declaration: 'class',
  interface_declaration: 'interface',
  type_alias_declaration: 'type',
  enum_declaration: 'enum',
  lexical_declaration: 'variable',
  variable_declaration: 'variable',
  method_definition: 'method',
}

function ecmaName(node: Node): string | undefined {
  if (node.type === 'lexical_declaration' || node.type === 'variable_declaration') {
    const name = node.namedChildren.find((c) => c.type === 'variable_declarator')?.childForFieldName('name')
    return name?.type === 'identifier' ? name.text : undefined
  }
  return node.childForFieldName('name')?.text
}

function ecmaImports(node: Node, out: ImportRecord[]): void {
  if (node.type !== 'import_statement' && !(node.type === 'export_statement' && node.childForFieldName('source'))) return
  const source = node.childForFieldName('source')
  if (!source) return
  const names: string[] = []
  const collect = (n: Node) => {
    for (const c of n.namedChildren) {
      if (c.type === 'import_specifier' || c.type === 'export_specifier') {
        const name = c.childForFieldName('name')?.text
        if (name) names.push(name)
      } else if (c.type === 'identifier') names.push(c.text)
      else if (c.type === 'namespace_import') names.push('*')
      else if (c.type === 'import_clause' || c.type === 'named_imports' || c.type === 'export_clause') collect(c)
    }
  }
  collect(node)
  out.push({ source: unquote(source.text), names, line: node.startPosition.row + 1 })
}

const ecma: LanguageSpec = {
  defs: ecmaDefs,
  wrappers: new Set(['export_statement']),
  functionValues: new Set(['arrow_function', 'function_expression', 'function', 'generator_function', 'class']),
  calls: new Set(['call_expression', 'new_expression']),
  branches: new Set(['if_statement', 'for_statement', 'for_in_statement', 'while_statement', 'do_statement', 'switch_case', 'catch_clause', 'ternary_expression']),
  logical: 'binary_expression',
  isLogical: logicalOperator(['&&', '||', '??']),
  nesting: new Set(['if_statement', 'for_statement', 'for_in_statement', 'while_statement', 'do_statement', 'switch_statement', 'try_statement']),
  nameOf: ecmaName,
  calleeOf: (call) => lastName(call.childForFieldName('function') ?? call.childForFieldName('constructor')),
  importsOf: ecmaImports,
  isDocComment: (text) => text.startsWith('/**'),
}

function pythonImports(node: Node, out: ImportRecord[]): void {
  const line = node.startPosition.row + 1
  if (node.type === 'import_statement') {
    for (const c of node.namedChildren) {
      const module = c.type === 'aliased_import' ? c.childForFieldName('name') : c
      if (module) out.push({ source: module.text, names: [], line })
    }
  } else if (node.type === 'import_from_statement') {
    const module = node.childForFieldName('module_name')
    if (!module) return
    const names = node.childrenForFieldName('name').map((n) => (n.type === 'aliased_import' ? n.childForFieldName('name')?.text ?? '' : n.text)).filter(Boolean)
    out.push({ source: module.text, names, line })
  }
}

const python: LanguageSpec = {
  defs: { function_definition: 'function', class_definition: 'class' },
  wrappers: new Set(['decorated_definition']),
  functionValues: new Set(),
  calls: new Set(['call']),
  branches: new Set(['if_statement', 'elif_clause', 'for_statement', 'while_statement', 'except_clause', 'conditional_expression', 'case_clause', 'for_in_clause', 'if_clause']),
  logical: 'boolean_operator',
  isLogical: () => true,
  nesting: new Set(['if_statement', 'for_statement', 'while_statement', 'try_statement', 'with_statement', 'match_statement']),
  nameOf: (node) => node.childForFieldName('name')?.text,
  calleeOf: (call) => lastName(call.childForFieldName('function')),
  importsOf: pythonImports,
  isDocComment: () => false,
  docstring(node) {
    const first = node.childForFieldName('body')?.namedChildren[0]
    const s = first?.type === 'expression_statement' ? first.namedChildren[0] : undefined
    return s?.type === 'string' ? first : undefined
  },
  exportedByName: (name) => !name.startsWith('_'),
}

function goImports(node: Node, out: ImportRecord[]): void {
  if (node.type !== 'import_declaration') return
  const specs = (n: Node): Node[] => n.namedChildren.flatMap((c) => (c.type === 'import_spec' ? [c] : c.type === 'import_spec_list' ? specs(c) : []))
  for (const s of specs(node)) {
    const path = s.childForFieldName('path')
    if (path) out.push({ source: unquote(path.text), names: [s.childForFieldName('name')?.text ?? '*'], line: s.startPosition.row + 1 })
  }
}

const go: LanguageSpec = {
  defs: { function_declaration: 'function', method_declaration: 'method', type_declaration: 'type' },
  wrappers: new Set(),
  functionValues: new Set(),
  calls: new Set(['call_expression']),
  branches: new Set(['if_statement', 'for_statement', 'expression_case', 'type_case', 'communication_case']),
  logical: 'binary_expression',
  isLogical: logicalOperator(['&&', '||']),
  nesting: new Set(['if_statement', 'for_statement', 'expression_switch_statement', 'type_switch_statement', 'select_statement']),
  nameOf(node) {
    if (node.type === 'type_declaration') return node.namedChildren.find((c) => c.type === 'type_spec' || c.type === 'type_alias')?.childForFieldName('name')?.text
    return node.childForFieldName('name')?.text
  },
  calleeOf: (call) => lastName(call.childForFieldName('function')),
  importsOf: goImports,
  isDocComment: (text) => text.startsWith('//'),
  exportedByName: (name) => /^[A-Z]/.test(name),
  receiverOf(node) {
    if (node.type !== 'method_declaration') return undefined
    const param = node.childForFieldName('receiver')?.namedChildren[0]
    const type = param?.childForFieldName('type')
    const base = type?.type === 'pointer_type' ? type.namedChildren[0] : type
    return base?.type === 'generic_type' ? base.childForFieldName('type')?.text : base?.text
  },
}

export const SPECS: Record<string, LanguageSpec> = { typescript: ecma, tsx: ecma, javascript: ecma, python, go }
