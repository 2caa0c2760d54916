/**
 * @module core/registry
 * The one typed API through which tools, resources and prompts are registered. MCP listing, REST
 * routes, tiers, audit and the OpenAPI page all read from here, so they cannot drift apart.
 */
import type { HandlerContext } from './context.ts'
import { compileSchema, type Validator } from './schema.ts'
import type {
  Annotations,
  CallToolResult,
  GetPromptResult,
  Icon,
  JsonSchema,
  Principal,
  ResourceContents,
  Tier,
  ToolAnnotations,
} from './types.ts'
import { compileUriTemplate, type UriMatcher } from './uri-template.ts'

/** Completion source for a prompt argument or a template variable; `principal` is who asks. */
export type Completer = (
  value: string,
  context: { arguments: Record<string, string>; principal?: Principal },
) => string[] | Promise<string[]>

/** One concrete resource a template lists in `resources/list`. */
export type ListedResource = Pick<ResourceDefinition, 'uri' | 'name' | 'title' | 'description' | 'mimeType' | 'size'>

export interface ToolDefinition<Args = Record<string, unknown>> {
  name: string
  title?: string
  description?: string
  /** JSON Schema (2020-12 by default) for `arguments`. Defaults to an object with no properties. */
  inputSchema?: JsonSchema
  outputSchema?: JsonSchema
  annotations?: ToolAnnotations
  icons?: Icon[]
  /** Who may call it. Defaults to `user`. */
  tier?: Tier
  _meta?: Record<string, unknown>
  handler(args: Args, ctx: HandlerContext): CallToolResult | Promise<CallToolResult>
}

export interface ResourceDefinition {
  uri: string
  name: string
  title?: string
  description?: string
  mimeType?: string
  size?: number
  icons?: Icon[]
  annotations?: Annotations
  read(uri: string, ctx: HandlerContext): ResourceContents[] | Promise<ResourceContents[]>
}

export interface ResourceTemplateDefinition {
  uriTemplate: string
  name: string
  title?: string
  description?: string
  mimeType?: string
  icons?: Icon[]
  annotations?: Annotations
  complete?: Record<string, Completer>
  /** The concrete resources it stands for, as `resources/list` shows them to this caller (many servers' files). */
  list?(ctx: HandlerContext): ListedResource[] | Promise<ListedResource[]>
  read(uri: string, vars: Record<string, string>, ctx: HandlerContext): ResourceContents[] | Promise<ResourceContents[]>
}

export interface PromptArgument {
  name: string
  title?: string
  description?: string
  required?: boolean
  complete?: Completer
}

export interface PromptDefinition {
  name: string
  title?: string
  description?: string
  arguments?: PromptArgument[]
  icons?: Icon[]
  get(args: Record<string, string>, ctx: HandlerContext): GetPromptResult | Promise<GetPromptResult>
}

/** A registered tool with its compiled validators. */
export interface RegisteredTool {
  readonly definition: ToolDefinition
  readonly tier: Tier
  readonly validateInput: Validator
  readonly validateOutput?: Validator
  /** The `tools/list` entry, built once. */
  readonly descriptor: Record<string, unknown>
}

export interface RegisteredTemplate {
  readonly definition: ResourceTemplateDefinition
  readonly matcher: UriMatcher
}

export type ListKind = 'tools' | 'resources' | 'prompts'

/** Identity helpers: they exist so handler argument types are inferred where tools are written. */
export const defineTool = <Args = Record<string, unknown>>(d: ToolDefinition<Args>) => d
export const defineResource = (d: ResourceDefinition) => d
export const defineResourceTemplate = (d: ResourceTemplateDefinition) => d
export const definePrompt = (d: PromptDefinition) => d

