import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import boundaries. No import plugin is installed, so the rules below match the import's text,
// written so that no spelling of a path dodges them: a folder is matched as a segment anywhere in
// a relative path ('../server/x.js', './../server/x.js', '../domain/../server/x.js' alike), absolute
// paths are refused, Node's builtins are refused by every name (bare 'crypto' as well as
// 'node:crypto'), and the layers that must not load code at run time refuse import() itself.

/** The repository's top-level folders: the layers these boundaries speak of. */
const layers = readdirSync(dirname(fileURLToPath(import.meta.url)), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== '.git')
  .map((entry) => entry.name);
const allLayersBut = (...kept) => layers.filter((layer) => !kept.includes(layer));
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A pattern for the relative imports that pass through one of `folders`, however spelled. */
const into = (folders, message, more = {}) => ({
  regex: `^\\.\\.?(?:/.*)?/(?:${folders.map(escapeRegex).join('|')})(?:/|$)`,
  message,
  ...more,
});
/** Absolute paths would skip the relative patterns. */
const noAbsolute = {
  regex: '^(?:/|file:)',
  message: 'Import our code by a relative path (the boundaries check those).',
};
/** Every Node builtin, bare ('crypto', 'fs/promises') and prefixed ('node:crypto'). */
const nodeBuiltins = (message) => ({
  paths: builtinModules.map((name) => ({ name, message })),
  pattern: { group: ['node:*'], message },
});

const boundary = (files, { paths = [], patterns, syntax }) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { paths, patterns: [noAbsolute, ...patterns] }],
    ...(syntax ? { 'no-restricted-syntax': ['error', ...syntax] } : {}),
  },
});

/** For the layers that must not load code at run time or reach around the import rules. */
const staticImportsOnly = (layer) => [
  { selector: 'ImportExpression', message: `${layer} does not load code at run time: import it statically.` },
  {
    selector: 'TSImportType',
    message: `${layer}: name types with \`import type\`, which the import boundaries check.`,
  },
  {
    selector: 'CallExpression[callee.name="require"]',
    message: `${layer}: use import, which the boundaries check.`,
  },
];

const workflowBuiltins = nodeBuiltins('Workflows must stay deterministic.');
const domainBuiltins = nodeBuiltins('domain/ holds pure rules: no I/O, no framework.');
/** Packages that do I/O or run only on the server: never in the browser, a workflow or the rules. */
const serverPackages = [
  'pg',
  '@mikro-orm/*',
  '@electric-sql/pglite',
  '@temporalio/*',
  'uWebSockets.js',
  'pino',
  'jose',
  'ws',
  'prom-client',
];
const domainFramework = {
  group: [...serverPackages, 'rxjs'],
  message: 'domain/ holds pure rules: no I/O, no framework.',
};
const webServer =
  'web/ runs in the browser: it does not import the server side (types from server/ only in web/client/protocol-check.ts).';
const webBuiltins = nodeBuiltins(webServer);

/**
 * What web/ may not import. Its files sit two levels down (web/page/, web/client/), so with the
 * paths written plainly (no `.` or `..` after a named folder, which the first pattern refuses),
 * `../../client/` is the Temporal client and `../client/` the browser's own.
 */
