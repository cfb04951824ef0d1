// The house's layer rules (README, "Project layout"), checked by dependency-cruiser in `npm run lint`
// and `npm test`, and drawn from the same cruise into docs/architecture.md (`npm run docs:layers`).
// A folder is a top-level folder, and every sub-folder of lib/. Imports are read with swc (already
// the jest transform): dependency-cruiser's TypeScript reader does not support TypeScript 7.0.
// https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md

/** Code that ships (the Lambda bundles) or runs the relay for a user (`npm start`). */
const PRODUCTION = '^(handlers|lib|local)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'No folder-level import cycle: a cycle means a helper lives in the wrong room.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(handlers|lib|local|scripts|bench|devkit)/' },
      to: { circular: true },
    },
    {
      name: 'common-stands-alone',
      comment: 'lib/common holds shared helpers and small ports: it imports nothing from the other lib folders.',
      severity: 'error',
      from: { path: '^lib/common/' },
      to: { path: '^lib/', pathNot: '^lib/common/' },
    },
    {
      name: 'config-under-delivery',
      comment:
        'lib/config reads the environment; the delivery rules a setting must obey live in lib/delivery, which reads its own settings (deliver-config.ts): config never imports delivery.',
      severity: 'error',
      from: { path: '^lib/config/' },
      to: { path: '^lib/delivery/' },
    },
    {
      name: 'runtime-only-from-entry-points',
      comment: 'lib/runtime is the composition root: only handlers/ and local/ wire through it; the domain never does.',
      severity: 'error',
      from: { pathNot: '^(handlers|local|lib/runtime)/' },
      to: { path: '^lib/runtime/' },
    },
    {
      name: 'lib-stays-inside',
      comment: 'lib/ is the relay itself: it never imports the entry points or the tools around it.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(handlers|local|scripts|bench|tests|infra)/' },
    },
    {
      name: 'handlers-only-over-lib',
      comment: 'A Lambda entry imports only lib/ (and packages): decode, call the domain, map the result.',
      severity: 'error',
      from: { path: '^handlers/' },
      to: { path: '^(handlers|local|scripts|bench|tests|infra)/' },
    },
    {
      name: 'no-production-import-of-tools',
      comment: 'What ships or runs the relay never imports tests, the bench, the operator scripts or the devkit.',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { path: '^(tests|bench|scripts|devkit)/' },
    },
    {
      name: 'devkit-stands-alone',
      comment:
        'devkit/ is what tests, the bench and the rehearsal share (a fake Squadcast, an AWS wire proxy, seeded randomness): it imports none of them.',
      severity: 'error',
      from: { path: '^devkit/' },
      to: { path: '^(tests|bench|scripts|local|handlers)/' },
    },
    {
      name: 'no-tests-in-tools',
      comment: 'Operator commands and the bench never import test code.',
      severity: 'error',
      from: { path: '^(scripts|bench)/' },
      to: { path: '^tests/' },
    },
    {
      name: 'production-not-to-dev-dependency',
      comment: 'What ships must not need a devDependency at run time (type-only imports are erased).',
      severity: 'error',
      from: { path: '^(handlers|lib)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every relative import names a file that exists.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    // Package subpaths (@aws-lambda-powertools/parameters/ssm) resolve through their `exports`.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
