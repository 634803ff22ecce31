// /admin/api/approvals: the console's (and any admin client's) view of pending approvals and the same decision
// the /approve and /reject chat commands make (ApprovalService.decide: exactly once, the requester is told).

import type { AdminCaller } from "../http/admin-auth.ts";
import { type AdminRouteRegistry, auditNote } from "../http/admin-routes.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError, sendJson } from "../http/respond.ts";
import type { ApprovalService } from "./service.ts";

export function registerApprovalAdminRoutes(admin: AdminRouteRegistry, approvals: ApprovalService) {
  admin.add("GET", "/admin/api/approvals", async (_req, res) => {
    const now = Date.now();
    const pending = (await approvals.store.list("pending")).filter((a) => a.expiresAt > now);
    sendJson(res, 200, {
      ok: true,
      approvals: pending.map((a) => ({
        id: a.id,
        kind: a.kind,
        requestedBy:
          a.requester.senderName && a.requester.senderName !== a.requester.senderId
            ? `${a.requester.senderName} (${a.requester.senderId})`
            : a.requester.senderId,
        channel: a.requester.channel,
        summary: a.summary,
        inputs: (a.payload as { inputs?: unknown }).inputs ?? {},
        createdAt: a.createdAt,
        expiresAt: a.expiresAt,
      })),
    });
  });

  for (const decision of ["approve", "reject"] as const) {
    admin.add(
      "POST",
      `/admin/api/approvals/:id/${decision}`,
      async (_req, res, { params, body, caller }) => {
        const json = readJsonObject(body, { emptyIsObject: true });
        if (!json || (json.reason !== undefined && typeof json.reason !== "string"))
          return sendError(res, 400, 'send {"reason":"…"} or an empty body');
        const existing = await approvals.store.get(params.id!);
        if (!existing) return sendError(res, 404, `no approval ${params.id}`);
        const by = (caller as AdminCaller | undefined)?.who ?? "admin-api";
        const answer = await approvals.decide(existing.id, decision, by, json.reason as string | undefined);
        const after = await approvals.store.get(existing.id);
        auditNote(res, { summary: `${decision} ${existing.id}: ${existing.summary}`.slice(0, 300) });
        // An answer of kind "error" is a decision that did not happen (already decided, expired) or a run that
        // failed after the approval was recorded: the text says which.
        const decidedNow =
          existing.status === "pending" && after?.status !== "pending" && after?.decidedBy === by;
        sendJson(res, answer.kind === "error" && !decidedNow ? 409 : 200, {
          ok: answer.kind !== "error",
          status: after?.status,
          message: answer.text,
          ...(answer.kind === "error" ? { error: answer.text } : {}),
        });
      },
      { bodyLimitBytes: 8 * 1024 },
    );
  }
}
