/**
 * Checks the SDK 2.x client must pass in either protocol era (a 2025 session, or 2026-07-28
 * requests), so both era test files assert exactly the same outcomes.
 */
import { expect } from 'bun:test'
import { ResourceNotFoundError, type Client } from '@modelcontextprotocol/client'
import { PNG_BASE64 } from '../../src/fixtures/conformance.ts'

/** Text, binary and templated resources read back; an unknown one is the client's ResourceNotFoundError. */
export async function expectResourcesRead(client: Client): Promise<void> {
  expect((await client.readResource({ uri: 'test://static-text' })).contents).toEqual([
    { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
  ])
  expect((await client.readResource({ uri: 'test://static-binary' })).contents).toEqual([
    { uri: 'test://static-binary', mimeType: 'image/png', blob: PNG_BASE64 },
  ])
  const templated = await client.readResource({ uri: 'test://template/7/data' })
  expect(JSON.parse((templated.contents[0] as { text: string }).text)).toMatchObject({ id: '7' })
  const err = await client.readResource({ uri: 'test://missing' }).then(
    () => undefined,
    (e: unknown) => e,
  )
  // The client rebuilds the error (-32002 in a session, -32602 in 2026-07-28) when its data carries the uri.
  expect(err).toBeInstanceOf(ResourceNotFoundError)
  expect((err as ResourceNotFoundError).uri).toBe('test://missing')
}

/** A prompt with arguments comes back filled in. */
export async function expectPromptWithArguments(client: Client): Promise<void> {
  const prompt = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'one', arg2: 'two' } })
  expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='one', arg2='two'" } }])
}