const webPatterns = ({ serverTypes = false } = {}) => [
  webBuiltins.pattern,
  { group: [...serverPackages, 'date-holidays'], message: webServer },
  {
    regex: '(?:^\\./\\.\\.?/)|(?:[^/.]/\\.\\.?(?:/|$))',
    message: 'web/: write the path plainly (no `.` or `..` after a folder name), as the boundaries read it.',
  },
  { regex: '^\\.\\./\\.\\./client(?:/|$)', message: webServer },
  ...(serverTypes ? [into(['server'], webServer, { allowTypeImports: true })] : []),
  into(
    [
      ...(serverTypes ? [] : ['server']),
      'activities',
      'worker',
      'workflows',
      'db',
      'config',
      'ops',
      'scripts',
      'bench',
      'test',
      'support',
    ],
    webServer,
  ),
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'web/dist/', '**/.mypy_cache/', '.probes-*/'] },
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
  // Workflow code is replayed: it must not reach the host's clock, zone, network or disk.
  boundary(['workflows/**/*.ts'], {
    paths: workflowBuiltins.paths,
    patterns: [
      workflowBuiltins.pattern,
      {
        group: [
          '@mikro-orm/*',
          'pg',
          'uWebSockets.js',
          'ws',
          'pino',
          'jose',
          // The holiday calendars are read by activities and handed to the workflow as data.
          'date-holidays',
          '@temporalio/client',
          '@temporalio/worker',
          '@temporalio/activity',
          '@temporalio/testing',
          '@electric-sql/pglite',
          'prom-client',
        ],
        message: 'Workflows reach the outside only through activities.',
      },
      // Activities are called through proxyActivities, by their type only.
      into(['activities'], 'Workflows call activities through proxyActivities: import their types only.', {
        allowTypeImports: true,
      }),
      into(
        allLayersBut('workflows', 'domain', 'activities'),
        'The data flows one way: workflows import domain/ (and activity types) only.',
      ),
    ],
    syntax: staticImportsOnly('workflows/'),
  }),
  // The pure core: rules only, no I/O, no framework, imported by everything and importing nothing of ours.
  boundary(['domain/**/*.ts'], {
    paths: domainBuiltins.paths,
    patterns: [
      domainBuiltins.pattern,
      domainFramework,
      {
        // domain/ is flat: './x.js' or '../domain/x.js', with no '..' after that, and nothing else.
        regex: '^(?!(?:\\.|\\.\\./domain)(?:/(?!\\.\\.?(?:/|$))[^/]+)+$)(?:[./]|file:)',
        message: 'domain/ imports only domain/: everything else depends on it, never the other way.',
      },
    ],
    syntax: staticImportsOnly('domain/'),
  }),
  // Configuration is read first, by every process: it depends on the rules only.
  boundary(['config/**/*.ts'], {
    patterns: [into(allLayersBut('config', 'domain'), 'config/ depends on domain/ only.')],
    syntax: staticImportsOnly('config/'),
  }),
  // Which calendars the holiday library knows, loaded lazily in one place (client/known-calendars.ts):
  // BUSINESS_CALENDAR is checked with the same catalog as a user's profile.
  boundary(['config/business-calendar-setting.ts'], {
    patterns: [
      into(
        allLayersBut('config', 'domain', 'client'),
        'config/ depends on domain/ only (and client/known-calendars.ts, the holiday catalog).',
      ),
    ],
    syntax: staticImportsOnly('config/'),
  }),
  // The activities: what the workflows do to the world, through db/ and the Temporal client.
  boundary(['activities/**/*.ts'], {
    patterns: [
      into(
        allLayersBut('activities', 'client', 'config', 'db', 'domain', 'workflows'),
        'activities/ use db/, client/, config/ and domain/ (and workflow messages): never the processes, tests or benchmarks.',
      ),
    ],
    syntax: staticImportsOnly('activities/'),
  }),
  // The delivery server: REST, sockets, LISTEN; it starts workflows through client/ only.
  boundary(['server/**/*.ts'], {
    patterns: [
      into(
        allLayersBut('server', 'client', 'config', 'db', 'domain', 'ops'),
        'server/ uses client/, config/, db/, domain/ and ops/: never activities, the worker, tests or benchmarks.',
      ),
    ],
    syntax: staticImportsOnly('server/'),
  }),
  boundary(['worker/**/*.ts'], {
    patterns: [
      into(
        allLayersBut('worker', 'activities', 'client', 'config', 'db', 'domain', 'ops', 'workflows'),
        'worker/ runs activities and workflows: never the server, tests or benchmarks.',
      ),
    ],
    syntax: staticImportsOnly('worker/'),
  }),
  // The internal port's probe server, shared by the processes.
  boundary(['ops/**/*.ts'], {
    patterns: [into(allLayersBut('ops', 'config', 'domain'), 'ops/ depends on config/ and domain/ only.')],
    syntax: staticImportsOnly('ops/'),
  }),
  // The browser client: its wire types are checked against the server's by one file, types only.
  boundary(['web/**/*.ts'], {
    paths: webBuiltins.paths,
    patterns: webPatterns(),
    syntax: staticImportsOnly('web/'),
  }),
  // A later block replaces the earlier one's rule for its files: this one restates them all.
  boundary(['web/client/protocol-check.ts'], {
    paths: webBuiltins.paths,
    patterns: webPatterns({ serverTypes: true }),
    syntax: staticImportsOnly('web/'),
  }),
  // The database layer sits under the activities and the servers that use it.
  boundary(['db/**/*.ts'], {
    patterns: [
      into(
        allLayersBut('db', 'domain', 'config'),
        'db/ is used by activities/ and server/, never the other way.',
      ),
    ],
    syntax: staticImportsOnly('db/'),
  }),
  // The Temporal client library integrators call: it speaks to workflows, never to the processes.
  boundary(['client/**/*.ts'], {
    patterns: [
      into(
        allLayersBut('client', 'domain', 'workflows'),
        'client/ talks to Temporal only: it imports domain/ and the workflow messages, nothing of the processes.',
      ),
    ],
    syntax: staticImportsOnly('client/'),
  }),
  // The benchmarks share development helpers with the tests through support/, not test/.
  boundary(['bench/**/*.ts'], {
    patterns: [into(['test'], 'bench/ does not import test/: shared helpers live in support/.')],
  }),
  boundary(['support/**/*.ts'], {
    patterns: [
      into(allLayersBut('support'), 'support/ is shared by test/ and bench/: it imports none of ours.'),
    ],
  }),
);
