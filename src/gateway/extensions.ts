// Optional modules that extend the gateway (ComfyUI target, security boundary …). Each is one entry.
import { securityExtension } from "../security/extension.ts";
import { comfyuiExtension } from "../targets/comfyui/extension.ts";
import type { GatewayExtension } from "./gateway.ts";

export const extensionFactories: (() => GatewayExtension)[] = [securityExtension, comfyuiExtension];
