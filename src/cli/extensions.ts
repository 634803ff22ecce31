// Optional modules that extend the gateway (ComfyUI target, security boundary …). Each is one entry.

import { securityExtension } from "../bridge/extension.ts";
import type { GatewayExtension } from "../gateway/host.ts";
import { comfyuiExtension } from "../targets/comfyui/extension.ts";
import { workspacesExtension } from "../workspaces/extension.ts";

export const extensionFactories: (() => GatewayExtension)[] = [
  securityExtension,
  comfyuiExtension,
  workspacesExtension,
];
