/**
 * Import rules checked by `npm test` (scripts/check-dependencies.sh). Each rule says why it exists.
 * Type-only imports vanish when TypeScript is stripped, so they cannot form a cycle at run time; they
 * still count for every other rule (importing the container's type is as much a coupling as its value).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycles',
      comment: 'Modules that import each other at run time see half-initialised bindings depending on load order.',
      severity: 'error',
      from: { path: '^(server|web|sdk|mcp)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'container-only-in-entry-points',
      comment: 'The composition root is for entry points and test support; everything else takes narrow dependencies.',
      severity: 'error',
      from: { path: '^server/src/', pathNot: ['^server/src/entrypoints/', '^server/src/cli\\.ts$'] },
      to: { path: '^server/src/container\\.ts$' },
    },
    {
      name: 'modules-through-their-index',
      comment: "A module's files are private; other modules and the rest of the server use what its index.ts exports.",
      severity: 'error',
      from: { path: '^server/src/modules/([^/]+)/' },
      to: { path: '^server/src/modules/[^/]+/', pathNot: ['^server/src/modules/$1/', '^server/src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-modules-through-index',
      comment: 'Code outside the modules (entry points, app, jobs, plugins) reaches a module only through its index.ts.',
      severity: 'error',
      from: { path: '^server/src/', pathNot: '^server/src/modules/' },
      to: { path: '^server/src/modules/[^/]+/', pathNot: '^server/src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'lib-is-framework-free',
      comment: 'lib/ and db/ are leaves: helpers and the database client must not depend on modules, plugins or the app.',
      severity: 'error',
      from: { path: '^server/src/(lib|db|config)/' },
      to: { path: '^server/src/(modules|plugins|jobs|entrypoints|app\\.ts|container\\.ts)' },
    },
    {
      name: 'web-not-server',
      comment: 'The web apps, the SDK and the MCP server talk to the server over HTTP only; they share types through the generated client.',
      severity: 'error',
      from: { path: '^(web|sdk|mcp)/' },
      to: { path: '^server/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency (vite/client is a types-only reference).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^vite/client$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '(^|/)dist/', '\\.astro/'] },
    tsPreCompilationDeps: true,
    // The web apps resolve their "@shared/" alias through their own tsconfig (scripts/check-dependencies.sh cruises them apart).
    tsConfig: { fileName: process.env.DEPCRUISE_TSCONFIG ?? 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
