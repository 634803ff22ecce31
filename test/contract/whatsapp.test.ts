// The channel contract (test/contract/suite.ts) for WhatsApp Cloud against its fake.
import { whatsappDriver } from "./drivers/whatsapp.ts";
import { channelContract } from "./suite.ts";

channelContract(whatsappDriver());
