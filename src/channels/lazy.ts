// A built-in channel whose adapter code (its platform client and that client's libraries) is imported only
// when the configuration enables it: its settings schema stays eager, because the one config schema is
// assembled from every module's settings, but the Discord socket library, the XML parser and the rest are not
// paid for by a gateway that does not use them.
import type { z } from "zod";
import type { ChannelModule } from "./types.ts";

export function lazyChannel<S extends z.ZodType>(
  spec: Omit<ChannelModule<S>, "create" | "load" | "doctor">,
  importModule: () => Promise<ChannelModule<S>>,
): ChannelModule<S> {
  let loaded: ChannelModule<S> | undefined;
  let loading: Promise<void> | undefined;
  const module: ChannelModule<S> = {
    ...spec,
    load() {
      loading ??= importModule().then(
        (m) => {
          loaded = m;
        },
        (err: Error) => {
          loading = undefined;
          throw err;
        },
      );
      return loading;
    },
    create(settings, ctx, account) {
      if (!loaded)
        throw new Error(
          `the ${spec.name} channel's code is not loaded: await its module's load() before create()`,
        );
      return loaded.create(settings, ctx, account);
    },
    // `clawgate doctor` runs without a gateway: the checks load the adapter code themselves.
    async doctor(settings, ctx) {
      await module.load!();
      return loaded!.doctor ? loaded!.doctor(settings, ctx) : [];
    },
  };
  return module;
}
