// The house's layer rules (README, "Project layout"), checked by dependency-cruiser in `npm run lint`
// and `npm test`, and drawn from the same cruise into docs/architecture.md (`npm run docs:layers`).
// A folder is a top-level folder, and every sub-folder of lib/. Imports are read with swc (already
// the jest transform): dependency-cruiser's TypeScript reader does not support TypeScript 7.0.
// https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md

/** A rule every import must keep: `from` never imports `to` (an error in `npm run lint`). */
const forbid = (name, comment, from, to, extra = {}) => ({ name, comment, severity: 'error', ...extra, from, to });

/** Code that ships (the Lambda bundles) or runs the relay for a user (`npm start`). */
const PRODUCTION = '^(handlers|lib|local)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid(
      'no-folder-cycle',
      'No folder-level import cycle: a cycle means a helper lives in the wrong room.',
      { path: '^(handlers|lib|local|scripts|bench|devkit)/' },
      { circular: true },
      { scope: 'folder' },
    ),
    forbid(
      'common-stands-alone',
      'lib/common holds shared helpers and small ports: it imports nothing from the other lib folders.',
      { path: '^lib/common/' },
      { path: '^lib/', pathNot: '^lib/common/' },
    ),
    forbid(
      'config-under-delivery',
      'lib/config reads the environment; the delivery rules a setting must obey live in lib/delivery, which reads its own settings (deliver-config.ts): config never imports delivery.',
      { path: '^lib/config/' },
      { path: '^lib/delivery/' },
    ),
    forbid(
      'runtime-only-from-entry-points',
      'lib/runtime is the composition root: only handlers/ and local/ wire through it; the domain never does.',
      { pathNot: '^(handlers|local|lib/runtime)/' },
      { path: '^lib/runtime/' },
    ),
    forbid(
      'lib-stays-inside',
      'lib/ is the relay itself: it never imports the entry points or the tools around it.',
      { path: '^lib/' },
      { path: '^(handlers|local|scripts|bench|tests|infra)/' },
    ),
    forbid(
      'handlers-only-over-lib',
      'A Lambda entry imports only lib/ (and packages): decode, call the domain, map the result.',
      { path: '^handlers/' },
      { path: '^(handlers|local|scripts|bench|tests|infra)/' },
    ),
    forbid(
      'no-production-import-of-tools',
      'What ships or runs the relay never imports tests, the bench, the operator scripts or the devkit.',
      { path: PRODUCTION },
      { path: '^(tests|bench|scripts|devkit)/' },
    ),
    forbid(
      'devkit-stands-alone',
      'devkit/ is what tests, the bench and the rehearsal share (a fake Squadcast, an AWS wire proxy, seeded randomness): it imports none of them.',
      { path: '^devkit/' },
      { path: '^(tests|bench|scripts|local|handlers)/' },
    ),
    forbid(
      'no-tests-in-tools',
      'Operator commands and the bench never import test code.',
      { path: '^(scripts|bench)/' },
      { path: '^tests/' },
    ),
    forbid(
      'production-not-to-dev-dependency',
      'What ships must not need a devDependency at run time (type-only imports are erased).',
      { path: '^(handlers|lib)/' },
      { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    ),
    forbid('no-unresolvable', 'Every relative import names a file that exists.', {}, { couldNotResolve: true }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    // Package subpaths (@aws-lambda-powertools/parameters/ssm) resolve through their `exports`.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
