// The channel contract (test/contract/suite.ts) for Slack against its fake.
import { slackDriver } from "./drivers/slack.ts";
import { channelContract } from "./suite.ts";

channelContract(slackDriver());
