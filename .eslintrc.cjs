/* ESLint 8 legacy config: type-aware rules from typescript-eslint over the whole project. */
module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { project: ['./tsconfig.json', './test/tc39/tsconfig.json', './tsconfig.scripts.json'], tsconfigRootDir: __dirname },
  plugins: ['@typescript-eslint'],
  extends: [
    'eslint:recommended',
    'plugin:@typescript-eslint/recommended-type-checked',
  ],
  env: { node: true, es2022: true },
  ignorePatterns: ['dist/', '.build/', 'node_modules/', '*.cjs', 'test/types/fixtures/'],
  rules: {
    'no-console': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    '@typescript-eslint/no-floating-promises': ['error', {
      // node:test's describe/it/before/after return promises the runner itself awaits.
      allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach', 'suite'] }],
    }],
    '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    '@typescript-eslint/no-explicit-any': 'off',
    '@typescript-eslint/no-unsafe-assignment': 'off',
    '@typescript-eslint/no-unsafe-member-access': 'off',
    '@typescript-eslint/no-unsafe-call': 'off',
    '@typescript-eslint/no-unsafe-argument': 'off',
    '@typescript-eslint/no-unsafe-return': 'off',
    '@typescript-eslint/no-unsafe-function-type': 'off',
  },
  overrides: [
    { files: ['test/**', 'examples/**', 'bench/**', 'scripts/**'], rules: { 'no-console': 'off' } },
    // Test fixtures declare async methods without awaits and await decorated sync methods (which return Promises).
    { files: ['test/**'], rules: { '@typescript-eslint/require-await': 'off' } },
    { files: ['scripts/**/*.mjs'], parserOptions: { project: null }, extends: ['plugin:@typescript-eslint/disable-type-checked'] },
  ],
};
