// An agent URL where nothing listens, and nothing started by a parallel test ever can: port 2 is below the
// ephemeral range every test binds from (port 0), is not on fetch's blocked-port list, and nothing on these
// machines serves it. A port found by binding 0 and releasing it can be taken by another test in between.
export const UNREACHABLE_AGENT_URL = "http://127.0.0.1:2/v1/chat/completions";
