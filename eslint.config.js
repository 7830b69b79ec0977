// ESLint (flat config): typescript-eslint's recommended rules, and the dependency rules of the
// architecture (README, "Development") checked by eslint-plugin-boundaries, so that a wrong import
// fails `npm test` instead of waiting for a reviewer.
import { relative } from 'node:path';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * The folders of the tree (boundaries classifies folders; the files at the top of src/, which are
 * the vocabulary, the configuration and the two entry points, get their rules further below).
 */
const ELEMENTS = [
  { type: 'sandbox', pattern: 'src/sandbox' },
  { type: 'launcher', pattern: 'src/launcher' },
  { type: 'http', pattern: 'src/http' },
  { type: 'metrics', pattern: 'src/metrics' },
  { type: 'delivery', pattern: 'src/delivery' },
  { type: 'domains', pattern: 'src/(alerts|subscriptions)' },
  { type: 'slack', pattern: 'src/slack' },
  { type: 'queues', pattern: 'src/(queues|limits)' },
  { type: 'db', pattern: 'src/db' },
  { type: 'lib', pattern: 'src/lib' },
  { type: 'workers', pattern: 'workers' },
];

const allow = (from, to) => ({ from: { element: { type: from } }, allow: { to: { element: { types: { anyOf: to } } } } });

/**
 * Dependencies point one way: http → the domains → db and queues; workers → queues, slack and the
 * domains; the relay never imports the sandbox, and the sandbox knows nothing of the relay.
 */
const POLICIES = [
  allow('lib', ['lib']),
  allow('db', ['db', 'lib']),
  allow('queues', ['queues', 'lib']),
  allow('slack', ['slack', 'queues', 'db', 'lib']),
  allow('domains', ['domains', 'slack', 'queues', 'db', 'lib']),
  allow('delivery', ['delivery', 'domains', 'slack', 'queues', 'db', 'lib']),
  allow('metrics', ['metrics', 'queues', 'db', 'lib']),
  allow('http', ['http', 'metrics', 'domains', 'slack', 'queues', 'db', 'lib']),
  allow('workers', ['workers', 'delivery', 'domains', 'slack', 'queues', 'db', 'lib']),
  allow('launcher', ['launcher', 'lib']),
  allow('sandbox', ['sandbox']),
];

/**
 * The rules boundaries cannot express (files at the top of src/, npm packages): [files, except,
 * forbidden import, why], checked by the small rule below on every import and export-from.
 */
const RESTRICTIONS = [
  [/^(src|workers)\//, /^src\/(http|sandbox)\//, /^express$/, 'Only src/http (and the sandbox) may import Express.'],
  [/^workers\//, null, /(^|\/)(server|http\/.*)\.js$/, 'Workers never load the web app (src/server.ts, src/http).'],
  [/^src\//, /^src\/server\.ts$/, /(^|\/)(server|services)\.js$/, 'Only the entry points wire the services (src/server.ts, workers/worker.ts).'],
  [/^src\/(domain|errors)\.ts$/, null, /^\./, 'The vocabulary (src/domain.ts, src/errors.ts) imports nothing of the relay.'],
  [/^src\/db\/(\w+\/schema|rows)\.ts$/, null, /^(?!\.\.?\/rows\.js$|(\.\.\/)+domain\.js$)\./, 'A schema depends on the rows and the vocabulary only.'],
  [/^(src|workers)\//, /^src\/sandbox\//, /(^|\/)sandbox\//, 'The relay never imports the Slack sandbox (the launcher starts it as a process).'],
];

const architecture = {
  rules: {
    'restricted-imports': {
      meta: { type: 'problem', schema: [] },
      create(context) {
        const file = relative(process.cwd(), context.filename);
        const applicable = RESTRICTIONS.filter(([files, except]) => files.test(file) && !except?.test(file));
        const check = (node) => {
          const source = node.source?.value;
          if (typeof source !== 'string') return;
          for (const [, , forbidden, message] of applicable) if (forbidden.test(source)) context.report({ node, message });
        };
        return { ImportDeclaration: check, ImportExpression: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': ELEMENTS,
      'boundaries/include': ['src/**/*.ts', 'workers/**/*.ts'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: POLICIES }],
    },
  },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    plugins: { architecture },
    rules: { 'architecture/restricted-imports': 'error' },
  },
);
