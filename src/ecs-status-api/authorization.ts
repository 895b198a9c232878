import * as net from 'net';
import { Token } from 'aws-cdk-lib';

/**
 * Who may call an `EcsStatusApi`.
 */
export enum StatusApiAuthorizationType {
  /** Requests signed with AWS Signature Version 4 by a principal allowed `execute-api:Invoke` (`grantInvoke`). */
  IAM = 'IAM',
  /** Anyone from the allowed source addresses, enforced by the API's resource policy. */
  IP_ALLOW_LIST = 'IP_ALLOW_LIST',
  /** Requests with an API key of the API's usage plan in the `x-api-key` header. */
  API_KEY = 'API_KEY',
  /** Anyone on the internet. */
  NONE = 'NONE',
}

/**
 * Who may call an `EcsStatusApi`: IAM (the default), an IP allow list, an API key, or anyone.
 *
 * @example
 * StatusApiAuthorization.ipAllowList(['203.0.113.0/24', '198.51.100.7/32'])
 */
export class StatusApiAuthorization {
  /**
   * Requests signed with AWS Signature Version 4 (`awscurl`, the AWS SDKs, a signing proxy) by a principal with
   * `execute-api:Invoke` on the API, which `grantInvoke()` gives. A browser does not sign requests, so the status
   * page needs a signing proxy in front of it.
   */
  public static iam(): StatusApiAuthorization {
    return new StatusApiAuthorization(StatusApiAuthorizationType.IAM, []);
  }

  /**
   * Anyone whose source address is in `cidrs` (IPv4 or IPv6 addresses or CIDR blocks), enforced by a resource policy
   * that denies every other address. The API is regional and public, so the addresses are the public ones your
   * requests come from (your NAT gateways, VPN or office egress), not private VPC addresses.
   */
  public static ipAllowList(cidrs: string[]): StatusApiAuthorization {
    return new StatusApiAuthorization(StatusApiAuthorizationType.IP_ALLOW_LIST, [...cidrs]);
  }

  /**
   * Requests with an API key in the `x-api-key` header. The construct creates a key (its value is generated: read it
   * with `aws apigateway get-api-key --api-key <id> --include-value`) in a usage plan with the stage's throttle. The
   * status page itself loads without the key and asks for it; the data needs it.
   */
  public static apiKey(): StatusApiAuthorization {
    return new StatusApiAuthorization(StatusApiAuthorizationType.API_KEY, []);
  }

  /** No authorization: anyone on the internet can read what runs in your clusters. Synth warns. */
  public static none(): StatusApiAuthorization {
    return new StatusApiAuthorization(StatusApiAuthorizationType.NONE, []);
  }

  /** Which kind of authorization. */
  public readonly authorizationType: StatusApiAuthorizationType;
  /** The allowed source addresses (`ipAllowList` only; empty otherwise). */
  public readonly allowedCidrs: string[];

  private constructor(authorizationType: StatusApiAuthorizationType, allowedCidrs: string[]) {
    this.authorizationType = authorizationType;
    this.allowedCidrs = allowedCidrs;
  }

  /**
   * What is wrong with this authorization, one problem a line, for the construct's validation.
   *
   * @internal
   */
  public _problems(): string[] {
    if (this.authorizationType !== StatusApiAuthorizationType.IP_ALLOW_LIST) return [];
    if (this.allowedCidrs.length === 0) {
      return ['authorization: StatusApiAuthorization.ipAllowList() got no address; give at least one CIDR block, e.g. 203.0.113.0/24'];
    }
    const bad = this.allowedCidrs.filter((cidr) => !Token.isUnresolved(cidr) && !isCidr(cidr));
    return bad.length > 0
      ? [`authorization: StatusApiAuthorization.ipAllowList() got ${bad.map((b) => JSON.stringify(b)).join(', ')}; give IPv4 or IPv6 addresses or CIDR blocks, e.g. 203.0.113.0/24 or 2001:db8::/32`]
      : [];
  }

  /**
   * The given blocks that only private addresses are in (RFC 1918, RFC 4193, loopback), which a public API never sees,
   * and the blocks that allow every address.
   *
   * @internal
   */
  public _notices(): { privateOnly: string[]; everything: string[] } {
    const literal = this.allowedCidrs.filter((c) => !Token.isUnresolved(c) && isCidr(c));
    return {
      privateOnly: literal.filter(isPrivate),
      everything: literal.filter((c) => /^(0\.0\.0\.0|::)\/0$/.test(c.trim())),
    };
  }
}

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.trim().split('/');
  if (rest.length > 0) return false;
  const version = net.isIP(address);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

function isPrivate(cidr: string): boolean {
  const [address, prefix] = cidr.trim().split('/');
  const bits = prefix === undefined ? (net.isIPv4(address) ? 32 : 128) : Number(prefix);
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number);
    return (a === 10 && bits >= 8) || (a === 172 && b >= 16 && b <= 31 && bits >= 12) || (a === 192 && b === 168 && bits >= 16)
      || (a === 127 && bits >= 8);
  }
  const lower = address.toLowerCase();
  return (/^f[cd]/.test(lower) && bits >= 7) || (lower === '::1' && bits === 128);
}
