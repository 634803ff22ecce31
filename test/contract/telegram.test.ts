// The channel contract (test/contract/suite.ts) for Telegram against its fake, in both receive modes.
import { telegramDriver } from "./drivers/telegram.ts";
import { channelContract } from "./suite.ts";

channelContract(telegramDriver("webhook"));
channelContract(telegramDriver("polling"));
