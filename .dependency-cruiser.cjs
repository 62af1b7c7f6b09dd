// The house rules (README "Layout"): imports only go down, and the rooms of one floor stay apart.
//   handlers → lambda-runtime → steps → {linkedin, storage} → common
// lambdas/ never imports lib/, local/, bin/ or bench/; lib/ never imports local/. Run by `npm run lint`.
const room = (name) => `^lambdas/${name}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one room; merge them or move what they share down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'common-is-the-floor',
      severity: 'error',
      comment: 'lambdas/common is used by all and uses nothing else of lambdas/.',
      from: { path: room('common') },
      to: { path: '^lambdas/', pathNot: room('common') },
    },
    {
      name: 'linkedin-stays-in-its-room',
      severity: 'error',
      comment: 'lambdas/linkedin speaks to LinkedIn and depends only on lambdas/common.',
      from: { path: room('linkedin') },
      to: { path: '^lambdas/', pathNot: [room('linkedin'), room('common')] },
    },
    {
      name: 'storage-stays-in-its-room',
      severity: 'error',
      comment: 'lambdas/storage is where exports land and depends only on lambdas/common.',
      from: { path: room('storage') },
      to: { path: '^lambdas/', pathNot: [room('storage'), room('common')] },
    },
    {
      name: 'rotation-beside-the-steps',
      severity: 'error',
      comment:
        'lambdas/rotation (the token secret rotation) stands where steps stand, for one handler: it uses linkedin and common only.',
      from: { path: room('rotation') },
      to: { path: '^lambdas/', pathNot: [room('rotation'), room('linkedin'), room('common')] },
    },
    {
      name: 'steps-below-the-runtime',
      severity: 'error',
      comment: 'A step is a pure function of its input and Deps: no Lambda runtime, no handler.',
      from: { path: room('steps') },
      to: { path: ['^lambdas/lambda-runtime[.]ts$', room('handlers')] },
    },
    {
      name: 'runtime-below-the-handlers',
      severity: 'error',
      comment: 'lambda-runtime wires a container; the handlers use it, not the other way round.',
      from: { path: '^lambdas/lambda-runtime[.]ts$' },
      to: { path: room('handlers') },
    },
    {
      name: 'nothing-imports-a-handler',
      severity: 'error',
      comment: 'A handler is an entry point (CDK bundles it); only tests load it.',
      from: { path: '^(lambdas|lib|local|bin|bench)/' },
      to: { path: room('handlers') },
    },
    {
      name: 'lambdas-are-self-contained',
      severity: 'error',
      comment: 'What runs in Lambda imports nothing of the infrastructure, the local runner or the tools.',
      from: { path: '^lambdas/' },
      to: { path: '^(lib|local|bin|bench|test)/' },
    },
    {
      name: 'infrastructure-without-the-local-runner',
      severity: 'error',
      comment: 'lib/ is what deploys; local/ is a stand-in that may use lib/, never the other way round.',
      from: { path: '^lib/' },
      to: { path: '^(local|bin|bench|test)/' },
    },
    {
      name: 'product-without-tests',
      severity: 'error',
      comment: 'Shipped code never imports test support.',
      from: { path: '^(lambdas|lib|local|bin|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import that resolves to nothing (a typo, or an alias missing from package.json "imports").',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(cdk[.]out|node_modules|exports|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
