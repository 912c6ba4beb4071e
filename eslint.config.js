import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // noUncheckedIndexedAccess makes `list[0]!` after a length check the clear way to say it.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Workflow code is replayed: it must not reach the host's clock, zone, network or disk.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'net', 'http', 'https', 'os', 'crypto', 'child_process'],
              message: 'Workflows must stay deterministic.',
            },
            {
              group: ['@mikro-orm/*', 'pg', 'uWebSockets.js', '@temporalio/client', '@temporalio/worker'],
              message: 'Workflows reach the outside only through activities.',
            },
          ],
        },
      ],
    },
  },
);
