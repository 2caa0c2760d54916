// @ts-check
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'results/', 'bench/out/', 'bench/peers/node_modules/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': [
        'error',
        {
          // Substring checks on media types accept "application/jsonx"; parse the essence instead.
          selector: "CallExpression[callee.property.name='includes'] > Literal[value='application/json']",
          message: 'Parse the media type (see transports/http-guard.ts) instead of substring-matching it.',
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['elysia', 'elysia/*', '@elysiajs/*'], message: 'The protocol core knows no web framework.' },
            { group: ['redis', 'bun', 'bun:*'], message: 'The protocol core knows no runtime or database.' },
            { group: ['../transports/*', '../http/*', '../server.ts', '../config.ts'], message: 'The core must not import its adapters.' },
          ],
        },
      ],
    },
  },
)
