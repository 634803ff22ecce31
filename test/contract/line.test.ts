// The channel contract (test/contract/suite.ts) for LINE against its fake.
import { lineDriver } from "./drivers/line.ts";
import { channelContract } from "./suite.ts";

channelContract(lineDriver());
