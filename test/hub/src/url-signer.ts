import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Presigned URLs, like the S3/CloudFront ones the Hub hands out: the JS client sends no Authorization header on an
 * LFS PUT or on a CDN download, so the URL itself carries the credential (an expiry and an HMAC over its facts).
 */
export class UrlSigner {
  private readonly key = randomBytes(32);
  private readonly ttlSeconds: number;

  constructor(ttlSeconds = 3600) {
    this.ttlSeconds = ttlSeconds;
  }

  private mac(facts: string[], expires: string): string {
    return createHmac("sha256", this.key).update([...facts, expires].join("\n")).digest("hex");
  }

  /** Query parameters to append to a URL so that {@link verify} accepts it for these facts until it expires. */
  sign(facts: string[]): URLSearchParams {
    const expires = String(Math.floor(Date.now() / 1000) + this.ttlSeconds);
    return new URLSearchParams({ Expires: expires, Signature: this.mac(facts, expires) });
  }

  verify(facts: string[], query: URLSearchParams): boolean {
    const expires = query.get("Expires") ?? "";
    const signature = Buffer.from(query.get("Signature") ?? "", "hex");
    const expected = Buffer.from(this.mac(facts, expires), "hex");
    return Number(expires) * 1000 > Date.now() && signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}
