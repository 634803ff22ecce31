// The channel contract (test/contract/suite.ts) for KakaoTalk (Open Builder skill) against its fake.
import { kakaoDriver } from "./drivers/kakao.ts";
import { channelContract } from "./suite.ts";

channelContract(kakaoDriver());
