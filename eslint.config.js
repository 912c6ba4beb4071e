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
            {
              // Activities are called through proxyActivities, by their type only.
              group: ['**/activities/*'],
              allowTypeImports: true,
              message: 'Workflows call activities through proxyActivities: import their types only.',
            },
            {
              group: ['**/server/*', '**/worker/*', '**/db/*', '**/client/*', '**/config/*', '**/ops/*'],
              message: 'The data flows one way: workflows do not reach back to the processes around them.',
            },
          ],
        },
      ],
    },
  },
  {
    // The pure core: rules only, no I/O, no framework, imported by everything and importing nothing of ours.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'net',
                'http',
                'https',
                'os',
                'child_process',
                'pg',
                '@mikro-orm/*',
                '@temporalio/*',
                'uWebSockets.js',
                'rxjs',
              ],
              message: 'domain/ holds pure rules: no I/O, no framework.',
            },
            {
              group: ['../*', '!../domain/*'],
              message: 'domain/ imports only domain/: everything else depends on it, never the other way.',
            },
          ],
        },
      ],
    },
  },
  {
    // Configuration is read first, by every process: it depends on the rules only.
    files: ['config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/activities/*',
                '**/server/*',
                '**/worker/*',
                '**/workflows/*',
                '**/client/*',
                '**/db/*',
              ],
              message: 'config/ depends on domain/ only.',
            },
          ],
        },
      ],
    },
  },
);
