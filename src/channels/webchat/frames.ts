// The frames of the web chat's event stream (GET /api/threads/:id/events), shared by the server that sends them
// and the page that reads them (web/chat.js imports these types through JSDoc). docs/webchat-api.md documents them.
import type { Button } from "../types.ts";

/** An image or file a reply carried. */
export interface FrameMedia {
  mime: string;
  filename?: string;
  caption?: string;
  dataBase64?: string;
}

/** The agent is writing the reply to `eventId`: `text` follows the first `offset` characters (UTF-16 code units). */
export interface DeltaFrame {
  type: "delta";
  eventId: string;
  offset: number;
  text: string;
}

/** A message was delivered to the thread: a finished reply, a command's answer, an error or a notification. */
export interface ReplyFrame {
  type: "reply";
  /** The delivery's idempotency key: the same if a delivery is repeated after a crash. */
  id?: string;
  /** The message this answers, when it answers one (absent for notifications such as job results). */
  eventId?: string;
  /** The stored history row this delivery shows (the `id` in GET /messages), when it has one. */
  messageId?: number;
  text: string;
  kind?: string;
  buttons?: Button[];
  media?: FrameMedia[];
}

/** A file a user sent with a message, by name (its bytes are in the thread's history). */
export interface AttachmentName {
  name: string;
  mime: string;
}

/** A message entered the thread (from this tab, another tab or an API client). */
export interface AcceptedFrame {
  type: "accepted";
  eventId: string;
  text: string;
  attachments?: AttachmentName[];
}

/** A short acknowledgement of a button press ("noted", "This button is no longer valid."); not stored. */
export interface ToastFrame {
  type: "toast";
  text: string;
}

/** The user stopped the answer to `eventId` (POST /stop): it ends here, and its partial text is not kept. */
export interface StoppedFrame {
  type: "stopped";
  eventId: string;
}

/** The history from message `fromId` on was replaced (POST /regenerate, /edit): those messages are gone. */
export interface TruncatedFrame {
  type: "truncated";
  fromId: number;
}

export type Frame = DeltaFrame | ReplyFrame | AcceptedFrame | ToastFrame | StoppedFrame | TruncatedFrame;

/** A stored message as GET /api/threads/:id/messages lists it. */
export interface ApiMessage {
  id: number;
  role: "user" | "assistant" | "system" | "command" | "error";
  content: string;
  author?: string | null;
  eventId?: string | null;
  generation?: number;
  createdAt?: number;
  media?: FrameMedia[];
}

/** A message the gateway took but has not answered yet. */
export interface ApiPending {
  eventId: string;
  text: string;
  attachments?: AttachmentName[];
  receivedAt?: number;
  state?: string;
  lastError?: string | null;
}

export interface ApiMessagesPage {
  messages: ApiMessage[];
  pending: ApiPending[];
  hasMore: boolean;
}

export interface ApiThread {
  id: string;
  title?: string | null;
  lastMessage?: string | null;
}
