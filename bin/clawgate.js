#!/usr/bin/env node
// Runs the TypeScript CLI directly (Node 24 strips types). `npm start` / `npx clawgate` put Node 24 first.
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `clawgate needs Node.js 24 or newer (this is ${process.version}). Run it through npm (\`npm start\`, \`npx clawgate\`), which uses the Node 24 installed with the project.\n`,
  );
  process.exit(1);
}
const { buildProgram } = await import("../src/cli/main.ts");
await buildProgram().parseAsync(process.argv);
