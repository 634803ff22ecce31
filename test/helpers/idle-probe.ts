// `node --allow-natives-syntax --import ./test/helpers/idle-probe.ts …`: on SIGUSR2, writes to stderr what a test
// asks of a process that has started and gone idle: every built-in module loaded so far (`builtin-loaded <id>`),
// how many Intl.Segmenter were made (`segmenters <n>`; each loads ICU's break rules) and whether V8 optimizes a
// function now (`optimizing yes|no`), then `probe-done`.
let segmenters = 0;
const NativeSegmenter = Intl.Segmenter;
class CountedSegmenter extends NativeSegmenter {
  constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
    super(...args);
    segmenters++;
  }
}
Object.defineProperty(Intl, "Segmenter", { value: CountedSegmenter, writable: true, configurable: true });

process.on("SIGUSR2", () => {
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  let report = "";
  for (const entry of loaded) {
    const m = /^NativeModule (\S+)$/.exec(entry);
    if (m) report += `builtin-loaded ${m[1]}\n`;
  }
  // V8's own test hooks: ask for an optimized compile of a fresh function and read what it got. Bit 4 is
  // "optimized"; with the optimizing compilers off the function stays interpreted.
  const status = new Function(
    "f",
    "%PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3); return %GetOptimizationStatus(f);",
  ) as (f: (x: number) => number) => number;
  const optimized = (status(new Function("x", "return x * 2 + 1;") as (x: number) => number) & 16) !== 0;
  // One asynchronous write: stderr may be a non-blocking pipe, where a synchronous write of this much can fail.
  process.stderr.write(
    `${report}segmenters ${segmenters}\noptimizing ${optimized ? "yes" : "no"}\nprobe-done\n`,
  );
});
