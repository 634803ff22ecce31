// The channel contract (test/contract/suite.ts) for Discord against its fake.
import { discordDriver } from "./drivers/discord.ts";
import { channelContract } from "./suite.ts";

channelContract(discordDriver());
