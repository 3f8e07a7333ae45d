/** The audit trail's records: a signed chain head (the shapes the stores, verify and the export share). */

/**
 * A signed statement "thread T's chain had hash H at seq S" (table audit_heads). With it a cut
 * tail shows: the log must still reach S with the same link H.
 */
export interface AuditHead {
  id: string;
  threadId: string;
  seq: number;
  /** The link of event `seq` (events.hash). */
  hash: string;
  /** Ed25519 signature (base64) over signedHeadMessage(threadId, seq, hash). */
  signature: string;
  /** Fingerprint of the public key that checks it (see signing.ts keyIdOf). */
  keyId: string;
  signedAt: string;
}
