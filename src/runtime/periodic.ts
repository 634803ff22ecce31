// A background pass that runs at once and then again `intervalMs` after each pass finishes (never two at a
// time, never a backlog): the approval-expiry sweep, the scheduler tick, the ComfyUI job reconciler.
export interface Periodic {
  /** No further pass starts; the returned promise settles when a pass still running has finished. */
  stop(): Promise<void>;
}

/** `pass` handles its own errors: a rejection is not caught here. The timer does not keep the process alive. */
export function runPeriodically(intervalMs: number, pass: () => Promise<void>): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = async () => {
    if (stopped) return;
    running = pass();
    await running;
    if (stopped) return;
    timer = setTimeout(loop, intervalMs);
    timer.unref();
  };
  void loop();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      return running;
    },
  };
}
