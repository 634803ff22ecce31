// Optional modules that extend the gateway (ComfyUI target, security boundary …). Each is one entry.

import { securityExtension } from "../bridge/extension.ts";
import type { GatewayExtension } from "../gateway/host.ts";
import { comfyuiExtension } from "../targets/comfyui/extension.ts";

export const extensionFactories: (() => GatewayExtension)[] = [securityExtension, comfyuiExtension];