/** What a tool name may be (checked at registration; REST routes match paths against it). */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/
const EMPTY_INPUT: JsonSchema = { type: 'object', additionalProperties: false }

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export class Registry {
  readonly #tools = new Map<string, RegisteredTool>()
  readonly #resources = new Map<string, ResourceDefinition>()
  readonly #templates: RegisteredTemplate[] = []
  readonly #prompts = new Map<string, PromptDefinition>()
  readonly #listeners = new Set<(kind: ListKind) => void>()

  /** Called with the list that changed, after every registration or removal. */
  onChange(listener: (kind: ListKind) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  tool<Args>(def: ToolDefinition<Args>): this {
    if (!TOOL_NAME.test(def.name))
      throw new Error(`Tool name "${def.name}" is invalid: use 1-128 characters of A-Z a-z 0-9 _ . -`)
    if (this.#tools.has(def.name)) throw new Error(`Tool "${def.name}" is already registered`)
    const inputSchema = def.inputSchema ?? EMPTY_INPUT
    if (inputSchema.type !== 'object') throw new Error(`Tool "${def.name}": inputSchema must have type "object"`)
    const d = def as unknown as ToolDefinition
    const registered: RegisteredTool = {
      definition: d,
      tier: def.tier ?? 'user',
      validateInput: compileSchema(inputSchema),
      validateOutput: def.outputSchema ? compileSchema(def.outputSchema) : undefined,
      descriptor: strip({
        name: def.name,
        title: def.title,
        description: def.description,
        icons: def.icons,
        inputSchema,
        outputSchema: def.outputSchema,
        annotations: def.annotations,
        _meta: def._meta,
      }),
    }
    this.#tools.set(def.name, registered)
    this.#emit('tools')
    return this
  }

  resource(def: ResourceDefinition): this {
    if (this.#resources.has(def.uri)) throw new Error(`Resource "${def.uri}" is already registered`)
    this.#resources.set(def.uri, def)
    this.#emit('resources')
    return this
  }

  resourceTemplate(def: ResourceTemplateDefinition): this {
    this.#templates.push({ definition: def, matcher: compileUriTemplate(def.uriTemplate) })
    this.#emit('resources')
    return this
  }

  prompt(def: PromptDefinition): this {
    if (this.#prompts.has(def.name)) throw new Error(`Prompt "${def.name}" is already registered`)
    this.#prompts.set(def.name, def)
    this.#emit('prompts')
    return this
  }

  /** Tell listeners a list changed without a registration (a template's listing moved). */
  listChanged(kind: ListKind): void {
    this.#emit(kind)
  }

  removeTool(name: string): boolean {
    const had = this.#tools.delete(name)
    if (had) this.#emit('tools')
    return had
  }

  removeResource(uri: string): boolean {
    const had = this.#resources.delete(uri)
    if (had) this.#emit('resources')
    return had
  }

  removePrompt(name: string): boolean {
    const had = this.#prompts.delete(name)
    if (had) this.#emit('prompts')
    return had
  }

  getTool(name: string): RegisteredTool | undefined {
    return this.#tools.get(name)
  }
  tools(): RegisteredTool[] {
    return [...this.#tools.values()]
  }
  getResource(uri: string): ResourceDefinition | undefined {
    return this.#resources.get(uri)
  }
  resources(): ResourceDefinition[] {
    return [...this.#resources.values()]
  }
  templates(): RegisteredTemplate[] {
    return [...this.#templates]
  }
  /** The first template whose pattern matches `uri`, with its variables. */
  matchTemplate(uri: string): { template: RegisteredTemplate; vars: Record<string, string> } | undefined {
    for (const template of this.#templates) {
      const vars = template.matcher.match(uri)
      if (vars) return { template, vars }
    }
    return undefined
  }
  findTemplate(uriTemplate: string): RegisteredTemplate | undefined {
    return this.#templates.find((t) => t.definition.uriTemplate === uriTemplate)
  }
  getPrompt(name: string): PromptDefinition | undefined {
    return this.#prompts.get(name)
  }
  prompts(): PromptDefinition[] {
    return [...this.#prompts.values()]
  }

  #emit(kind: ListKind): void {
    for (const l of this.#listeners) l(kind)
  }
}

/** The `resources/list` entry for a resource. */
export function resourceDescriptor(r: ResourceDefinition): Record<string, unknown> {
  return strip({
    uri: r.uri,
    name: r.name,
    title: r.title,
    description: r.description,
    mimeType: r.mimeType,
    size: r.size,
    icons: r.icons,
    annotations: r.annotations,
  })
}

/** The `resources/templates/list` entry for a template. */
export function templateDescriptor(t: ResourceTemplateDefinition): Record<string, unknown> {
  return strip({
    uriTemplate: t.uriTemplate,
    name: t.name,
    title: t.title,
    description: t.description,
    mimeType: t.mimeType,
    icons: t.icons,
    annotations: t.annotations,
  })
}

/** The `prompts/list` entry for a prompt. */
export function promptDescriptor(p: PromptDefinition): Record<string, unknown> {
  return strip({
    name: p.name,
    title: p.title,
    description: p.description,
    icons: p.icons,
    arguments: p.arguments?.map((a) => strip({ name: a.name, title: a.title, description: a.description, required: a.required })),
  })
}
