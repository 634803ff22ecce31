#!/usr/bin/env node
// Runs the TypeScript CLI directly (Node 24 strips types). `npm start` / `npx clawgate` put Node 24 first.
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `clawgate needs Node.js 24 or newer (this is ${process.version}). Run it through npm (\`npm start\`, \`npx clawgate\`), which uses the Node 24 installed with the project.\n`,
  );
  process.exit(1);
}
// Keeps the compiled, type-stripped modules between runs (keyed by their content, so an edited file is compiled
// afresh): a start then skips stripping and compiling some 300 files. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
// Starting runs without V8's optimizing compilers, which would otherwise stay resident for code that runs once
// (src/runtime/startup-memory.ts). parseAsync returns once the command has started: for `start`, once the gateway
// is ready and before it handles a message. A start that takes longer than 3 s gets them back then.
const { deferOptimizingCompilers, resumeOptimizingCompilers } = await import(
  "../src/runtime/startup-memory.ts"
);
deferOptimizingCompilers();
const { buildProgram } = await import("../src/cli/main.ts");
await buildProgram().parseAsync(process.argv);
resumeOptimizingCompilers();
