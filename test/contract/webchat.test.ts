// The channel contract (test/contract/suite.ts) for the web chat, against the gateway's own API.
import { webchatDriver } from "./drivers/webchat.ts";
import { channelContract } from "./suite.ts";

channelContract(webchatDriver());
