// The channel contract suite every built-in channel runs, run against this plugin: what a plugin author does to
// show their channel keeps clawgate's promises (ids, redelivery, signatures, 429, dead letters, chunking, edits).
import { channelContract } from "../../../../test/contract/suite.ts";
import { signedWebhookDriver } from "./contract-driver.ts";

channelContract(signedWebhookDriver());
