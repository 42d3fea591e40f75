#!/usr/bin/env node
// Entry point for `npx vlalab`. The CLI is TypeScript run by Node's type stripping (Node >= 22.18),
// which the `node` devDependency provides as Node 24 on machines that ship an older Node.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `vlalab: error: Node ${process.versions.node} is too old (need >= 22.18 for TypeScript type stripping); ` +
      'run it through npm (`npx vlalab` or `npm run vlalab`) so the pinned Node 24 is used, or install Node 24.',
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
