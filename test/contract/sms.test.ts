// The channel contract (test/contract/suite.ts) for Twilio SMS against its fake.
import { smsDriver } from "./drivers/sms.ts";
import { channelContract } from "./suite.ts";

channelContract(smsDriver());
