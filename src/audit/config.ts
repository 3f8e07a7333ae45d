/**
 * The audit trail's settings from the environment (a block of loadConfig's, kept here):
 *   TWELVE_AUDIT_SIGNING_KEY  Ed25519 private key (PEM or base64 PKCS#8): the runtime signs chain heads
 *   TWELVE_AUDIT_PUBLIC_KEY   Ed25519 public key(s) (PEM or base64 SPKI; several separated by commas
 *                             for base64): what `twelve audit verify` checks heads with (default: the
 *                             signing key's own)
 *   TWELVE_AUDIT_SIGN_EVERY   sign a running thread's head every N events (default 100; finishing always signs)
 */
import type { KeyObject } from 'node:crypto';
import { parsePublicKey, parseSigningKey, type SigningKey } from './signing.js';

export interface AuditConfig {
  signingKey: SigningKey | undefined;
  publicKeys: KeyObject[];
  signEvery: number;
}

export function auditConfigOf(env: NodeJS.ProcessEnv): { config: AuditConfig; problems: string[] } {
  const problems: string[] = [];
  let signingKey: SigningKey | undefined;
  const publicKeys: KeyObject[] = [];
  const signing = env.TWELVE_AUDIT_SIGNING_KEY?.trim();
  if (signing) {
    try {
      signingKey = parseSigningKey(signing);
      publicKeys.push(signingKey.publicKey);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const pub = env.TWELVE_AUDIT_PUBLIC_KEY?.trim();
  if (pub) {
    const parts = pub.includes('-----BEGIN') ? pub.split(/(?=-----BEGIN)/) : pub.split(',');
    for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
      try {
        publicKeys.push(parsePublicKey(part));
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }
  const every = env.TWELVE_AUDIT_SIGN_EVERY?.trim();
  let signEvery = 100;
  if (every) {
    signEvery = Number(every);
    if (!Number.isInteger(signEvery) || signEvery < 1) problems.push(`TWELVE_AUDIT_SIGN_EVERY: must be a positive whole number of events (got "${every}")`);
  }
  return { config: { signingKey, publicKeys, signEvery }, problems };
}
