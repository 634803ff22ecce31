// The channel contract (test/contract/suite.ts) for WeChat Official Accounts against its fake.
import { wechatDriver } from "./drivers/wechat.ts";
import { channelContract } from "./suite.ts";

channelContract(wechatDriver());
