import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'client/dist/**', 'coverage/**', '.tap/**', 'node_modules/**', 'client/openapi-types.ts']
  }),
  {
    // Code requests run (start-up code such as settings, key loading and route options is left out):
    // on Node 20 (V8 11.3) each property written after a spread in an object literal costs about
    // 1.5 µs (docs/benchmark.md); put named properties first, or use Object.assign.
    files: ['lib/**/*.ts', 'plugins/jwt.ts', 'plugins/sessions.ts', 'plugins/auth.ts', 'plugins/appverify.ts', 'plugins/errors.ts', 'plugins/store/memory/*.ts', 'server-options.ts'],
    ignores: ['lib/keys.ts', 'lib/settings.ts', 'lib/passwords.ts', 'lib/clients.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: 'ObjectExpression > SpreadElement ~ Property',
        message: 'A property after a spread costs about 1.5 µs on Node 20: put named properties first, or use Object.assign (docs/benchmark.md).'
      }]
    }
  }
]
