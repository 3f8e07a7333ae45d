/**
 * The classifier's non-LLM fallback: keyword rules, used when no model can answer (every
 * model of the chain failed, or none can be called). Deliberately humble: a low confidence,
 * and a reason that names the rule, so a reader of the thread (or a review policy) knows
 * no model judged this email.
 */
import type { labels } from './agent.js';

type Label = (typeof labels)[number];

export function classifyByKeywords(email: string): { label: Label; confidence: number; reason: string } {
  // The rules live inside the function: the release hashes its source, so editing a rule makes a new release.
  // First match wins: spam and locked accounts before the words an ordinary email also uses ("demo", "invoice").
  const rules: Array<{ label: Label; words: RegExp }> = [
    { label: 'spam', words: /\b(unsubscribe|winner|lottery|you have won)\w*/i },
    { label: 'account_access', words: /\b(password|login|log in|sign in|locked|two-factor|2fa)\w*/i },
    { label: 'billing', words: /\b(bill|charge|invoice|refund|payment|receipt|overcharg)\w*/i },
    { label: 'technical_support', words: /\b(error|bug|crash|broken|not working)\w*/i },
    { label: 'sales', words: /\b(pricing|price|quote|demo|upgrade|seats)\w*/i },
  ];
  for (const { label, words } of rules) {
    const match = words.exec(email);
    if (match) return { label, confidence: 0.4, reason: `keyword rule: matched '${match[0].toLowerCase()}'` };
  }
  return { label: 'other', confidence: 0.3, reason: 'keyword rule: no rule matched' };
}
