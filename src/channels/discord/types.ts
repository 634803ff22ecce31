// The parts of Discord's wire types clawgate reads (https://discord.com/developers/docs/resources/message).

export interface DcUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

export interface DcAttachment {
  id: string;
  filename: string;
  content_type?: string;
  size: number;
  url: string;
}

export interface DcMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: DcUser;
  content: string;
  mentions?: DcUser[];
  attachments?: DcAttachment[];
  message_reference?: { message_id?: string; channel_id?: string };
  referenced_message?: DcMessage | null;
  webhook_id?: string;
}

export interface DcChannel {
  id: string;
  type: number;
  guild_id?: string;
  parent_id?: string | null;
}

export interface DcInteraction {
  id: string;
  application_id: string;
  type: number;
  token: string;
  channel_id?: string;
  guild_id?: string;
  user?: DcUser;
  member?: { user: DcUser };
  message?: DcMessage;
  data?: { custom_id?: string; component_type?: number };
}

/** Thread channel types: announcement thread, public thread, private thread. */
export const THREAD_TYPES = new Set([10, 11, 12]);
