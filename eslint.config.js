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
    // @elysiajs/jwt verifies nothing but the signature unless told to (security.md §0): it is
    // wrapped once, with the strict options, in src/auth/jwt.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/auth/jwt.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@elysiajs/jwt', message: 'Use SessionTokens (src/auth/jwt.ts): it verifies alg, iss, aud, typ and exp.' }] }],
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
