// Optional modules that extend the gateway (ComfyUI target, security boundary …). Each is one entry.

import type { GatewayExtension } from "../gateway/host.ts";
import { securityExtension } from "../security/extension.ts";
import { comfyuiExtension } from "../targets/comfyui/extension.ts";

export const extensionFactories: (() => GatewayExtension)[] = [securityExtension, comfyuiExtension];
