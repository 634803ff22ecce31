// WeChat Official Account signatures and "safe mode" message encryption. Signatures are SHA-1 over the sorted,
// concatenated parts; the AES envelope is AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the key's
// first 16 bytes, PKCS#7 padding to 32-byte blocks, and plaintext = 16 random bytes + 4-byte big-endian
// length + message + appId.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { safeEqualString } from "../../security/hmac.ts";

const BLOCK = 32;

export function wechatSignature(parts: string[]): string {
  return createHash("sha1")
    .update([...parts].sort().join(""))
    .digest("hex");
}

export function verifyWechatSignature(parts: string[], presented: string | undefined): boolean {
  if (!presented) return false;
  return safeEqualString(wechatSignature(parts), presented.trim().toLowerCase());
}

export function aesKeyFrom(encodingAesKey: string): Buffer {
  const key = Buffer.from(`${encodingAesKey}=`, "base64");
  if (encodingAesKey.length !== 43 || key.length !== 32) {
    throw new Error(
      "encodingAesKey must be the 43-character EncodingAESKey from the WeChat console (it decodes to 32 bytes)",
    );
  }
  return key;
}

export class WechatCryptoError extends Error {}

export function encryptMessage(
  key: Buffer,
  appId: string,
  message: string,
  random = randomBytes(16),
): string {
  const msg = Buffer.from(message, "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const plain = Buffer.concat([random, len, msg, Buffer.from(appId, "utf8")]);
  const pad = BLOCK - (plain.length % BLOCK);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString("base64");
}

/** Decrypts an Encrypt field and checks that it was meant for `appId`. */
export function decryptMessage(key: Buffer, appId: string, encrypted: string): string {
  let plain: Buffer;
  try {
    const data = Buffer.from(encrypted, "base64");
    if (data.length === 0 || data.length % 16 !== 0) throw new Error("bad length");
    const decipher = createDecipheriv("aes-256-cbc", key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new WechatCryptoError("cannot decrypt the message: check encodingAesKey");
  }
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK || pad > plain.length) throw new WechatCryptoError("bad padding");
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new WechatCryptoError("message too short");
  const len = body.readUInt32BE(16);
  if (20 + len > body.length) throw new WechatCryptoError("bad message length");
  const message = body.subarray(20, 20 + len).toString("utf8");
  const from = body.subarray(20 + len).toString("utf8");
  if (!safeEqualString(from, appId)) throw new WechatCryptoError("message is for another appId");
  return message;
}
