/**
 * Signed chain heads: with an Ed25519 key the operator attests "thread T's chain had link H at
 * seq S" (table audit_heads). Anyone with the public key can then check that the log still reaches
 * S with that link, which no unkeyed chain can show: someone with write access to the database can
 * cut a tail or recompute every hash after an edit, but cannot sign. Keys: PEM, or base64 of the DER
 * (PKCS#8 private, SPKI public), from TWELVE_AUDIT_SIGNING_KEY / TWELVE_AUDIT_PUBLIC_KEY.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditHead } from './types.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** Parses an Ed25519 private key; the error names `variable`. */
export function parseSigningKey(text: string, variable = 'TWELVE_AUDIT_SIGNING_KEY'): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = text.includes('-----BEGIN') ? createPrivateKey(text) : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new Error(`${variable}: not a private key in PEM or base64 PKCS#8 (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${variable}: an Ed25519 key is required, got ${privateKey.asymmetricKeyType ?? 'an unknown type'}`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Parses an Ed25519 public key (or derives it from a private one); the error names `variable`. */
export function parsePublicKey(text: string, variable = 'TWELVE_AUDIT_PUBLIC_KEY'): KeyObject {
  let key: KeyObject;
  try {
    if (text.includes('PRIVATE KEY')) key = createPublicKey(createPrivateKey(text));
    else key = text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch (error) {
    throw new Error(`${variable}: not a public key in PEM or base64 SPKI (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${variable}: an Ed25519 key is required, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  return key;
}

/** A public key's id: the first 16 hex digits of sha256 over its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

/** What is signed: a fixed prefix (no other use of the key can collide), the thread, seq and link. */
export function signedHeadMessage(threadId: string, seq: number, hash: string): Buffer {
  return Buffer.from(`twelve-audit-head\n${threadId}\n${seq}\n${hash}`);
}

export function signHead(key: SigningKey, head: { threadId: string; seq: number; hash: string }, now = new Date()): AuditHead {
  const signature = sign(null, signedHeadMessage(head.threadId, head.seq, head.hash), key.privateKey).toString('base64');
  return { id: randomUUID(), threadId: head.threadId, seq: head.seq, hash: head.hash, signature, keyId: key.keyId, signedAt: now.toISOString() };
}

/** Whether the head's signature is valid under the key it names ('unknown_key': none of `keys`). */
export function checkHead(head: AuditHead, keys: KeyObject[]): 'valid' | 'invalid' | 'unknown_key' {
  const key = keys.find((k) => keyIdOf(k) === head.keyId);
  if (!key) return 'unknown_key';
  try {
    return verify(null, signedHeadMessage(head.threadId, head.seq, head.hash), key, Buffer.from(head.signature, 'base64')) ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}
