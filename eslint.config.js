// ESLint: correctness rules and the import boundaries between Carcosa's rooms (docs/architecture.md).
// Formatting is Prettier's job (prettier.config.js), so no style rules here.
import js from '@eslint/js'
import reactHooks from 'eslint-plugin-react-hooks'
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** One `no-restricted-imports` entry per boundary: a regular expression over the import path and why it is refused. */
function boundaries(...rules) {
  return { 'no-restricted-imports': ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }] }
}

const noDatabaseClient = [
  String.raw`(^|/)utils/db\.server(\.ts)?$|(^|/)generated/prisma(/|$)|^@prisma/client(/|$)`,
  'Routes do not touch the database: call a service in app/services/<domain>/.',
]
const noServices = [String.raw`(^~/|^(\.\./)+)services(/|$)`, 'app/utils is infrastructure and never imports app/services.']
const noAppFromStorage = [
  String.raw`^~/|^\.\./(?!\.\./tests/)`,
  'app/storage moves bytes and knows nothing of the rest of the app (only its own files and packages).',
]
const noAppFromPackages = [String.raw`^~/|^(\.\./)+app(/|$)`, 'Packages speak only the public REST and WebSocket API and never import app/.']

export default defineConfig([
  globalIgnores([
    'build/',
    'public/build/',
    'app/generated/',
    '**/node_modules/',
    '**/dist/',
    '.cache/',
    '.carcosa/',
    '.test-results*/',
    'test-results/',
    'playwright-report/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // tsc (noUnusedLocals) already reports unused names; `_`-prefixed ones are deliberate.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Input validation matches control characters on purpose (NUL, C0 codes in names and keys).
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  { files: ['app/routes/**'], rules: boundaries(noDatabaseClient) },
  { files: ['app/utils/**'], rules: boundaries(noServices) },
  { files: ['app/storage/**'], rules: boundaries(noAppFromStorage) },
  { files: ['packages/**'], rules: boundaries(noAppFromPackages) },
])
