// OpenAI's `input_audio` content part takes wav or mp3 only.
export function inputAudioFormat(mime: string): "wav" | "mp3" | undefined {
  if (mime === "audio/wav") return "wav";
  if (mime === "audio/mpeg") return "mp3";
  return undefined;
}

export async function inputAudioPart(
  bytes: Buffer,
  mime: string,
): Promise<{ data: string; format: "wav" | "mp3" }> {
  const format = inputAudioFormat(mime);
  if (!format) throw new Error(`${mime} audio must be converted to wav or mp3 for input_audio`);
  return { data: bytes.toString("base64"), format };
}
